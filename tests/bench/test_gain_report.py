"""The gain report: seed means paired with the untrained student, answers set beside the teacher's,
and rows that outlive the scored answers they were computed from."""

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from gain_report import phase_report  # noqa: E402

from codistill.evaluate.results import EvalResult, TaskResult  # noqa: E402


def _eval(folder: Path, statuses: list[str]) -> None:
    """An evaluation of 4 tasks: its scores and its samples file."""
    tasks = [TaskResult(f"t{i}", 1, int(s == "passed"), [s]) for i, s in enumerate(statuses)]
    EvalResult("humaneval", "m", 1, {"pass@1": sum(t.correct for t in tasks) / 4}, tasks, {}).save(folder)
    (folder / "samples.jsonl").write_text("".join(json.dumps({"task_id": f"t{i}", "status": s}) + "\n"
                                                  for i, s in enumerate(statuses)))


def _report(out: Path) -> str:
    phase_report(argparse.Namespace(out=str(out), results=None))
    return (out / "results" / "summary.md").read_text()


def test_means_and_the_teacher_columns_and_rows_kept_after_the_answers_are_gone(tmp_path: Path) -> None:
    _eval(tmp_path / "eval" / "base-float32" / "humaneval", ["passed", "failed", "failed", "runtime_error"])
    _eval(tmp_path / "eval" / "teacher-greedy" / "humaneval", ["passed", "passed", "passed", "failed"])
    (tmp_path / "results").mkdir()
    for seed, statuses in ((0, ["passed", "passed", "failed", "failed"]),
                           (1, ["failed", "passed", "passed", "passed"])):
        tag = f"sft-rows10-seed{seed}-float32"
        _eval(tmp_path / "eval" / tag / "humaneval", statuses)
        (tmp_path / "results" / f"{tag}.json").write_text(json.dumps({
            "arm": "sft", "seed": seed, "sft_rows": 10, "student_dtype": "float32",
            "humaneval": {"before": 0.25, "after": 0.5 + 0.25 * seed, "won": 1 + 2 * seed, "lost": seed,
                          "p": 0.5, "ci": [-0.1, 0.2], "tasks": 4},
            "dev": {"before": 0.0, "after": 0.5, "tasks": 2}}))
    text = _report(tmp_path)
    # t1 gains 1.0, t2 0.5 and t3 0.5; t0 loses 0.5: the mean of the two seeds wins 3 and loses 1.
    mean = "| sft-float32 | 10 | 2 | 1 -> 2.5 (2, 3) | 3 / 1 |"
    assert mean in text
    # Seed 1 passes t3, which the teacher fails, and misses t0, which the teacher passes.
    assert "| sft-rows10-seed1-float32 | 3 | 1 | 0 | 0 | 0 | 2 of 3 | 1 |" in text
    assert "| before training (float32) | 1 | 2 | 0 | 1 | 0 | 1 of 1 | 2 |" in text
    # The answers of an old run are gone (not kept in the store): its rows stay as computed.
    shutil.rmtree(tmp_path / "eval" / "sft-rows10-seed1-float32")
    again = _report(tmp_path)
    assert mean in again and "| sft-rows10-seed1-float32 | 3 | 1 | 0 | 0 | 0 | 2 of 3 | 1 |" in again
    assert again == text
