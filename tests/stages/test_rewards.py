"""Code-A1's reward functions on literal completions, with the real sandbox underneath."""

from __future__ import annotations

import doctest

import pytest

import codistill.train.rewards as rewards_module
from codistill.records import Problem
from codistill.sandbox import Limits
from codistill.train.rewards import (
    TestRunner,
    bind,
    code_reward,
    completion_text,
    parse_tests,
    split_tests,
)

REFERENCE = "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n"
PROBLEM = Problem(id="clamp", question="Write clamp(x, lo, hi) that limits x to [lo, hi].",
                  entry_point="clamp", reference=REFERENCE,
                  tests="def check(candidate):\n    assert candidate(5, 0, 3) == 3\n    assert candidate(-1, 0, 3) == 0\n")
PROBLEMS = {"clamp": PROBLEM}
GOOD = f"```python\n{REFERENCE}```"
NO_UPPER = "```python\ndef clamp(x, lo, hi):\n    return max(lo, x)\n```"  # forgets the upper bound
GARBAGE = "I cannot help with that."


@pytest.fixture(scope="module")
def runner() -> TestRunner:
    return TestRunner(Limits(timeout_s=5))


def test_doctests_pass() -> None:
    assert doctest.testmod(rewards_module).failed == 0


def test_parse_tests_keeps_asserts_calling_the_function() -> None:
    text = ("Here are tests:\n```python\nassert clamp(5, 0, 3) == 3\nassert clamp(1, 0, 3) == 1\n"
            "assert 1 == 1\nx = clamp(2, 0, 3)\nassert clamp(5, 0, 3) == 3\n```\nDone.")
    assert parse_tests(text, "clamp") == ["assert clamp(5, 0, 3) == 3", "assert clamp(1, 0, 3) == 1"]
    assert parse_tests(text, "clamp", limit=1) == ["assert clamp(5, 0, 3) == 3"]
    # A block that does not parse as a whole still yields its good lines.
    broken = "```python\nassert clamp(1, 0, 3) == 1\nassert clamp(9, 0, 3 == 3\nassert clamp(-5, 0, 3) == 0\n```"
    assert parse_tests(broken, "clamp") == ["assert clamp(1, 0, 3) == 1", "assert clamp(-5, 0, 3) == 0"]
    # No fence: the whole answer is read; prose gives nothing.
    assert parse_tests("assert clamp(0, 0, 0) == 0", "clamp") == ["assert clamp(0, 0, 0) == 0"]
    assert parse_tests(GARBAGE, "clamp") == []
    assert parse_tests("```python\nassert clamp(" + "1, " * 300 + ") == 1\n```", "clamp") == []  # runaway


def test_split_tests_turns_check_into_single_asserts() -> None:
    assert split_tests(PROBLEM.tests, "clamp") == ["assert clamp(5, 0, 3) == 3", "assert clamp(-1, 0, 3) == 0"]
    assert split_tests("assert clamp(1, 0, 2) == 1\nassert clamp(3, 0, 2) == 2\n", "clamp") == [
        "assert clamp(1, 0, 2) == 1", "assert clamp(3, 0, 2) == 2"]
    helper = ("def check(candidate):\n    def twice(x):\n        return candidate(candidate(x, 0, 9), 0, 9)\n"
              "    top = 9\n    assert twice(12) == top\n    assert twice(1) == 1\n")
    assert split_tests(helper, "clamp") == [
        "def twice(x):\n    return clamp(clamp(x, 0, 9), 0, 9)\ntop = 9\nassert twice(12) == top",
        "def twice(x):\n    return clamp(clamp(x, 0, 9), 0, 9)\ntop = 9\nassert twice(1) == 1"]
    shadowing = "def check(candidate):\n    def h(candidate):\n        return candidate\n    assert h(1)\n"
    assert split_tests(shadowing, "clamp") == [shadowing]  # renaming would change the helper
    looped = "def check(candidate):\n    for i in range(3):\n        assert candidate(i, 0, 9) == i\n"
    assert split_tests(looped, "clamp") == [looped]  # not plain asserts: one unit
    assert split_tests("", "clamp") == []


def test_completion_text_reads_strings_and_messages() -> None:
    assert completion_text("abc") == "abc"
    assert completion_text([{"role": "assistant", "content": "xyz"}]) == "xyz"
    assert completion_text([]) == ""


