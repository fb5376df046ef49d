"""Where a run's questions come from, and how verified solutions become training rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codistill.config import RunConfig
from codistill.records import Problem, Taught


def load_seed_pool(config: RunConfig) -> list[Problem]:
    """The first cycle's questions: the packaged bank and/or the user's files, decontaminated.

    A source is `bank`, a JSONL file of problems (with tests), or an instruction-only set
    (a JSONL/JSON file or a hub dataset name) whose tests the teacher writes.
    """
    from codistill.data.seeds import load_instructions, load_problems, load_seed_bank
    from codistill.stages.evolve_screen import benchmark_index

    data = config.data
    pool: list[Problem] = []
    for source in data.seeds:
        if source in ("synth", "grounded"):
            continue  # written by the teacher in the run's questions stage (CycleRunner.questions)
        if source == "bank":
            pool += load_seed_bank(data.languages, limit_per_language=data.limit_per_language,
                                   seed=config.seed)
        elif _looks_like_problems(source):
            pool += load_problems(source, skip_bad=data.skip_bad_records)
        else:
            pool += load_instructions(source, language=data.languages[0],
                                      limit=data.limit_per_language)
    seen: set[str] = set()
    unique = [p for p in pool if not (p.id in seen or seen.add(p.id))]  # type: ignore[func-returns-value]
    kept, _dropped = benchmark_index(benchmarks=tuple(data.decontaminate_against)).filter(unique)
    return kept


def _looks_like_problems(source: str) -> bool:
    """True for a local JSONL whose first record has Problem's required fields."""
    import json

    path = Path(source)
    if not path.is_file():
        return False
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                try:
                    first = json.loads(line)
                except ValueError:
                    return True  # let the strict loader report the bad line
                return isinstance(first, dict) and "id" in first and "question" in first
    return False


def build_rows(taught: list[Taught], *, no_fault_learning: bool = False, docstrings: bool = True,
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """SFT rows from correct solutions, DPO rows from (correct, faulty) pairs.

    SODA splits questions 8:2: the SFT share trains on the correct solution, the DPO share on
    (correct, faulty) pairs. A DPO-share question with no verified faulty solution, and every
    question under the no-fault-learning ablation, goes to SFT instead, so no verified solution is
    wasted. An adversarial (AKD) question also pairs the teacher's solution against the student's
    own wrong answer (`meta["rejected"]`). `docstrings=False` leaves out of every answer the
    docstrings that repeat the question (`train.restated_docstrings`).
    """
    from codistill.train import dpo_rows, sft_rows

    pairs: list[tuple[Problem, str]] = []
    triples: list[tuple[Problem, str, str]] = []
    for t in taught:
        correct = t.correct()
        if not t.kept or correct is None:
            continue
        faulty = [] if no_fault_learning else t.faulty()
        rejected = t.problem.meta.get("rejected")
        if t.split == "sft" or not faulty:
            pairs.append((t.problem, correct.code))
        else:
            triples += [(t.problem, correct.code, f.code) for f in faulty]
        if rejected and not no_fault_learning:
            triples.append((t.problem, correct.code, rejected))
    return sft_rows(pairs, docstrings=docstrings), dpo_rows(triples, docstrings=docstrings)
