"""Growing verified questions: written, screened, answered afresh, settled by agreement; resumable."""

from __future__ import annotations

from pathlib import Path

from codistill.data.synth import draft_question
from codistill.evaluate.decontam import Decontaminator
from codistill.jsonl import Appender, iter_json
from codistill.models.base import Request, Sampling
from codistill.models.fake import FakeGenerator, prompt_text
from codistill.sandbox import Limits
from codistill.stages.context import StageContext
from codistill.stages.questions import grow_questions, verified

LIMITS = Limits(timeout_s=5)
SAMPLING = Sampling(temperature=0.8, max_new_tokens=64)

WRITE = '''```python
def {name}(xs: list[int]) -> int:
    """Return the sum of the squares of the {what}; an empty list gives 0."""
    return {body}

assert {name}([1, 2]) == 5
assert {name}([]) == 0
assert {name}([3]) == 99
```'''
SQUARES = "sum(x * x for x in xs)"
BENCH = '''```python
def add(x: int, y: int) -> int:
    """Add two numbers x and y
    >>> add(2, 3)
    5
    >>> add(5, 7)
    12
    >>> add(1, 1)
    2
    """
    return x + y
```'''


def _rows(path: Path) -> list[dict]:
    return [row for _, row in iter_json(path)]


class Teacher(FakeGenerator):
    """Writes the scripted questions in order; answers each by function name, greedy or sampled."""

    def __init__(self, questions: list[str], answers: dict[str, tuple[str, str]]) -> None:
        writes = iter(questions)

        def reply(request: Request, sampling: Sampling, index: int) -> str:
            text = prompt_text(request)
            if "programming exercise" in text:
                return next(writes)
            name = next(n for n in answers if f"def {n}(" in text)
            greedy, sampled = answers[name]
            body = greedy if sampling.temperature == 0 else sampled
            return f"```python\ndef {name}(xs):\n    return {body}\n```"

        super().__init__(reply)


def test_questions_are_settled_by_independent_agreement(tmp_path: Path) -> None:
    questions = [
        WRITE.format(name="sum_squares", what="numbers", body=SQUARES),  # claims 99, runs agree: kept
        WRITE.format(name="sum_sq2", what="values", body=SQUARES),  # greedy answer wrong
        WRITE.format(name="sum_sq3", what="items", body="0"),  # nobody agrees
        WRITE.format(name="sum_squares", what="entries", body=SQUARES),  # a repeated name
        "no code", BENCH]
    teacher = Teacher(questions, {
        "sum_squares": (SQUARES, SQUARES), "sum_sq2": ("len(xs)", SQUARES),
        "sum_sq3": ("max(xs)", "min(xs + [7])"), "add": ("0", "0")})
    bench = [draft_question(BENCH, "HumanEval/53")]  # a benchmark task reproduced almost verbatim
    out = tmp_path / "questions.jsonl"
    with Appender(out) as sink:
        _, stats = grow_questions(teacher, 6, SAMPLING, StageContext(limits=LIMITS, out=sink),
                                  decontaminator=Decontaminator(problems=bench), batch_size=3)
    status = {r["slot_id"]: r["status"] for r in _rows(out)}
    assert status == {"synth-0-0": "verified", "synth-0-1": "verified", "synth-0-2": "disagree",
                      "synth-0-3": "duplicate", "synth-0-4": "no_code_block",
                      "synth-0-5": "benchmark_overlap"}
    assert stats.counts["verified"] == 2
    kept = dict((p.entry_point, (p, answer)) for p, answer in verified(_rows(out)))
    squares, answer = kept["sum_squares"]
    assert "candidate([3]) == 9" in squares.tests and "99" not in squares.tests + squares.prompt
    assert ">>> sum_squares([1, 2])\n    5" in squares.prompt and answer.startswith("def sum_squares(xs)")
    # sum_sq2: the writer and the greedy answer (len) disagree; the sampled second answer sides
    # with the writer, and it is the answer kept (the one in the student's request format).
    q2, answer2 = kept["sum_sq2"]
    assert "candidate([1, 2]) == 5" in q2.tests
    assert answer2 == "def sum_sq2(xs):\n    return sum(x * x for x in xs)\n"
    # The fresh answers saw only the signature and description, never the writer's body or values.
    asked = [prompt_text(r) for r in teacher.requests if "def sum_squares(xs: list[int])" in prompt_text(r)]
    assert asked and all("x * x" not in a and "99" not in a for a in asked)


