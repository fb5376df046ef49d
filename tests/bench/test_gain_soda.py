"""The SODA arm's question file: resumed when it holds the same questions, refused otherwise."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from gain_soda import write_questions  # noqa: E402

from codistill.records import Problem, Solution, Taught  # noqa: E402


def _taught(pid: str) -> Taught:
    problem = Problem(id=pid, question=f"Return {pid}.", entry_point="f", tests="assert f() == 1",
                      reference="def f():\n    return 1")
    return Taught(problem=problem, split="sft", kept=True, solutions=[Solution(
        problem_id=pid, kind="correct", code="def f():\n    return 1", status="passed", kept=True)])


def test_questions_are_written_without_references_and_kept_only_when_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "soda" / "questions.jsonl"
    write_questions([_taught("a"), _taught("b")], path)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"] and all(r["reference"] is None for r in rows)
    write_questions([_taught("a"), _taught("b")], path)  # the same questions: resumes
    assert path.read_text().count("\n") == 2
    with pytest.raises(SystemExit, match="other questions") as refused:
        write_questions([_taught("a"), _taught("c")], path)
    assert str(path.parent) in str(refused.value)
