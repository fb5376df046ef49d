"""Reading teacher-written problems: literal replies in, literal drafts and problems out."""

from __future__ import annotations

import pytest

from codistill.errors import DraftError
from codistill.sandbox import Program, Status, run_all
from codistill.stages import drafts_python
from codistill.stages.drafts import (
    layout,
    parse_draft,
    reply_rules,
    stub_source,
    to_problem,
)
from codistill.stages.evolve import NearDuplicates, check_in_sandbox

from .helpers_curriculum import GOOD, LIMITS

PROMPT = 'def count_negatives(items):\n    """Returns how many numbers in the list are below zero."""\n'
TESTS = ("def check(candidate):\n    assert candidate([1, -2, -3]) == 2\n    assert candidate([]) == 0\n"
         "    assert candidate([0, 5]) == 0\n")
SOLUTION = "def count_negatives(items):\n    return sum(1 for x in items if x < 0)\n"


def problem(text: str, language: str = "python"):
    return to_problem(parse_draft(text, language), problem_id="t/1", language=language)


def sandbox(p) -> tuple[Status, Status]:
    """(reference status, stub status) for a problem, from the real sandbox."""
    ref, stub = run_all([Program(p.language, p.reference, p.tests, p.entry_point),
                         Program(p.language, stub_source(p), p.tests, p.entry_point)], LIMITS)
    return ref.status, stub.status


def test_well_formed_reply_gives_its_four_sections() -> None:
    draft = parse_draft(GOOD, "python")
    assert draft.question == ("Write a function `count_negatives(items)` that returns how many "
                              "numbers in the list are below zero.")
    assert draft.prompt == PROMPT
    assert draft.tests == TESTS
    assert draft.solution == SOLUTION
    p = problem(GOOD)
    assert (p.prompt, p.entry_point, p.tests, p.reference) == (PROMPT, "count_negatives", TESTS, SOLUTION)


@pytest.mark.parametrize("heads", [
    ("### Question:", "### Prompt:", "### Tests:", "### Solution:"),
    ("**Question**", "**Function signature**", "**Test cases**", "**Reference solution**"),
    ("1. Problem", "2. Signature", "3. Unit tests", "4. Reference implementation"),
    ("Question:", "Prompt:", "Tests:", "Solution:"),
])
def test_renamed_and_restyled_headings(heads: tuple[str, str, str, str]) -> None:
    text = (f"{heads[0]}\nCount the negatives.\n\n{heads[1]}\n```python\n{PROMPT}```\n"
            f"{heads[2]}\n```python\n{TESTS}```\n{heads[3]}\n```python\n{SOLUTION}```\n")
    draft = parse_draft(text, "python")
    assert (draft.question, draft.prompt, draft.tests, draft.solution) == (
        "Count the negatives.", PROMPT, TESTS, SOLUTION)


def test_question_on_the_heading_line_and_prose_that_mentions_tests() -> None:
    text = (f"Question: Count the negatives in a list.\nTests should cover empty lists.\n\n"
            f"## Prompt\n```python\n{PROMPT}```\n## Tests\n```python\n{TESTS}```\n"
            f"## Solution\n```python\n{SOLUTION}```\nHope this helps!\n")
    draft = parse_draft(text, "python")
    assert draft.question == "Count the negatives in a list.\nTests should cover empty lists."
    assert draft.solution == SOLUTION


def test_no_headings_three_blocks_in_order() -> None:
    text = (f"Here is a new exercise: count the negatives.\n\n```python\n{PROMPT}```\n\n"
            f"```python\n{TESTS}```\n\n```python\n{SOLUTION}```\n")
    draft = parse_draft(text, "python")
    assert (draft.question, draft.prompt, draft.tests, draft.solution) == (
        "Here is a new exercise: count the negatives.", PROMPT, TESTS, SOLUTION)


def test_no_headings_solution_then_tests_derives_the_prompt_from_the_solution() -> None:
    text = (f"Count how many numbers are negative.\n```python\n{SOLUTION}```\n"
            f"```python\n{TESTS}```\n")
    p = problem(text)
    assert p.prompt == 'def count_negatives(items):\n    """Count how many numbers are negative."""\n'
    assert p.entry_point == "count_negatives" and p.tests == TESTS
    assert sandbox(p) == (Status.PASSED, Status.FAILED)


