"""Code-A1's questions and Test-model prompt: teacher-written questions take part with the agreed
answer as reference; the prompt shows the task's examples as asserts to follow."""

from __future__ import annotations

import json
from typing import Any

from codistill.config import Models
from codistill.models.fake import FakeGenerator, prompt_text

from .test_coevolve import CLAMP, DOUBLE, JS, _config, _records

SQUARES_WRITE = '''```python
def sum_squares(xs: list[int]) -> int:
    """Return the sum of the squares of the numbers; an empty list gives 0."""
    return sum(x * x for x in xs)

assert sum_squares([1, 2]) == 5
assert sum_squares([]) == 0
assert sum_squares([3]) == 9
```'''
DISAGREE_WRITE = SQUARES_WRITE.replace("sum_squares", "sum_cubes").replace("squares", "cubes")


class QuestionWriter(FakeGenerator):
    """The teacher: writes two questions, then answers sum_squares right and sum_cubes two wrong ways."""

    def __init__(self) -> None:
        writes = iter([SQUARES_WRITE, DISAGREE_WRITE])

        def reply(request: Any, sampling: Any, index: int) -> str:
            text = prompt_text(request)
            if "programming exercise" in text:
                return next(writes)
            name = "sum_squares" if "def sum_squares(" in text else "sum_cubes"
            body = ("sum(x * x for x in xs)" if name == "sum_squares"
                    else "len(xs)" if sampling.temperature == 0 else "0")
            return f"```python\ndef {name}(xs):\n    return {body}\n```"

        super().__init__(reply)


def test_synth_questions_take_part_with_the_agreed_answer_as_reference(tmp_path) -> None:
    from codistill.config import Data
    from codistill.stages.coevolve import Coevolution

    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text("{}")
    config = _config(tmp_path, base).model_copy(update={
        "data": Data(seeds=["synth"], synth_questions=2),
        "models": Models(student=str(base), teacher="teacher-spec")})
    writer = QuestionWriter()
    asked: list[str] = []

    def sampler(spec: str) -> FakeGenerator:
        asked.append(spec)
        return writer

    run = Coevolution(config, [CLAMP], progress=False, evaluate=False, sampler=sampler)
    usable = run.check()
    run.close()
    assert asked == ["teacher-spec"]
    synth = next(p for p in usable if p.id.startswith("synth-"))
    assert [p.id for p in usable] == ["clamp", synth.id] and synth.entry_point == "sum_squares"
    # The reference is the teacher's fresh answer that agreed with the writer, and it passes the
    # settled tests (check ran them), which include the value the writer only claimed: 9.
    assert synth.reference.endswith("def sum_squares(xs):\n    return sum(x * x for x in xs)\n")
    assert "candidate([3]) == 9" in synth.tests
    root = config.run_dir / "coevolve"
    rows = _records(root, "questions")
    assert sorted(r["status"] for r in rows) == ["disagree", "verified"]
    assert json.loads((root / "manifest.json").read_text())["stages"]["questions"]["stats"]["counts"] == {
        "verified": 1, "disagree": 1}

    # A second run finds the questions written and asks the teacher nothing.
    again = Coevolution(config, [CLAMP], progress=False, evaluate=False, sampler=sampler)
    assert [p.id for p in again.check()] == ["clamp", synth.id]
    again.close()
    assert asked == ["teacher-spec"]


def test_the_test_prompt_shows_the_task_examples_as_tests_to_follow() -> None:
    from codistill.stages.coevolve_state import example_asserts, tests_prompt

    prompt = 'def double(x: int) -> int:\n    """Twice x.\n\n    >>> double(2)\n    4\n    >>> double(-1)\n    -2\n    """\n'
    problem = DOUBLE.model_copy(update={"prompt": prompt})
    assert example_asserts(problem) == ["assert double(2) == 4", "assert double(-1) == -2"]
    text = tests_prompt(problem, "def double(x):\n    return x + 2\n", 3)
    assert "```python\nassert double(2) == 4\nassert double(-1) == -2\n```" in text
    assert "Write 3 more tests" in text and "return x + 2" in text
    # No examples (or not Python): the prompt asks for the tests without a block to follow.
    plain = tests_prompt(DOUBLE, "def double(x):\n    return x + 2\n", 3)
    assert example_asserts(DOUBLE) == [] and "Write 3 tests" in plain and "form to use" not in plain
    assert example_asserts(JS) == []