def test_code_reward_is_the_pass_rate_on_the_rows_tests(runner) -> None:
    tests = ["assert clamp(5, 0, 3) == 3", "assert clamp(-1, 0, 3) == 0", "assert clamp(2, 0, 3) == 2"]
    records: list[dict] = []
    completions = [GOOD, NO_UPPER, GARBAGE, [{"role": "assistant", "content": NO_UPPER}]]
    got = code_reward(completions, question_id=["clamp"] * 4, tests=[tests] * 3 + [[]],
                      problems=PROBLEMS, runner=runner, record=records.append)
    assert got == [1.0, pytest.approx(2 / 3), 0.0, 0.0]  # the last row has no tests: 0
    assert records[1]["passed"] == [False, True, True] and records[1]["broken"] == [True, False, False]
    assert records[2]["passed"] == [False] * 3 and all(records[2]["broken"])  # did not load: every test fails
    assert records[0]["program"].startswith("def clamp") and records[0]["question_id"] == "clamp"


def test_test_reward_mixes_validity_and_attack_rate(runner) -> None:
    samples = [REFERENCE, "def clamp(x, lo, hi):\n    return max(lo, x)\n"]
    valid_attacking = "```python\nassert clamp(5, 0, 3) == 3\nassert clamp(1, 0, 3) == 1\n```"
    valid_harmless = "```python\nassert clamp(1, 0, 3) == 1\n```"
    half_invalid = "```python\nassert clamp(5, 0, 3) == 5\nassert clamp(1, 0, 3) == 1\n```"
    records: list[dict] = []
    metrics: dict[str, float] = {}
    got = rewards_module.test_reward([valid_attacking, valid_harmless, half_invalid, GARBAGE],
                      question_id=["clamp"] * 4, code_samples=[samples] * 4, problems=PROBLEMS,
                      runner=runner, alpha=0.5, record=records.append,
                      log_metric=lambda name, value: metrics.__setitem__(name, value))
    # validity 1, attack 1/2 (the buggy sample fails clamp(5,0,3)); validity 1, attack 0;
    # validity 1/2 (the reference fails clamp(5,0,3)==5), attack 0 (the only valid test passes);
    # nothing parses: 0.
    assert got == [pytest.approx(0.75), pytest.approx(0.5), pytest.approx(0.25), 0.0]
    assert records[0]["tests"][0] == {"test": "assert clamp(5, 0, 3) == 3", "valid": True, "broke": [1], "passed": 1}
    assert records[2]["tests"][0]["valid"] is False and records[2]["tests"][0]["broke"] == []
    assert metrics == {"validity": pytest.approx(2.5 / 4), "attack_rate": pytest.approx(0.5 / 4),
                       "malformed": 0.25}


def test_alpha_weights_the_two_parts(runner) -> None:
    samples = ["def clamp(x, lo, hi):\n    return x\n"]
    completion = "```python\nassert clamp(5, 0, 3) == 3\nassert clamp(5, 0, 3) == 4\n```"
    for alpha, expected in ((0.0, 1.0), (1.0, 0.5), (0.25, 0.25 * 0.5 + 0.75)):
        got = rewards_module.test_reward([completion], question_id=["clamp"], code_samples=[samples],
                          problems=PROBLEMS, runner=runner, alpha=alpha)
        assert got == [pytest.approx(expected)]


def test_runner_memoizes_and_skips_sources_that_do_not_load(runner) -> None:
    fresh = TestRunner(Limits(timeout_s=5))
    jobs = [("def f(:\n", "f", f"assert f({i}) == {i}") for i in range(5)]
    outcomes = fresh.run(jobs)
    assert fresh.programs_run == 1  # only the load check ran
    assert all(not o.passed and o.broken and o.status == "compile_error" for o in outcomes)
    good = [("def f(x):\n    return x\n", "f", "assert f(2) == 2")] * 3
    assert [o.passed for o in fresh.run(good)] == [True] * 3
    assert fresh.programs_run == 3  # load check + one test, run once for three jobs
    fresh.run(good)
    assert fresh.programs_run == 3


def test_bind_keeps_the_name_trl_logs_by(runner) -> None:
    bound = bind(code_reward, problems=PROBLEMS, runner=runner)
    assert bound.__name__ == "code_reward"
    assert bound([GOOD], question_id=["clamp"], tests=[["assert clamp(0, 1, 2) == 1"]],
                 prompts=["ignored"], trainer_state=None) == [1.0]