def test_prompt_with_a_body_is_cut_after_the_docstring_and_keeps_imports_and_helpers() -> None:
    prompt = ("from typing import List\n\nLIMIT = 3\n\ndef helper(x):\n    return x < 0\n\n"
              "def count_negatives(items: List[int]) -> int:\n"
              '    """Count negatives.\n    >>> count_negatives([-1])\n    1\n    """\n'
              "    return sum(map(helper, items))\n")
    text = f"## Question\nq\n## Prompt\n```python\n{prompt}```\n## Tests\n```python\n{TESTS}```\n" \
           f"## Solution\n```python\n{SOLUTION}```\n"
    p = problem(text)
    assert p.prompt == prompt[: prompt.index("    return sum")]
    assert p.reference.startswith("from typing import List\n\nLIMIT = 3\n\ndef helper(x):")
    assert sandbox(p) == (Status.PASSED, Status.FAILED)


def test_prompt_without_docstring_gets_the_question_as_one() -> None:
    text = ("## Question\nCount the numbers below zero.\n## Prompt\n```python\n"
            "def count_negatives(items: list[int]) -> int:\n    pass\n```\n"
            f"## Tests\n```python\n{TESTS}```\n## Solution\n```python\n{SOLUTION}```\n")
    p = problem(text)
    assert p.prompt == 'def count_negatives(items: list[int]) -> int:\n    """Count the numbers below zero."""\n'
    long = problem(text.replace("Count the numbers below zero.", "Count the numbers.\nZero is not negative."))
    assert long.prompt == ('def count_negatives(items: list[int]) -> int:\n'
                           '    """Count the numbers.\n    Zero is not negative.\n    """\n')


def test_body_only_solution_is_joined_to_the_prompt() -> None:
    text = (f"## Question\nq\n## Prompt\n```python\n{PROMPT}```\n## Tests\n```python\n{TESTS}```\n"
            "## Solution\n```python\n    return sum(1 for x in items if x < 0)\n```\n")
    p = problem(text)
    assert p.reference == PROMPT + "    return sum(1 for x in items if x < 0)\n"
    assert sandbox(p) == (Status.PASSED, Status.FAILED)


def test_tests_that_redefine_import_and_guard_the_function_are_repaired() -> None:
    tests = ("from solution import count_negatives\n\n" + SOLUTION.replace("x < 0", "True") +
             "\nif __name__ == '__main__':\n    assert count_negatives([1, -2, -3]) == 2\n"
             "    assert count_negatives([4]) == 0\n    print('ok')\n")
    text = (f"## Question\nq\n## Prompt\n```python\n{PROMPT}```\n## Tests\n```python\n{tests}```\n"
            f"## Solution\n```python\n{SOLUTION}```\n")
    p = problem(text)
    assert p.tests == ("\n\nassert count_negatives([1, -2, -3]) == 2\nassert count_negatives([4]) == 0\n"
                       "print('ok')\n")
    assert sandbox(p) == (Status.PASSED, Status.FAILED)


def test_pytest_style_and_argumentless_check_are_called() -> None:
    pytest_style = "def test_basic():\n    assert count_negatives([-1, -1]) == 2\n"
    p = problem(f"## Question\nq\n## Prompt\n```python\n{PROMPT}```\n## Tests\n```python\n"
                f"{pytest_style}```\n## Solution\n```python\n{SOLUTION}```\n")
    assert p.tests == pytest_style + "\ntest_basic()\n"
    assert sandbox(p) == (Status.PASSED, Status.FAILED)
    bare = "def check():\n    assert count_negatives([-1]) == 1\n"
    p = problem(f"## Question\nq\n## Prompt\n```python\n{PROMPT}```\n## Tests\n```python\n"
                f"{bare}```\n## Solution\n```python\n{SOLUTION}```\n")
    assert p.tests.startswith("def check(candidate=None):")
    assert sandbox(p) == (Status.PASSED, Status.FAILED)


def test_top_level_asserts_on_candidate_get_the_function_bound() -> None:
    p = problem(f"## Question\n```\nCount negatives.\n```\n## Prompt\n```python\n{PROMPT}```\n"
                "## Tests\n```python\nassert candidate([-1, -2]) == 2\n```\n"
                f"## Solution\n```python\n{SOLUTION}```\n")
    assert p.question == "Count negatives."
    assert p.tests == "candidate = count_negatives\nassert candidate([-1, -2]) == 2\n"
    assert sandbox(p) == (Status.PASSED, Status.FAILED)


def test_unittest_cases_run_and_can_fail() -> None:
    tests = ("import unittest\n\nclass T(unittest.TestCase):\n    def test_it(self):\n"
             "        self.assertEqual(count_negatives([-5, 3]), 1)\n\n"
             "if __name__ == '__main__':\n    unittest.main()\n")
    p = problem(f"## Question\nq\n## Prompt\n```python\n{PROMPT}```\n## Tests\n```python\n"
                f"{tests}```\n## Solution\n```python\n{SOLUTION}```\n")
    assert "unittest.main()" not in p.tests
    assert sandbox(p) == (Status.PASSED, Status.FAILED)


