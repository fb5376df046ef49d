"""Teacher-written questions: a reply becomes a prompt, tests from its stated examples, or a reason."""

from __future__ import annotations

import pytest

from codistill.data.synth import StubError, dedupe, slot_request, stub_to_problem
from codistill.extract import assemble_program
from codistill.models.fake import prompt_text
from codistill.sandbox import Limits, Program, execute

REPLY = '''Here you go:
```python
from typing import List

def count_evens(numbers: List[int]) -> int:
    """Return how many numbers in the list are even. An empty list has none.

    >>> count_evens([1, 2, 4])
    2
    >>> count_evens([])
    0
    """
    return sum(1 for n in numbers if n % 2 == 0)

# Test cases
print(count_evens([1, 2, 4]))
assert count_evens([2, 2]) == 2
```
'''


def test_reply_becomes_prompt_tests_and_writer_code() -> None:
    p = stub_to_problem(REPLY, "synth-0-1")
    assert p.entry_point == "count_evens" and p.source == "synth"
    assert p.prompt.startswith("from typing import List\n\n\ndef count_evens(numbers: List[int]) -> int:")
    assert p.prompt.rstrip().endswith('"""') and "return sum" not in p.prompt
    assert ">>> count_evens([])" in p.prompt
    # Every stated example is a test: the two doctests and the assert after the function.
    assert p.tests.count("assert candidate(") == 3 and "candidate([2, 2]) == 2" in p.tests
    assert p.question.startswith("Return how many numbers") and ">>>" not in p.question
    # The writer's function, without its demo lines, passes its own examples in the sandbox.
    code = p.meta["writer_code"]
    assert "print(" not in code and "assert" not in code
    verdict = execute(Program(language="python", source=code, tests=p.tests,
                              entry_point=p.entry_point), Limits(timeout_s=5))
    assert verdict.passed, verdict.message


def test_examples_in_comments_are_shown_in_the_prompt() -> None:
    reply = '''```python
def shout(word: str) -> str:
    """Return the word in upper case followed by an exclamation mark."""
    return word.upper() + "!"

# >>> shout("hi")
# 'HI!'
# >>> shout("")
# '!'
```'''
    p = stub_to_problem(reply, "s")
    assert p.tests.count("assert") == 2
    assert ">>> shout('hi')" in p.prompt or '>>> shout("hi")' in p.prompt


@pytest.mark.parametrize(("reply", "reason"), [
    ("no code at all", "no_code_block"),
    ("```python\ndef f(x):\n    return x\n```", "no_examples"),
    ('```python\ndef f(x):\n    """Return x unchanged, whatever it is."""\n    return x\n'
     "assert f(1) == 1\n```", "too_few_examples"),
    ('```python\nimport os\ndef f(x):\n    """Return x."""\n    return x\nassert f(1) == 1\n'
     "assert f(2) == 2\n```", "system_import"),
    ('```python\ndef f(x):\n    """Ret."""\n    return x\nassert f(1) == 1\nassert f(2) == 2\n```',
     "no_description"),
    ('```python\ndef g(x):\n    return x\ndef f(x):\n    """Return g of x, for any x."""\n    return g(x)\n'
     "assert f(1) == 1\nassert f(2) == 2\n```", "helper_functions"),
])
def test_unusable_replies_say_why(reply: str, reason: str) -> None:
    with pytest.raises(StubError, match=reason):
        stub_to_problem(reply, "s")


def test_slots_are_seeded_and_varied() -> None:
    texts = [prompt_text(slot_request(i, seed=0)) for i in range(40)]
    assert texts == [prompt_text(slot_request(i, seed=0)) for i in range(40)]
    assert len(set(texts)) > 30
    assert texts != [prompt_text(slot_request(i, seed=1)) for i in range(40)]


def test_dedupe_drops_repeated_names_and_descriptions() -> None:
    a = stub_to_problem(REPLY, "a")
    b = a.model_copy(update={"id": "b"})
    c = a.model_copy(update={"id": "c", "entry_point": "other", "question": "Something else entirely."})
    kept, dropped = dedupe([a, b, c])
    assert [p.id for p in kept] == ["a", "c"] and dropped == 1


def test_assembled_answer_runs_without_its_own_demo_code() -> None:
    p = stub_to_problem(REPLY, "s")
    answer = ("```python\ndef count_evens(numbers):\n    return len([n for n in numbers if n % 2 == 0])\n\n"
              "assert count_evens([1]) == 5  # the model's own wrong expectation\n```")
    source = assemble_program(p, answer, "chat")
    assert "== 5" not in source
    assert execute(Program(language="python", source=source, tests=p.tests,
                           entry_point=p.entry_point), Limits(timeout_s=5)).passed


def test_printed_expectations_and_test_drivers() -> None:
    reply = '''```python
def double_all(xs: list[int]) -> list[int]:
    """Return a new list with every number doubled; an empty list stays empty."""
    return [2 * x for x in xs]

def check_double_all():
    assert double_all([]) == []

print(double_all([1, 2]))  # Should return [2, 4]
print(double_all([0]))  # Expected output: [0]
check_double_all()
```'''
    p = stub_to_problem(reply, "s")  # check_double_all is a test driver, not a helper
    assert p.entry_point == "double_all"
    assert "candidate([1, 2]) == [2, 4]" in p.tests and "candidate([0]) == [0]" in p.tests
    assert "candidate([]) == []" in p.tests
    assert "\ncheck_double_all()" not in p.meta["writer_code"]  # defined, never called


def test_a_reply_cut_off_mid_line_keeps_what_parses() -> None:
    reply = REPLY.split("# Test cases")[0] + 'print(count_evens("unterminated'
    p = stub_to_problem(reply, "s")
    assert "unterminated" not in p.meta["writer_code"] and p.tests.count("assert") == 2
