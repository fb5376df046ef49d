"""The gain benchmark's SODA arm: one full `codistill run` cycle on the gain's training questions.

The cycle asks the teacher afresh (full question, `teach.reference_fallback` off), keeps what the
sandbox confirms (correct answers pass, faulty attempts and AST mutations fail), trains SFT on its
SFT share and DPO on (correct, faulty) pairs of the rest, then examines the student and writes the
next cycle's questions, exactly as `codistill run` does. Training settings are the other arms'.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codistill.config import RunConfig
from codistill.jsonl import Appender, iter_json
from codistill.records import Taught
from codistill.stages.stats import TeachStats, TrainStats, stats_of


def soda_config(name: str, folder: Path, questions: Path, *, seed: int, lr: float, epochs: float,
                batch: int, accum: int, freeze: int, dtype: str, cache: Path | None,
                docstrings: bool = True) -> RunConfig:
    """One SODA cycle over `questions`, with the gain benchmark's training settings."""
    return RunConfig.model_validate({
        "name": name, "output_dir": str(folder), "seed": seed, "cycles": 1,
        "cache": str(cache) if cache else None,
        "models": {"dtype": dtype, "batch_size": 16},
        "data": {"seeds": [str(questions)], "languages": ["python"]},
        "teach": {"reference_fallback": False},
        "train": {"restated_docstrings": docstrings,
                  "sft": {"lr": lr, "epochs": epochs, "batch_size": batch, "grad_accum": accum,
                          "max_length": 768, "freeze_layers": freeze},
                  # DPO as the sft+dpo arm trains it (SODA's beta).
                  "dpo": {"lr": 5e-6, "beta": 0.1, "epochs": 1, "batch_size": 2, "grad_accum": 2,
                          "max_length": 768}},
        # The arm is evaluated afterwards like every other arm (dev set and all of HumanEval).
        "eval": {"before": False, "benchmarks": []},
        "sandbox": {"timeout_s": 10},
        # One cycle: the next cycle's questions would train nothing measured here.
        "curriculum": {"new_questions": 0},
    })


def write_questions(train: list[Taught], path: Path) -> None:
    """The training questions with their settled tests, as a problems JSONL for `data.seeds`.

    An earlier attempt's file is kept (the run's stages resume on it) only when it holds these
    same questions: the questions under --out can change under the same tag.
    """
    # No reference: the teacher's answers are the data, nothing else is (fallback is off).
    rows = [t.problem.model_copy(update={"reference": None}).model_dump(mode="json") for t in train]
    if path.is_file():
        if [row for _, row in iter_json(path)] != rows:
            raise SystemExit(f"{path.parent} was started on other questions (the questions under --out "
                             "changed since); remove that folder to run the SODA arm afresh")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with Appender(path) as out:
        for row in rows:
            out.write(row)


def run_soda(cfg: RunConfig) -> dict[str, Any]:
    """Run (or resume) the cycle; return the trained model and its data figures."""
    from codistill.stages.cycle import run_cycles

    stages = run_cycles(cfg)
    teach = stats_of(stages["cycle-1/teach"], TeachStats)
    train = stats_of(stages["cycle-1/train"], TrainStats)
    assert teach is not None and train is not None, "run_cycles returns finished stages"
    runs = {k: run for k in ("sft", "dpo") if (run := getattr(train, k)) is not None}
    return {"model_dir": Path(stages["cycle-1/train"]["model"]), "sft_rows": train.sft_rows,
            "dpo_rows": train.dpo_rows, "steps": {k: run.steps for k, run in runs.items()},
            "sft_loss": runs["sft"].loss if "sft" in runs else None,
            "teach": teach.model_dump(exclude={"seconds", "cache"}),
            "seconds": {key: (entry.get("stats") or {}).get("seconds") for key, entry in stages.items()}}

