"""Teacher-written questions: a reply becomes a draft (prompt, example inputs), or a reason;
expected values are settled only by agreement of independent solutions run in the sandbox."""

from __future__ import annotations

import pytest

from codistill.data.synth import (
    StubError,
    agreed_values,
    dedupe,
    draft_question,
    output_program,
    read_outputs,
    settle,
    signature,
    slot_request,
)
from codistill.extract import assemble_program
from codistill.models.fake import prompt_text
from codistill.sandbox import Limits, Program, execute

LIMITS = Limits(timeout_s=5)
REPLY = '''Here you go:
```python
from typing import List

def count_evens(numbers: List[int]) -> int:
    """Return how many numbers in the list are even. An empty list has none.

    Examples:
    >>> count_evens([1, 2, 4])
    5
    >>> count_evens([])
    0
    """
    return sum(1 for n in numbers if n % 2 == 0)

# Test cases
print(count_evens([1, 2, 4]))
assert count_evens([2, 2]) == 2
```
'''


def test_reply_becomes_a_draft_without_the_claimed_values() -> None:
    d = draft_question(REPLY, "synth-0-1")
    assert d.entry_point == "count_evens" and d.source == "synth" and not d.tests
    assert d.prompt.startswith("from typing import List\n\n\ndef count_evens(numbers: List[int]) -> int:")
    assert d.prompt.rstrip().endswith('"""') and "return sum" not in d.prompt
    # The claimed "5" is wrong: neither it nor any other claimed value reaches the prompt.
    assert ">>>" not in d.prompt and "Examples" not in d.question
    assert d.meta["calls"] == ["count_evens([1, 2, 4])", "count_evens([])", "count_evens([2, 2])"]
    assert "print(" not in d.meta["writer_code"] and "assert" not in d.meta["writer_code"]


def test_values_come_from_running_solutions_that_agree() -> None:
    d = draft_question(REPLY, "s")
    writer = read_outputs(execute(output_program(d.meta["writer_code"], d.meta["calls"], "w"), LIMITS), 3)
    other = "def count_evens(numbers):\n    return len([n for n in numbers if not n % 2])\n"
    answer = read_outputs(execute(output_program(other, d.meta["calls"], "a"), LIMITS), 3)
    assert writer == answer == ["2", "0", "2"]
    values = agreed_values([writer, answer])
    final = settle(d, values)
    assert ">>> count_evens([1, 2, 4])\n    2\n" in final.prompt  # the settled value, not the claim
    assert final.tests.count("assert candidate(") == 3 and "candidate([2, 2]) == 2" in final.tests
    for code in (d.meta["writer_code"], other):
        assert execute(Program(language="python", source=code, tests=final.tests,
                               entry_point="count_evens"), LIMITS).passed


@pytest.mark.parametrize(("runs", "agreed"), [
    ([["1", "2", "3"], ["1", "2", "3"]], ["1", "2", "3"]),
    ([["{1, 2}", "'a'", "3"], ["{2, 1}", "'a'", "3"]], ["{1, 2}", "'a'", "3"]),  # values, not text
    ([["1", "2", "3"], ["1", "2", "4"]], None),  # one input disagrees
    ([["1", "2", "3"], None], None),  # one solution did not finish
    ([["1", "1", "1"], ["1", "1", "1"]], None),  # a constant function tests nothing
    ([["1", "!ValueError", "3"], ["1", "!ValueError", "3"]], None),  # both raised
    ([["1", "2"], ["1", "2"]], None),  # too few inputs
    ([["1", "<object at 0x1>", "3"], ["1", "<object at 0x1>", "3"]], None),  # not a literal
])
def test_agreement_rules(runs: list, agreed: list | None) -> None:
    assert agreed_values(runs) == agreed


def test_outputs_survive_the_candidates_own_prints_and_a_timeout() -> None:
    noisy = "def f(x):\n    print('@@ not a result')\n    return x * 2\n"
    assert read_outputs(execute(output_program(noisy, ["f(1)", "f(2)"], "n"), LIMITS), 2) == ["2", "4"]
    stuck = "def f(x):\n    while True:\n        pass\n"
    assert read_outputs(execute(output_program(stuck, ["f(1)"], "s"), Limits(timeout_s=1)), 1) is None


