"""The rubric judge: robust parsing of literal replies, scripted judge models, honest counts."""

from __future__ import annotations

import pytest

from codistill.evaluate.judge import MAX_SCORE, RUBRIC, judge_answers, parse_judgment, summarize
from codistill.models.fake import FakeGenerator, prompt_text
from codistill.records import Problem

FULL = ('{"basic_functionality": 2, "boundary_checks": 1, "requirement_coverage": 1, '
        '"readability": 0, "coding_practice": 1, "reason": "misses {edge} cases"}')

REPLIES = [
    (FULL, 5.0, True),
    ("```json\n" + FULL + "\n```\nThat is my assessment.", 5.0, True),
    ("Let me think. {not json} Final: " + FULL.replace("0", "1"), 6.0, True),
    ('{"Basic Functionality": "2/2", "Boundary Checks": "0/1", "Requirement Coverage": 1,'
     ' "Readability/Documentation": 1, "Coding Practice": 1}', 5.0, True),
    # over the criterion maximum and negative: clamped
    ('{"basic_functionality": 5, "boundary_checks": -1, "requirement_coverage": 1, '
     '"readability": 1, "coding_practice": 1}', 5.0, True),
    # nested under "scores", with aliases
    ('{"scores": {"functionality": 1, "edge_cases": 1, "requirements": 0, "documentation": 1,'
     ' "best_practices": 1}}', 4.0, True),
    ("Score: 4/6", 4.0, True),
    ("The total is 3 out of 6 points.", 3.0, True),
    ("**Basic functionality**: 1/2\n**Boundary checks**: 0\n- Requirement coverage: 1\n"
     "Readability: 1\nCoding practice: 0\n", 3.0, True),
    ('{"total": 7}', float(MAX_SCORE), True),
    ("I cannot grade this.", None, False),
    ("{broken", None, False),
    ('{"basic_functionality": 2, "boundary_checks": 1}', None, False),  # incomplete, no total
    ("", None, False),
]


@pytest.mark.parametrize(("reply", "score", "parsed"), REPLIES)
def test_parse_judgment(reply: str, score: float | None, parsed: bool) -> None:
    judgment = parse_judgment(reply)
    assert judgment.score == score
    assert judgment.parsed is parsed
    assert judgment.raw == reply
    for key, points in judgment.parts.items():
        assert 0 <= points <= RUBRIC[key]


PROBLEMS = [
    Problem(id=f"P/{i}", question=f"Write a function number {i} that doubles x.",
            entry_point="double", tests="assert double(2) == 4\n")
    for i in range(4)
]


def test_judge_answers_with_a_scripted_judge_counts_unparsed() -> None:
    judge = FakeGenerator({
        "number 0": FULL,
        "number 1": "Score: 2/6",
        "number 2": "garbage without any number",
        "number 3": "```json\n{\"score\": \"six\"}\n```",
    })
    items = [(p, "def double(x):\n    return 2 * x\n") for p in PROBLEMS]
    judgments = judge_answers(judge, items, verdicts=["passed", "failed: x", None, "passed"])
    assert [j.score for j in judgments] == [5.0, 2.0, None, None]
    summary = summarize(judgments)
    assert summary["scored"] == 2 and summary["unparsed"] == 2
    assert summary["mean"] == pytest.approx(3.5)  # unparsed ones are not counted as 0
    sent = [prompt_text(r) for r in judge.requests]
    assert "def double(x)" in sent[0] and "basic_functionality (0-2)" in sent[0]
    assert "failed: x" in sent[1] and "Result of running" not in sent[2]
    assert all(call.sampling.temperature == 0 for call in judge.calls)


def test_summarize_with_nothing_parsed_has_no_mean() -> None:
    summary = summarize([parse_judgment("no"), parse_judgment("nope")])
    assert summary["mean"] is None and summary["unparsed"] == 2
