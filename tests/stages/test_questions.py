"""Growing verified questions: written, screened by execution and agreement, resumable."""

from __future__ import annotations

import json
from pathlib import Path

from codistill.config import Teach
from codistill.data.synth import stub_to_problem
from codistill.evaluate.decontam import Decontaminator
from codistill.jsonl import Appender, iter_json
from codistill.models.base import Sampling
from codistill.models.fake import FakeGenerator, prompt_text
from codistill.sandbox import Limits
from codistill.stages.questions import grow_questions, screened
from codistill.stages.teach import teach_stage

LIMITS = Limits(timeout_s=5)
SAMPLING = Sampling(temperature=0.8, max_new_tokens=64)

GOOD = '''```python
def {name}(xs: list[int]) -> int:
    """Return the sum of the squares of the {what}; an empty list gives 0."""
    return sum(x * x for x in xs)

assert {name}([1, 2]) == 5
assert {name}([]) == 0
```'''
WRONG_EXAMPLE = GOOD.replace("== 5", "== 6")  # the writer's own function contradicts its example
TWIN = GOOD  # same name and description as an earlier question
BENCH = '''```python
def add(x: int, y: int) -> int:
    """Add two numbers x and y
    >>> add(2, 3)
    5
    >>> add(5, 7)
    12
    """
    return x + y
```'''


def _scripted(replies: list[str]) -> FakeGenerator:
    calls = iter(replies)
    return FakeGenerator(lambda request, sampling, index: next(calls))


def _rows(path: Path) -> list[dict]:
    return [row for _, row in iter_json(path)]


def test_questions_are_screened_then_solved_independently(tmp_path: Path) -> None:
    replies = [GOOD.format(name="sum_squares", what="numbers"),
               WRONG_EXAMPLE.format(name="sum_sq2", what="values"),
               TWIN.format(name="sum_squares", what="items"), "no code", BENCH]
    writer = _scripted(replies)
    # A benchmark task the teacher reproduced almost word for word.
    bench = [stub_to_problem(BENCH, "HumanEval/53").model_copy(update={"source": "humaneval"})]
    out = tmp_path / "questions.jsonl"
    with Appender(out) as sink:
        stats = grow_questions(writer, 5, seed=0, sampling=SAMPLING, limits=LIMITS, out=sink,
                               decontaminator=Decontaminator(problems=bench), batch_size=2)
    status = {r["slot_id"]: r["status"] for r in _rows(out)}
    assert status == {"synth-0-0": "screened", "synth-0-1": "screened",
                      "synth-0-2": "duplicate", "synth-0-3": "no_code_block",
                      "synth-0-4": "benchmark_overlap"}
    assert stats.counts["screened"] == 2
    # The writer's own function is run too; its verdict is recorded, not required.
    writer_passes = {r["slot_id"]: r["problem"]["meta"]["writer_passes"] for r in _rows(out)
                     if r["status"] == "screened"}
    assert writer_passes == {"synth-0-0": True, "synth-0-1": False}
    # The teach stage asks again, showing only the signature and docstring, and keeps the
    # question only when that independent answer passes the writer's examples too.
    todo = screened(_rows(out))
    solver = FakeGenerator({
        "sum_squares": "```python\ndef sum_squares(xs):\n    return sum(x*x for x in xs)\n```",
        "sum_sq2": "```python\ndef sum_sq2(xs):\n    return sum(x*x for x in xs)\n```"})
    taught, _ = teach_stage(todo, solver, Teach(faulty=False, mutation_share=0.0), limits=LIMITS, seed=0)
    assert taught[0].kept and taught[0].correct().origin == "teacher"
    # sum_sq2's examples contradict a correct answer: no independent agreement, not kept.
    assert not taught[1].kept
    asked = prompt_text(solver.requests[0])
    assert "def sum_squares(xs: list[int]) -> int:" in asked and "return sum" not in asked


def test_a_rerun_resumes_without_asking_again(tmp_path: Path) -> None:
    out = tmp_path / "questions.jsonl"
    first = _scripted([GOOD.format(name=f"f{i}", what=f"numbers {i}") for i in range(2)])
    with Appender(out) as sink:
        grow_questions(first, 2, seed=0, sampling=SAMPLING, limits=LIMITS, out=sink, batch_size=2)
    again = _scripted([GOOD.format(name="g2", what="odd ones")])
    with Appender(out) as sink:
        stats = grow_questions(again, 3, seed=0, sampling=SAMPLING, limits=LIMITS, out=sink,
                               previous=_rows(out), batch_size=2)
    assert len(again.requests) == 1  # only slot 2 was new
    assert [r["slot_id"] for r in _rows(out)] == ["synth-0-0", "synth-0-1", "synth-0-2"]
    assert stats.counts == {"screened": 1}
    assert json.dumps(_rows(out)[2]["problem"]["entry_point"]) == '"g2"'
