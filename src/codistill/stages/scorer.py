"""SODA's optional scoring model: a small model fine-tuned on the judge's annotations, used in
place of the (large, slow) judge from the second cycle on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codistill.config import SFT, Examine
from codistill.evaluate.judge import judge_request
from codistill.records import Answer, Problem
from codistill.stages.examine import verdict_line


def scorer_rows(problems: dict[str, Problem], answers: list[Answer],
                settings: Examine | None = None) -> list[dict[str, Any]]:
    """SFT rows: the judge's request for each answer (as the judge was asked) -> its parsed reply."""
    settings = settings or Examine()
    rows = []
    for a in answers:
        problem = problems.get(a.problem_id)
        if problem is None or a.judge_score is None or not a.judge_raw.strip():
            continue  # only judgments that parsed teach the scorer the rubric's format
        request = judge_request(problem, a.code, verdict_line(a, settings) or None)
        rows.append({"id": f"score#{a.problem_id}",
                     "prompt": [dict(m) for m in request.messages or ()],
                     "completion": [{"role": "assistant", "content": a.judge_raw.strip()}]})
    return rows


def train_scorer(base: Path | str, rows: list[dict[str, Any]], output_dir: Path, settings: SFT, *,
                 seed: int = 0, device: str = "auto") -> Path:
    """Fine-tune `base` on judge annotations; return the scorer's model folder."""
    from codistill.train import train_sft

    # A judge request holds the task, the code and the rubric: give it room so the graded reply
    # (the only part with a loss) is never truncated away.
    roomy = settings.model_copy(update={"max_length": max(settings.max_length, 2048)})
    return train_sft(base, rows, output_dir, roomy, seed=seed, device=device).model_dir
