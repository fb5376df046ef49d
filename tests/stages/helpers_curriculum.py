"""Literal questions and teacher replies shared by the curriculum, drafts and adversary tests."""

from __future__ import annotations

from codistill.config import Curriculum
from codistill.records import Answer, Problem
from codistill.sandbox import Limits

LIMITS = Limits(timeout_s=10)


def reply(name: str, what: str, tests: str, solution: str, *, question: str | None = None,
          doc: str | None = None) -> str:
    """A well-formed teacher reply for a one-argument Python function `name`."""
    question = question or f"Write a function `{name}(items)` that {what}."
    doc = doc or what.capitalize()
    return (f"## Question\n{question}\n\n"
            f'## Prompt\n```python\ndef {name}(items):\n    """{doc}."""\n```\n\n'
            f"## Tests\n```python\n{tests}```\n\n"
            f"## Solution\n```python\n{solution}```\n")


GOOD = reply(
    "count_negatives", "returns how many numbers in the list are below zero",
    "def check(candidate):\n    assert candidate([1, -2, -3]) == 2\n    assert candidate([]) == 0\n"
    "    assert candidate([0, 5]) == 0\n",
    "def count_negatives(items):\n    return sum(1 for x in items if x < 0)\n")
GOOD_2 = reply(
    "longest_word", "returns the longest string in the list, the first one on a tie, or '' for an "
    "empty list",
    "def check(candidate):\n    assert candidate(['a', 'bcd', 'ef']) == 'bcd'\n"
    "    assert candidate([]) == ''\n    assert candidate(['xy', 'zw']) == 'xy'\n",
    "def longest_word(items):\n    best = ''\n    for word in items:\n"
    "        if len(word) > len(best):\n            best = word\n    return best\n")
REFERENCE_FAILS = reply(
    "sum_even", "returns the sum of the even numbers in the list",
    "def check(candidate):\n    assert candidate([1, 2, 4]) == 6\n    assert candidate([]) == 0\n",
    "def sum_even(items):\n    return sum(x for x in items if x % 2)\n")  # sums the odd ones
VACUOUS = reply(
    "first_item", "returns the first element of the list, or None when it is empty",
    "def check(candidate):\n    assert candidate([]) is None\n",
    "def first_item(items):\n    return items[0] if items else None\n")
ENVIRONMENT = reply(
    "array_total", "returns the total of the numbers using a fast array library",
    "def check(candidate):\n    assert candidate([1, 2]) == 3\n",
    "import quantumflux_array_lib\n\ndef array_total(items):\n    return sum(items)\n")
GARBAGE = "Sure! Here is an interesting exercise about lists. Good luck with your studies."
# A copy of HumanEval/0's prompt with a correct solution and tests: must be caught as contaminated.
CONTAMINATED = (
    "## Question\nCheck whether any two numbers in a list are closer than a threshold.\n\n"
    "## Prompt\n```python\nfrom typing import List\n\n\n"
    "def has_close_elements(numbers: List[float], threshold: float) -> bool:\n"
    '    """ Check if in given list of numbers, are any two numbers closer to each other than\n'
    "    given threshold.\n    >>> has_close_elements([1.0, 2.0, 3.0], 0.5)\n    False\n"
    "    >>> has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3)\n    True\n"
    '    """\n```\n\n'
    "## Tests\n```python\ndef check(candidate):\n    assert candidate([1.0, 2.0, 3.9], 0.3) is False\n"
    "    assert candidate([1.0, 2.0, 2.1], 0.3) is True\n```\n\n"
    "## Solution\n```python\ndef has_close_elements(numbers, threshold):\n"
    "    return any(abs(a - b) < threshold for i, a in enumerate(numbers)"
    " for b in numbers[i + 1:])\n```\n")

POOL_QUESTION = ("Write a function `count_vowels(text)` that returns how many vowels (a, e, i, o, u, "
                 "in either case) the string contains; y is not a vowel and the empty string has none.")
# The teacher hands back (almost) the pool's own question: a duplicate.
DUPLICATE = reply(
    "count_vowels", "returns how many vowels the string contains",
    "def check(candidate):\n    assert candidate('Apple') == 2\n    assert candidate('') == 0\n"
    "    assert candidate('xyz') == 0\n",
    "def count_vowels(items):\n    return sum(ch in 'aeiouAEIOU' for ch in items)\n",
    question=POOL_QUESTION)


def parent(i: int, *, topic: str = "lists", difficulty: str = "easy") -> Problem:
    """A seed-like question whose text is unique to `i` (fake teachers key on `PARENT-<i>`)."""
    return Problem(id=f"seed/p{i}", question=f"PARENT-{i}: write `f{i}(x)` returning x + {i}.",
                   prompt=f'def f{i}(x):\n    """PARENT-{i}: return x + {i}."""\n',
                   entry_point=f"f{i}", tests=f"def check(candidate):\n    assert candidate(1) == {1 + i}\n",
                   topic=topic, difficulty=difficulty, source="seed")


def answer(problem_id: str, *, passed: bool, score: float | None = None, status: str | None = None,
           environment_error: bool = False, code: str = "", message: str = "",
           failed_test: str | None = None) -> Answer:
    """An examined answer, with the status implied by `passed` unless given."""
    return Answer(problem_id=problem_id, code=code, passed=passed, judge_score=score,
                  status=status or ("passed" if passed else "failed"),
                  environment_error=environment_error, message=message, failed_test=failed_test)


def settings(n: int, **changes: object) -> Curriculum:
    """Curriculum settings for `n` new questions."""
    return Curriculum(new_questions=n, **changes)