def test_entry_point_is_the_function_the_tests_call() -> None:
    prompt = ('def helper(x):\n    """Is x negative."""\n    return x < 0\n\n\n'
              'def count_negatives(items):\n    """Count."""\n')
    text = (f"## Question\nq\n## Prompt\n```python\n{prompt}```\n## Tests\n```python\n"
            "assert count_negatives([-1, 2]) == 1\n```\n"
            f"## Solution\n```python\n{SOLUTION}```\n")
    p = problem(text)
    assert p.entry_point == "count_negatives"
    assert p.prompt == prompt


def test_reply_cut_off_inside_the_last_fence_still_parses() -> None:
    cut = GOOD[: GOOD.rindex("```")]  # max_new_tokens reached before the closing fence
    assert parse_draft(cut, "python").solution == SOLUTION


@pytest.mark.parametrize(("text", "words"), [
    ("Sure! Here is an exercise about lists.", "no tests and solution"),
    (f"## Question\nq\n## Solution\n```python\n{SOLUTION}```\n", "no tests and solution"),
    ("```python\nprint('hi')\n```", "no tests and solution"),
    ("## Question\nq\n## Tests\n```python\nassert f(1) == 2\n```\n## Solution\n```python\nx = 1\n```\n",
     "no Python function"),
    (f"## Question\nq\n## Prompt\n```python\n{PROMPT}```\n## Tests\n```python\ndef check(candidate)\n    assert candidate([]) == 0\n```\n"
     f"## Solution\n```python\n{SOLUTION}```\n", "tests are not valid Python"),
])
def test_malformed_replies_say_what_is_missing(text: str, words: str) -> None:
    with pytest.raises(DraftError, match=words):
        problem(text)


def test_stub_keeps_the_prompt_and_returns_none() -> None:
    p = problem(GOOD)
    assert stub_source(p) == PROMPT + "    return None\n"


JS_REPLY = """## Question
Write `clamp(x, lo, hi)` that limits x to the range [lo, hi].

## Prompt
```javascript
function clamp(x, lo, hi) {
  // TODO
}
```

## Tests
```javascript
const assert = require("node:assert");
const { clamp } = require("./solution");
assert.strictEqual(clamp(5, 0, 3), 3);
assert.strictEqual(clamp(-1, 0, 3), 0);
assert.strictEqual(clamp(2, 0, 3), 2);
```

## Solution
```javascript
function clamp(x, lo, hi) {
  return Math.min(hi, Math.max(lo, x));
}
module.exports = { clamp };
```
"""


def test_javascript_prompt_is_cut_at_the_brace_and_commented() -> None:
    p = problem(JS_REPLY, "javascript")
    assert p.entry_point == "clamp"
    assert p.prompt == ("// Write `clamp(x, lo, hi)` that limits x to the range [lo, hi].\n"
                        "function clamp(x, lo, hi) {\n")
    assert "require(\"./solution\")" not in p.tests
    assert stub_source(p) == p.prompt + "    return undefined;\n}\n"
    assert sandbox(p) == (Status.PASSED, Status.FAILED)


def test_c_solution_with_a_demo_main_loses_it() -> None:
    text = ("## Question\nReturn the larger of two ints.\n## Prompt\n```c\n/* larger of a and b */\n"
            "int max2(int a, int b) {\n```\n## Tests\n```c\n#include <assert.h>\nint main(void) {\n"
            "    assert(max2(1, 2) == 2);\n    assert(max2(-3, -4) == -3);\n    return 0;\n}\n```\n"
            "## Solution\n```c\n#include <stdio.h>\nint max2(int a, int b) {\n    return a > b ? a : b;\n"
            "}\nint main(void) {\n    printf(\"%d\\n\", max2(1, 2));\n    return 0;\n}\n```\n")
    p = problem(text, "c")
    assert "main" not in p.reference
    assert stub_source(p) == "/* larger of a and b */\nint max2(int a, int b) {\n    return 0;\n}\n"
    assert sandbox(p) == (Status.PASSED, Status.FAILED)


def test_java_prompt_derived_from_the_solution_closes_the_class_in_the_stub() -> None:
    text = ("Return the sum of an int array.\n```java\npublic class Solution {\n"
            "    public static int total(int[] xs) {\n        int s = 0;\n        for (int x : xs) s += x;\n"
            "        return s;\n    }\n}\n```\n```java\npublic class Main {\n"
            "    public static void main(String[] a) {\n"
            "        if (Solution.total(new int[]{1, 2}) != 3) throw new AssertionError(\"total\");\n"
            "    }\n}\n```\n")
    p = problem(text, "java")
    assert p.entry_point == "total"
    assert p.prompt == ("public class Solution {\n    // Return the sum of an int array.\n"
                        "    public static int total(int[] xs) {\n")
    assert stub_source(p).endswith('throw new UnsupportedOperationException("not implemented");\n'
                                   "    }\n}\n")
    assert sandbox(p) == (Status.PASSED, Status.RUNTIME_ERROR)


