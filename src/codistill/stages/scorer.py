"""SODA's optional scoring model: a small model fine-tuned on the judge's annotations, used in
place of the (large, slow) judge from the second cycle on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from codistill.config import SFT, Examine
from codistill.evaluate.judge import JUDGE_SAMPLING, judge_request, parse_judgment
from codistill.models.base import Generator, Request
from codistill.records import Answer, Problem
from codistill.stages.examine import verdict_line
from codistill.stages.stats import ScorerCheck, ScorerStats


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


def split_rows(rows: list[dict[str, Any]], share: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, held-out): a fixed share of the annotations, chosen by a hash of the row id."""
    from codistill.stages.teach import stable_fraction

    held = [r for r in rows if stable_fraction("scorer-holdout", r["id"]) < share]
    return [r for r in rows if r not in held], held


def validate_scorer(scorer: Generator, held_out: list[dict[str, Any]]) -> ScorerCheck:
    """Grade the held-out annotations' requests with the scorer and compare with the judge's grades."""
    if not held_out:
        return ScorerCheck(annotations=0, parsed=0)
    requests = [Request(messages=tuple(dict(m) for m in row["prompt"])) for row in held_out]
    truths = [parse_judgment(row["completion"][0]["content"]).score for row in held_out]
    grades = [parse_judgment(g.text).score for g in scorer.generate(requests, JUDGE_SAMPLING)]
    diffs = [abs(g - t) for g, t in zip(grades, truths, strict=True) if g is not None and t is not None]
    n = len(held_out)
    return ScorerCheck(annotations=n, parsed=len(diffs), exact=sum(d < 0.5 for d in diffs) / n,
                      within_one=sum(d <= 1 for d in diffs) / n,
                      mae=sum(diffs) / len(diffs) if diffs else None)


def fit_scorer(base: Path | str, train: list[dict[str, Any]], held_out: list[dict[str, Any]],
               folder: Path, settings: SFT, examine: Examine, load: Callable[[str], Generator], *,
               seed: int = 0, device: str = "auto") -> tuple[ScorerStats, Path]:
    """Keep the annotations as datasets, train the scorer on `train`, check it on `held_out`;
    the scorer stage's stats (`used`: whether it clears examine.scorer_min_* and may grade) and
    the scorer's model folder."""
    from codistill.train import write_rows

    write_rows(train, folder / "annotations-train.jsonl")
    write_rows(held_out, folder / "annotations-heldout.jsonl")
    model_dir = train_scorer(base, train, folder / "sft", settings, seed=seed, device=device)
    scorer = load(str(model_dir))
    try:
        check = validate_scorer(scorer, held_out)
    finally:
        scorer.close()
    used = check.passes(examine.scorer_min_validation, examine.scorer_min_within_one)
    return ScorerStats(annotations=len(train) + len(held_out), trained_on=len(train), validation=check,
                       used=used), model_dir
