"""AKD's adversary: problems aimed at the student's failures, kept only when the student fails them."""

from __future__ import annotations

import re

import pytest

from codistill.jsonl import Appender, iter_json, read_records
from codistill.models.base import Request, Sampling
from codistill.models.fake import FakeGenerator, count_tokens, prompt_text
from codistill.stages.adversary import adversary_stage, failure_text, fault_class
from codistill.stages.context import StageContext
from codistill.stages.curriculum import Evolved

from .helpers_curriculum import GOOD, GOOD_2, LIMITS, answer, parent, reply, settings

SUM_EVEN = reply(
    "sum_even", "returns the sum of the even numbers in the list",
    "def check(candidate):\n    assert candidate([1, 2, 4]) == 6\n    assert candidate([]) == 0\n"
    "    assert candidate([-2, 3]) == -2\n",
    "def sum_even(items):\n    return sum(x for x in items if x % 2 == 0)\n")
TEACHER = {1: GOOD, 2: GOOD_2, 3: SUM_EVEN}
WRONG_LONGEST = "def longest_word(items):\n    return items[-1] if items else ''\n"
STUDENT = {  # by the function the student is asked for
    "count_negatives": "```python\ndef count_negatives(items):\n    return len([x for x in items if x < 0])\n```",
    "longest_word": f"Here you go:\n```python\n{WRONG_LONGEST}```",
    "sum_even": "```python\nimport quantumflux_array_lib\n\ndef sum_even(items):\n    return 0\n```",
}


def teacher() -> FakeGenerator:
    def write(request: Request, sampling: Sampling, index: int) -> str:
        return TEACHER[int(re.search(r"PARENT-(\d+)", prompt_text(request)).group(1))]

    return FakeGenerator(write, name="teacher")


def student() -> FakeGenerator:
    def solve(request: Request, sampling: Sampling, index: int) -> str:
        assert sampling.greedy  # the student is screened as it is examined
        return next(code for name, code in STUDENT.items() if f"def {name}(" in prompt_text(request))

    return FakeGenerator(solve, name="student")


def inputs():  # noqa: ANN201
    parents = {p.id: p for p in (parent(i) for i in range(4))}
    answers = [
        answer("seed/p0", passed=True, score=6.0),  # solved well: not a target
        answer("seed/p1", passed=False, code="def f1(x):\n    return x - 1\n",
               failed_test="assert candidate(1) == 2", message="AssertionError: assert 0 == 2"),
        answer("seed/p2", passed=False, status="runtime_error", code="def f2(x):\n    return y\n",
               message="NameError: name 'y' is not defined"),
        answer("seed/p3", passed=True, score=1.0, code="def f3(x):\n    return x+3\n"),
    ]
    return parents, answers


def run(tmp_path, **kw):  # noqa: ANN001, ANN003, ANN201
    parents, answers = inputs()
    t, s = teacher(), student()
    with Appender(tmp_path / "adversary.jsonl") as out:
        done = kw.pop("done", frozenset())
        previous = [row for _, row in iter_json(tmp_path / "adversary.jsonl")] if done else []
        ctx = StageContext(limits=LIMITS, seed=1, out=out, done=done, previous=previous)
        result = adversary_stage(parents, answers, t, s, settings(3), ctx, cycle=1,
                                 pool=list(parents.values()), **kw)
    return result, t, s


def test_keeps_only_verified_problems_the_student_fails(tmp_path) -> None:  # noqa: ANN001
    result, t, s = run(tmp_path)
    assert result.counts == {"generated": 3, "kept": 1, "unparseable": 0, "contaminated": 0,
                             "reference_fails": 0, "vacuous_tests": 0, "duplicate": 0,
                             "environment_error": 1, "student_passes": 1, "tests_pruned": 0}
    [kept] = result.problems
    assert kept.entry_point == "longest_word" and kept.parent == "seed/p2"
    assert "rejected" not in kept.meta  # the answer is the record's, not the question's
    assert kept.meta["reference_solution_source"] == "teacher"
    assert kept.meta["student_status"] == "failed" and kept.meta["mode"] == "adversarial"
    assert kept.meta["fault"] == "name"
    assert kept.reference.startswith("def longest_word(items):")
    assert result.bucket_sizes == {"easy": 1, "medium": 0, "hard": 3, "excluded": 0}
    records = read_records(tmp_path / "adversary.jsonl", Evolved)
    assert result.tokens == sum(r.tokens for r in records)
    # A screened slot pays for the teacher's reply and the student's answer.
    kept_record = next(r for r in records if r.kept)
    assert kept_record.student_answer == WRONG_LONGEST and kept_record.rejected() == (kept.id, WRONG_LONGEST)
    assert kept_record.tokens == count_tokens(GOOD_2) + count_tokens(STUDENT["longest_word"])
    assert {r.reason for r in records} == {"", "student_passes", "environment_error"}
    assert len(s.requests) == 3 and len(t.requests) == 3


def test_the_teacher_sees_the_wrong_code_and_what_went_wrong(tmp_path) -> None:  # noqa: ANN001
    _, t, _ = run(tmp_path)
    texts = {int(re.search(r"PARENT-(\d+)", prompt_text(r)).group(1)): prompt_text(r) for r in t.requests}
    assert set(texts) == {1, 2, 3}  # the passing, well-judged question is no target
    assert "return x - 1" in texts[1] and "failing test: assert candidate(1) == 2" in texts[1]
    assert "NameError: name 'y' is not defined" in texts[2] and "(name:" in texts[2]
    assert "reviewer scored the answer 1/6" in texts[3]


def test_resume_skips_finished_slots(tmp_path) -> None:  # noqa: ANN001
    first, _, _ = run(tmp_path)
    done = {r.slot_id for r in read_records(tmp_path / "adversary.jsonl", Evolved)}
    again, t, s = run(tmp_path, done=done)
    assert t.requests == [] and s.requests == []
    assert again.counts == first.counts and [p.id for p in again.problems] == [p.id for p in first.problems]


@pytest.mark.parametrize(("status", "message", "fault"), [
    ("compile_error", "SyntaxError: invalid syntax", "syntax"),
    ("compile_error", "error: cannot find symbol total", "name"),
    ("compile_error", "error: incompatible types: String cannot be converted to int", "type"),
    ("timeout", "", "timeout"),
    ("runtime_error", "NameError: name 'y' is not defined", "name"),
    ("runtime_error", "TypeError: unsupported operand type(s)", "type"),
    ("failed", "AssertionError", "logic"),
    ("runtime_error", "IndexError: list index out of range", "logic"),
])
def test_fault_class(status: str, message: str, fault: str) -> None:
    assert fault_class(answer("q", passed=False, status=status, message=message)) == fault


def test_failure_text() -> None:
    a = answer("q", passed=False, failed_test="assert f(2) == 4", message="AssertionError")
    assert failure_text(a) == "status failed; failing test: assert f(2) == 4; message: AssertionError"
    assert failure_text(answer("q", passed=True, score=1.5)).startswith(
        "the tests passed, but a reviewer scored the answer 1.5/6.")


def test_records_of_older_runs_give_their_rejected_answer_back() -> None:
    # Runs made before `student_answer` kept the student's answer in the question's meta.
    old = {"slot_id": "s", "parent_id": "p", "bucket": "hard", "mode": "adversarial", "kept": True,
           "problem": {"id": "q", "question": "?", "meta": {"rejected": "def f(): pass", "fault": "name"}}}
    record = Evolved.model_validate(old)
    assert record.rejected() == ("q", "def f(): pass") and record.problem.meta == {"fault": "name"}