def test_layout_shows_a_problem_as_a_reply_and_parses_back() -> None:
    p = problem(GOOD)
    text = layout(p)
    assert text.startswith("## Question\nWrite a function `count_negatives(items)`")
    back = parse_draft(text, "python")
    assert (back.question, back.prompt, back.tests, back.solution) == (p.question, p.prompt, p.tests,
                                                                       p.reference)
    rules = reply_rules("python")
    assert "def check(candidate):" in rules and "## Solution" in rules
    assert "opening brace {" in reply_rules("go")


def test_layout_shows_python_solutions_without_their_docstring() -> None:
    p = problem(GOOD)
    with_doc = p.model_copy(update={"reference": PROMPT + "    return sum(1 for x in items if x < 0)\n"})
    assert layout(with_doc) == layout(p)


def test_an_assert_line_that_does_not_parse_is_dropped_not_the_problem() -> None:
    tests = TESTS.replace("    assert candidate([]) == 0\n",
                          "    assert candidate([]) == [0], note = 1\n    assert candidate([-4]) == 1\n")
    p = problem(f"## Question\nq\n## Prompt\n```python\n{PROMPT}```\n## Tests\n```python\n{tests}```\n"
                f"## Solution\n```python\n{SOLUTION}```\n")
    assert p.tests == TESTS.replace("    assert candidate([]) == 0\n", "    assert candidate([-4]) == 1\n")


def test_probe_reports_each_failing_assert_and_prune_removes_them() -> None:
    tests = ("def check(candidate):\n    assert candidate([1]) == 0\n    x = [-1]\n"
             "    assert candidate(x) == 1, 'one'\n    assert candidate(\n        [-1, -2]) == 5\n"
             "    a = 1; assert a\n\nassert count_negatives([]) == 0\n")
    probe_text, total = drafts_python.probe(tests)
    assert total == 4  # the assert sharing its line with `a = 1` is left alone
    [ref] = run_all([Program("python", SOLUTION, probe_text, "count_negatives")], LIMITS)
    assert ref.passed and drafts_python.failed_asserts(ref.stdout) == {2}
    assert drafts_python.prune(tests, {2}) == tests.replace(
        "    assert candidate(\n        [-1, -2]) == 5\n", "")


def test_one_wrong_expected_value_is_pruned_but_mostly_wrong_tests_are_dropped() -> None:
    one_wrong = TESTS.replace("candidate([]) == 0", "candidate([]) == 9")
    mostly_wrong = "def check(candidate):\n    assert candidate([-1]) == 1\n" \
                   "    assert candidate([]) == 3\n    assert candidate([2]) == 2\n"
    base = problem(GOOD)
    cases = [base.model_copy(update={"tests": t, "id": f"t/{i}"})
             for i, t in enumerate([one_wrong, mostly_wrong])]
    (fixed, reason, _), (_, dropped, detail) = check_in_sandbox(cases, LIMITS)
    assert reason == "" and fixed.meta["tests_pruned"] == "1/3"
    assert fixed.tests == TESTS.replace("    assert candidate([]) == 0\n", "")
    assert dropped == "reference_fails" and "AssertionError" in detail


def test_tests_a_constant_passes_are_vacuous() -> None:
    zeros = "def check(candidate):\n    assert candidate([]) == 0\n    assert candidate([0, 5]) == 0\n" \
            "    assert 0 == count_negatives([7])\n"
    p = problem(GOOD).model_copy(update={"tests": zeros})
    assert drafts_python.stubs(p.prompt, p.entry_point, zeros) == [PROMPT + "    return None\n",
                                                                   PROMPT + "    return 0\n"]
    [(_, reason, detail)] = check_in_sandbox([p], LIMITS)
    assert (reason, detail) == ("vacuous_tests", "a stub returning a constant passes the tests")


def test_near_duplicates_find_the_closest_text_above_the_threshold() -> None:
    index = NearDuplicates(0.7)
    index.add("a", "write a function that returns the sum of the even numbers in a list of ints")
    index.add("b", "write a function that reverses every word of a sentence but keeps the order")
    hit = index.find("write a function that returns the sum of the even numbers in a list of integers")
    assert hit is not None and hit[0] == "a" and 0.7 <= hit[1] < 1.0
    assert index.find("compute the greatest common divisor of two positive numbers") is None
