"""Decontamination: 5-gram Jaccard against benchmark prompts and solutions."""

from __future__ import annotations

import pytest

from codistill.evaluate.benchmarks import load_benchmark
from codistill.evaluate.decontam import (
    DecontaminationError,
    Decontaminator,
    jaccard,
    ngrams,
    texts_of,
)
from codistill.records import Problem


def test_ngrams_and_jaccard_on_literals() -> None:
    assert ngrams("a b c d e f", 5) == {("a", "b", "c", "d", "e"), ("b", "c", "d", "e", "f")}
    assert ngrams("Return X, then y!", 2) == {("return", "x"), ("x", "then"), ("then", "y")}
    assert ngrams("short text", 5) == {("short", "text")}
    assert ngrams("", 5) == set()
    assert jaccard({1, 2, 3}, {2, 3, 4}) == pytest.approx(2 / 4)
    assert jaccard(set(), set()) == 0.0
    assert jaccard({1}, {1}) == 1.0


@pytest.fixture(scope="module")
def checker() -> Decontaminator:
    return Decontaminator(benchmarks=("humaneval", "mbpp"))


def test_unavailable_benchmark_is_skipped_with_a_reason(checker: Decontaminator) -> None:
    # HumanEval is always there; MBPP is indexed only when its file or the hub is reachable.
    assert "humaneval" not in checker.skipped and checker.size >= 2 * 164
    if "mbpp" in checker.skipped:
        assert "mbpp" in checker.skipped["mbpp"]


def test_coverage_says_what_was_checked_and_what_not() -> None:
    index = Decontaminator(benchmarks=("humaneval", "mbpp:/nonexistent/sanitized-mbpp.json"))
    assert index.checked == {"humaneval": 164}
    assert list(index.skipped) == ["mbpp:/nonexistent/sanitized-mbpp.json"]
    assert index.coverage() == {"checked": {"humaneval": 164}, "skipped": index.skipped}
    line = index.describe()
    assert line.startswith("decontamination: training data checked against humaneval (164 tasks); "
                           "NOT checked: mbpp:/nonexistent/sanitized-mbpp.json (")
    with pytest.raises(DecontaminationError, match="data.require_decontamination: false"):
        index.require_all()
    Decontaminator(benchmarks=("humaneval",)).require_all()  # nothing missing: no error


def test_a_copied_humaneval_prompt_matches(checker: Decontaminator) -> None:
    task = load_benchmark("humaneval")[12]
    matches = checker.matches(task.prompt)
    assert matches[0].task_id == task.id and matches[0].field == "prompt"
    assert matches[0].similarity == 1.0


def test_a_lightly_edited_solution_still_matches(checker: Decontaminator) -> None:
    task = load_benchmark("humaneval")[0]
    solution = task.reference[len(task.prompt):]
    edited = solution + "\n    # no pair was close enough\n"  # a few new 5-grams, not most
    found = checker.matches(edited)
    assert any(m.task_id == task.id and m.field == "solution" for m in found)


def test_unrelated_text_does_not_match(checker: Decontaminator) -> None:
    text = ("Write a function that parses an ISO-8601 duration string such as P3DT4H and returns "
            "the total number of seconds, rejecting malformed input with a ValueError.")
    assert checker.matches(text) == []


def test_filter_splits_training_problems(checker: Decontaminator) -> None:
    he = load_benchmark("humaneval")[3]
    copied = Problem(id="train/1", question=he.prompt, tests="")
    fresh = Problem(id="train/2", question="Compute the checksum of a barcode with weights 3 and 1 "
                    "alternating from the right, returning the check digit.", tests="")
    kept, dropped = checker.filter([copied, fresh])
    assert [p.id for p in kept] == ["train/2"]
    assert dropped[0][0].id == "train/1" and dropped[0][1][0].task_id == he.id
    assert dropped[0][1][0].checked == "question"


def test_threshold_and_problem_index() -> None:
    base = Problem(id="B/1", question="alpha beta gamma delta epsilon zeta eta theta iota kappa",
                   tests="", source="bench")
    near = "alpha beta gamma delta epsilon zeta eta theta iota lambda"  # 5 shared of 7 in all
    strict = Decontaminator(problems=[base], threshold=0.75)
    loose = Decontaminator(problems=[base], threshold=0.7)
    assert strict.matches(near) == []
    assert [m.task_id for m in loose.matches(near)] == ["B/1"]
    assert loose.matches(near)[0].similarity == pytest.approx(5 / 7, abs=1e-4)
    with pytest.raises(ValueError, match="threshold"):
        Decontaminator(problems=[base], threshold=0)


def test_texts_of_walks_any_row() -> None:
    row = {"messages": [{"role": "user", "content": "hi"}], "n": 3, "code": "x = 1"}
    assert texts_of(row) == [("messages.0.role", "user"), ("messages.0.content", "hi"),
                             ("code", "x = 1")]
