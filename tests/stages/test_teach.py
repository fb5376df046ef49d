"""Stage I: teacher solutions are kept only when the sandbox agrees with what they claim to be."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from codistill.config import Teach
from codistill.jsonl import Appender, read_records
from codistill.models.base import Request, Sampling
from codistill.models.fake import FakeGenerator, prompt_text
from codistill.records import Problem, Taught
from codistill.sandbox import Limits
from codistill.stages.context import StageContext
from codistill.stages.teach import assign_splits, teach_stage, teach_stats

LIMITS = Limits(timeout_s=5)
CTX = StageContext(limits=LIMITS)


def _problem(pid: str, name: str, body_ok: str, tests: str, reference: str | None = None) -> Problem:
    return Problem(id=pid, question=f"Write {name}.", entry_point=name,
                   prompt=f"def {name}(x: int) -> int:\n    \"\"\"{pid}\"\"\"\n", tests=tests,
                   reference=reference, meta={"ok": body_ok})


DOUBLE = _problem("p/double", "double", "return x * 2",
                  "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(-3) == -6\n")
SQUARE = _problem("p/square", "square", "return x * x",
                  "def check(candidate):\n    assert candidate(3) == 9\n    assert candidate(0) == 0\n",
                  reference="def square(x: int) -> int:\n    return x * x\n")
INC = _problem("p/inc", "inc", "return x + 1", "")
DEC = _problem("p/dec", "dec", "return x - 1", "")

# What the scripted teacher writes for each question.
CORRECT = {
    "p/double": "def double(x: int) -> int:\n    return x * 2\n",
    "p/square": "def square(x: int) -> int:\n    return x + x\n",  # wrong: reference saves it
    "p/inc": "def inc(x: int) -> int:\n    return x + 1\n",
    "p/dec": "def dec(x: int) -> int:\n    return x - 1\n",
}
FAULTY = {
    "p/double": "def double(x: int) -> int:\n    return x + 2\n",  # fails -6: kept
    "p/square": "def square(x: int) -> int:\n    return x ** 2\n",  # passes: not a fault
    "p/inc": "def inc(x: int) -> int:\n    return x\n",
    "p/dec": "def dec(x: int) -> int:\n    return x\n",
}
TESTS = {
    "p/inc": "def check(candidate):\n    assert candidate(1) == 2\n",
    "p/dec": "def check(candidate):\n    assert candidate(1) == 5\n",  # wrong tests: question dropped
}


def _teacher_reply(request: Request, sampling: Sampling, index: int) -> str:
    text = prompt_text(request)
    pid = next(p for p in CORRECT if p in text)
    if text.startswith("Write tests"):
        return f"Here are tests:\n```python\n{TESTS[pid]}```\n"
    if "contains a" in text or "contains an" in text:
        return f"```python\n{FAULTY[pid]}```"
    return f"Sure!\n```python\n{CORRECT[pid]}```\nThis works."


def test_teach_keeps_only_what_the_sandbox_confirms(tmp_path: Path) -> None:
    teacher = FakeGenerator(_teacher_reply)
    out = tmp_path / "teach.jsonl"
    started = time.perf_counter()
    with Appender(out) as sink:
        results, stats = teach_stage([DOUBLE, SQUARE, INC, DEC], teacher, Teach(mutation_share=1.0),
                                     CTX.replace(out=sink), fallback_to_reference=True)
    assert 0 < stats.seconds <= time.perf_counter() - started  # the stage's own wall time
    by_id = {t.problem.id: t for t in results}
    # double: teacher's correct passes, its faulty fails, and a mutant was made and verified.
    double = by_id["p/double"]
    assert double.kept and double.correct().origin == "teacher"
    faulty = double.faulty()
    assert any(f.origin == "teacher" and f.status == "failed" for f in faulty)
    assert any(f.origin.startswith("mutation:") for f in double.solutions if f.kind == "faulty")
    # square: teacher is wrong, the shipped reference is verified and used instead;
    # the teacher's "faulty" x ** 2 passes the tests, so it is not kept as a fault.
    square = by_id["p/square"]
    assert square.kept and square.correct().origin == "reference"
    # ... and the record still holds what the teacher wrote, its verdict and why it was dropped.
    own = [s for s in square.solutions if s.kind == "correct" and s.origin == "teacher"]
    assert len(own) == 1 and not own[0].kept and own[0].status == "failed"
    assert "x + x" in own[0].code and own[0].reason.startswith("teacher solution failed")
    teacher_faulty = [s for s in square.solutions if s.kind == "faulty" and s.origin == "teacher"]
    assert teacher_faulty and not teacher_faulty[0].kept
    assert "not a fault" in teacher_faulty[0].reason
    # inc: no tests shipped; the teacher's tests pass its own solution, so they are kept.
    inc = by_id["p/inc"]
    assert inc.kept and inc.problem.meta["tests_by"] == "teacher" and "candidate(1) == 2" in inc.problem.tests
    # dec: the teacher's tests contradict its own solution: correctness cannot be established.
    dec = by_id["p/dec"]
    assert not dec.kept and "teacher-written tests" in dec.reason
    assert stats.counts["questions_kept"] == 3 and stats.counts["questions_dropped"] == 1
    assert stats.counts["reference_used"] == 1 and stats.counts["tests_written"] == 2
    assert sum(stats.fault_types.values()) == sum(len(t.faulty()) for t in results)
    # What the verdict shows is recorded next to what was asked; asked-but-not-shown is a miss.
    own_double = next(f for f in faulty if f.origin == "teacher")
    assert own_double.observed_fault == "logic"  # x + 2 fails an assertion
    assert teacher_faulty[0].observed_fault == ""  # x ** 2 passes: no fault at all
    ran = [s for t in results for s in t.solutions if s.kind == "faulty" and s.origin == "teacher" and s.status]
    assert stats.counts.get("fault_hits", 0) + stats.counts.get("fault_misses", 0) == len(ran) > 0
    assert stats.fault_matrix[teacher_faulty[0].fault_type].get("none", 0) >= 1
    assert sum(n for row in stats.fault_matrix.values() for n in row.values()) == len(ran)
    assert [t.problem.id for t in read_records(out, Taught)] == [t.problem.id for t in results]


def test_resume_skips_finished_questions(tmp_path: Path) -> None:
    teacher = FakeGenerator(_teacher_reply)
    teach_stage([DOUBLE], teacher, Teach(), CTX)
    calls = len(teacher.requests)
    results, _ = teach_stage([DOUBLE, INC], teacher, Teach(), CTX.replace(done={"p/double"}))
    assert [t.problem.id for t in results] == ["p/inc"]
    assert not any("p/double" in prompt_text(r) for r in teacher.requests[calls:])


class Stop(Exception):
    """Stands for a kill between two batches."""


def test_a_resumed_stage_writes_and_counts_what_one_pass_would(tmp_path: Path) -> None:
    pool = [q.model_copy(update={"id": q.id + copy, "prompt": q.prompt.replace(q.id, q.id + copy)})
            for copy in ("", "-b") for q in (DOUBLE, SQUARE, INC, DEC)]
    settings = Teach(mutation_share=1.0)
    common = dict(batch_size=3, fallback_to_reference=True)
    whole = tmp_path / "whole.jsonl"
    with Appender(whole) as sink:
        _, one_pass = teach_stage(pool, FakeGenerator(_teacher_reply), settings, CTX.replace(out=sink),
                                  **common)

    def stop(_: int) -> None:
        raise Stop

    parts = tmp_path / "parts.jsonl"
    with Appender(parts) as sink, pytest.raises(Stop):  # stopped after its first batch
        teach_stage(pool, FakeGenerator(_teacher_reply), settings, CTX.replace(out=sink, progress=stop),
                    **common)
    done = {t.problem.id for t in read_records(parts, Taught)}
    assert len(done) == 3
    with Appender(parts) as sink:
        teach_stage(pool, FakeGenerator(_teacher_reply), settings, CTX.replace(out=sink, done=done),
                    **common)
    # The same lines in the same order (training rows follow it), and the same counts, teacher
    # tokens included (the test-writing ones are kept with the question).
    assert parts.read_text() == whole.read_text()
    assert teach_stats(read_records(parts, Taught)) == one_pass.model_copy(update={"seconds": 0.0})
    assert one_pass.teacher_tokens > 0 and one_pass.counts["tests_written"] == 4


def test_splits_are_seeded_and_exact() -> None:
    problems = [Problem(id=f"q{i}", question="q") for i in range(50)]
    a = assign_splits(problems, 0.8, seed=1)
    assert list(a.values()).count("sft") == 40
    assert a == assign_splits(list(reversed(problems)), 0.8, seed=1)
    assert a != assign_splits(problems, 0.8, seed=2)


def test_faulty_disabled_and_no_mutations() -> None:
    teacher = FakeGenerator(_teacher_reply)
    results, stats = teach_stage([DOUBLE], teacher, Teach(faulty=False, mutation_share=0.0), CTX)
    assert [s.kind for s in results[0].solutions] == ["correct"]
    assert not any("Rewrite" in prompt_text(r) for r in teacher.requests)


def test_reference_fallback_is_off_by_default() -> None:
    teacher = FakeGenerator(_teacher_reply)
    results, stats = teach_stage([SQUARE], teacher, Teach(mutation_share=0.0), CTX)
    square = results[0]
    assert not square.kept and square.reason == "no verified correct solution"
    assert [s.origin for s in square.solutions if s.kind == "correct"] == ["teacher"]
    assert "reference_used" not in stats.counts and stats.counts["correct_dropped"] == 1


def test_teacher_sees_the_question_text_the_student_prompt_leaves_out() -> None:
    teacher = FakeGenerator(_teacher_reply)
    hidden = SQUARE.model_copy(update={"question": "Square x; keep == 0 means mask everything."})
    teach_stage([hidden], teacher, Teach(faulty=False, mutation_share=0.0), CTX)
    assert "keep == 0 means mask everything" in prompt_text(teacher.requests[0])
    assert "def square(x: int) -> int:" in prompt_text(teacher.requests[0])