def test_a_rerun_resumes_without_asking_again(tmp_path: Path) -> None:
    out = tmp_path / "questions.jsonl"
    answers = {f"f{i}": (SQUARES, SQUARES) for i in range(3)}
    first = Teacher([WRITE.format(name=f"f{i}", what=f"numbers {i}", body=SQUARES) for i in range(2)],
                    answers)
    with Appender(out) as sink:
        grow_questions(first, 2, SAMPLING, StageContext(limits=LIMITS, out=sink), batch_size=2)
    again = Teacher([WRITE.format(name="f2", what="odd ones", body=SQUARES)], answers)
    with Appender(out) as sink:
        _, stats = grow_questions(again, 3, SAMPLING, StageContext(limits=LIMITS, out=sink, previous=_rows(out)),
                                  batch_size=2)
    assert [r["slot_id"] for r in _rows(out)] == ["synth-0-0", "synth-0-1", "synth-0-2"]
    assert stats.counts == {"verified": 1}
    written = [r for r in again.requests if "programming exercise" in prompt_text(r)]
    assert len(written) == 1  # only slot 2 was new


GROUNDING = '''
import re
from collections import Counter


def count_words(text):
    words = re.findall(r"[a-z]+", text.lower())
    return dict(Counter(words))


def double_all(values):
    result = []
    for value in values:
        result.append(value * 2)
    return result
'''
GROUNDED_REPLIES = {
    "count_words": '```python\ndef count_words(text: str) -> dict:\n    """Count each lowercase word '
                   'in the text.\n\n    >>> count_words("a b a")\n    {}\n    >>> count_words("")\n    {}\n'
                   '    >>> count_words("Hi hi")\n    {}\n    """\n    ...\n```',
    "double_all": '```python\ndef double_all(values: list[int]) -> list[int]:\n    """Every value of the '
                  'list doubled, in order.\n\n    >>> double_all([1, 2])\n    [3, 6]\n    >>> double_all([])\n'
                  '    []\n    >>> double_all([5])\n    [15]\n    """\n    ...\n```',
}


def test_grounded_questions_take_their_tests_from_the_original_code(tmp_path: Path) -> None:
    from codistill.stages.questions import grounded_writer

    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "text.py").write_text(GROUNDING)
    answers = {"count_words": ("dict(__import__('collections').Counter(text.lower().split()))",) * 2,
               # Both teacher answers agree with each other but not with the original: not a test.
               "double_all": ("[v * 3 for v in values]",) * 2}

    def reply(request: Request, sampling: Sampling, index: int) -> str:
        text = prompt_text(request)
        name = next(n for n in answers if f"def {n}(" in text)
        if "from real code" in text:
            return GROUNDED_REPLIES[name]
        arg = "text" if name == "count_words" else "values"
        return f"```python\ndef {name}({arg}):\n    return {answers[name][sampling.temperature > 0]}\n```"

    out = tmp_path / "questions.jsonl"
    with Appender(out) as sink:
        grow_questions(FakeGenerator(reply), 2, SAMPLING, StageContext(limits=LIMITS, out=sink),
                       writer=grounded_writer([str(tmp_path / "code")], seed=0), batch_size=2)
    rows = {r["draft"]["entry_point"]: r for r in _rows(out)}
    assert {r["slot_id"] for r in rows.values()} == {"grounded-0-0", "grounded-0-1"}
    assert rows["double_all"]["status"] == "disagree"
    assert rows["count_words"]["status"] == "verified"
    (question, answer), = verified(_rows(out))
    # The original's values, not the teacher's claimed `{}`: "a b a" has two a's.
    assert "candidate(\"a b a\") == {'a': 2, 'b': 1}" in question.tests
    assert question.source == "grounded" and question.meta["tests_by"] == "original"
    assert question.meta["grounded_in"].endswith("text.py:count_words")
    assert answer.startswith("def count_words(text):")