def test_examples_in_comments_and_printed_expectations_count_as_calls() -> None:
    reply = '''```python
def double_all(xs: list[int]) -> list[int]:
    """Return a new list with every number doubled; an empty list stays empty."""
    return [2 * x for x in xs]

def check_double_all():
    assert double_all([]) == []

# >>> double_all([5])
# [10]
print(double_all([1, 2]))  # Should return [2, 4]
check_double_all()
```'''
    d = draft_question(reply, "s")  # check_double_all is a test driver, not a helper
    assert sorted(d.meta["calls"]) == ["double_all([1, 2])", "double_all([5])", "double_all([])"]
    assert "\ncheck_double_all()" not in d.meta["writer_code"]  # defined, never called


@pytest.mark.parametrize(("reply", "reason"), [
    ("no code at all", "no_code_block"),
    ("```python\ndef f(x):\n    return x\n```", "no_examples"),
    ('```python\ndef f(x):\n    """Return x unchanged, whatever it is."""\n    return x\n'
     "assert f(1) == 1\nassert f(2) == 2\n```", "too_few_examples"),
    ('```python\nimport os\ndef f(x):\n    """Return x."""\n    return x\nassert f(1) == 1\n'
     "assert f(2) == 2\nassert f(3) == 3\n```", "system_import"),
    ('```python\ndef f(x):\n    """Ret."""\n    return x\nassert f(1) == 1\nassert f(2) == 2\n'
     "assert f(3) == 3\n```", "no_description"),
    ('```python\ndef g(x):\n    return x\ndef f(x):\n    """Return g of x, for any x."""\n    return g(x)\n'
     "assert f(1) == 1\nassert f(2) == 2\nassert f(3) == 3\n```", "helper_functions"),
])
def test_unusable_replies_say_why(reply: str, reason: str) -> None:
    with pytest.raises(StubError, match=reason):
        draft_question(reply, "s")


def test_a_reply_cut_off_mid_line_keeps_what_parses() -> None:
    reply = REPLY.replace("# Test cases", 'assert count_evens([6]) == 1\nprint(count_evens("unterminated')
    d = draft_question(reply, "s")
    assert "unterminated" not in d.meta["writer_code"] and "count_evens([6])" in d.meta["calls"]


def test_slots_are_seeded_and_varied() -> None:
    texts = [prompt_text(slot_request(i, seed=0)) for i in range(40)]
    assert texts == [prompt_text(slot_request(i, seed=0)) for i in range(40)]
    assert len(set(texts)) > 30
    assert texts != [prompt_text(slot_request(i, seed=1)) for i in range(40)]


def test_dedupe_drops_repeated_names_and_descriptions() -> None:
    a = draft_question(REPLY, "a")
    b = a.model_copy(update={"id": "b"})
    c = a.model_copy(update={"id": "c", "entry_point": "other", "question": "Something else entirely."})
    kept, dropped = dedupe([a, b, c])
    assert [p.id for p in kept] == ["a", "c"] and dropped == 1


def test_assembled_answer_runs_without_its_own_demo_code() -> None:
    d = draft_question(REPLY, "s")
    final = settle(d, ["2", "0", "2"])
    answer = ("```python\ndef count_evens(numbers):\n    return len([n for n in numbers if n % 2 == 0])\n\n"
              "assert count_evens([1]) == 5  # the model's own wrong expectation\n```")
    source = assemble_program(final, answer, "chat")
    assert "== 5" not in source
    assert execute(Program(language="python", source=source, tests=final.tests,
                           entry_point=final.entry_point), LIMITS).passed


def test_the_same_name_with_other_parameters_is_another_question() -> None:
    a = draft_question(REPLY, "a")
    other = a.prompt.replace("(numbers", "(values: dict, numbers", 1)
    assert other != a.prompt
    b = a.model_copy(update={"id": "b", "prompt": other, "question": "Count even values."})
    assert signature(a) != signature(b) and signature(a).startswith(a.entry_point + "(")
    kept, dropped = dedupe([a, b])
    assert [p.id for p in kept] == ["a", "b"] and dropped == 0
