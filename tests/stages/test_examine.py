"""Stage II: student answers are executed and judged; environment problems are set apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from codistill.config import Ablation, Examine
from codistill.jsonl import Appender, read_records
from codistill.models.base import Request, Sampling
from codistill.models.fake import FakeGenerator, prompt_text
from codistill.records import Answer, Problem
from codistill.sandbox import Limits
from codistill.stages.context import StageContext
from codistill.stages.examine import examine_stage, examine_stats

LIMITS = Limits(timeout_s=5)
CTX = StageContext(limits=LIMITS)
TESTS = "def check(candidate):\n    assert candidate(2) == 4\n"
PROBLEMS = [
    Problem(id="good", question="q", prompt='def f(x):\n    """good"""\n', entry_point="f", tests=TESTS),
    Problem(id="bad", question="q", prompt='def f(x):\n    """bad"""\n', entry_point="f", tests=TESTS),
    Problem(id="env", question="q", prompt='def f(x):\n    """env"""\n', entry_point="f", tests=TESTS),
]
ANSWERS = {
    "good": "```python\ndef f(x):\n    return x * 2\n```",
    "bad": "```python\ndef f(x):\n    return x + 1\n```",
    "env": "```python\nimport numpy_not_installed_anywhere\ndef f(x):\n    return x * 2\n```",
}


def _student(request: Request, sampling: Sampling, index: int) -> str:
    return next(v for k, v in ANSWERS.items() if f'"""{k}"""' in prompt_text(request))


FULL = '{"basic_functionality": 2, "boundary_checks": 1, "requirement_coverage": 1, "readability": 1, "coding_practice": 0}'
FOOLED = '{"basic_functionality": 2, "boundary_checks": 1, "requirement_coverage": 1, "readability": 0, "coding_practice": 0}'
ZERO = '{"basic_functionality": 0, "boundary_checks": 0, "requirement_coverage": 0, "readability": 0, "coding_practice": 0}'


def _judge(request: Request, sampling: Sampling, index: int) -> str:
    """Grades by reading the code; fooled by the wrong `x + 1` unless told the tests failed."""
    text = prompt_text(request)
    if "Tests did not pass" in text:
        return ZERO
    if "numpy_not_installed_anywhere" in text:
        return "I cannot grade this."
    return FULL if "x * 2" in text else FOOLED


def test_examine_runs_and_judges_each_answer() -> None:
    judge = FakeGenerator(_judge)
    answers, stats = examine_stage(PROBLEMS, FakeGenerator(_student), judge, Examine(), Ablation(), CTX)
    by_id = {a.problem_id: a for a in answers}
    assert by_id["good"].passed and by_id["good"].judge_score == 5
    assert not by_id["bad"].passed and by_id["bad"].status == "failed"
    assert by_id["env"].judge_score is None  # unparseable judgment: None, never a silent 0
    assert by_id["env"].environment_error and not by_id["env"].passed
    assert stats.judge_unparsed == 1
    assert stats.counts["passed"] == 1 and stats.counts["environment_error"] == 1
    # Independent views by default: the judge never learns the verdict, and is fooled once.
    assert not any("Result of running" in prompt_text(r) for r in judge.requests)
    assert by_id["bad"].judge_score == 4
    assert (stats.views.compared, stats.views.agree, stats.views.agreement) == (2, 1, 0.5)
    assert stats.views.judge_saw_verdict is False


def test_a_judge_told_the_verdict_agrees_with_it() -> None:
    judge = FakeGenerator(_judge)
    answers, stats = examine_stage(PROBLEMS, FakeGenerator(_student), judge,
                                   Examine(judge_sees_verdict=True), Ablation(), CTX)
    assert {a.problem_id: a.judge_score for a in answers}["bad"] == 0
    assert sum("Result of running" in prompt_text(r) for r in judge.requests) == 3
    assert (stats.views.compared, stats.views.agree, stats.views.judge_saw_verdict) == (2, 2, True)


def test_ablations_skip_judge_or_execution() -> None:
    judge = FakeGenerator(_judge)
    answers, _ = examine_stage(PROBLEMS[:1], FakeGenerator(_student), judge, Examine(),
                               Ablation(no_judge=True), CTX)
    assert answers[0].passed and answers[0].judge_score is None and not judge.calls
    answers, _ = examine_stage(PROBLEMS[:1], FakeGenerator(_student), judge, Examine(),
                               Ablation(no_execution=True), CTX)
    assert answers[0].status == "skipped" and judge.calls


def test_stats_of_a_resumed_stage_count_every_answer_in_its_file(tmp_path: Path) -> None:
    path = tmp_path / "examine.jsonl"
    common = (Examine(), Ablation())
    with Appender(path) as out:  # one attempt answers the first question, then is stopped
        _, first = examine_stage(PROBLEMS[:1], FakeGenerator(_student), FakeGenerator(_judge), *common,
                                 CTX.replace(out=out))
    with Appender(path) as out:  # the next answers the rest
        examine_stage(PROBLEMS, FakeGenerator(_student), FakeGenerator(_judge), *common,
                      CTX.replace(out=out, done=frozenset({"good"})))
    _, one_pass = examine_stage(PROBLEMS, FakeGenerator(_student), FakeGenerator(_judge), *common, CTX)
    total = examine_stats(read_records(path, Answer), judged=True)
    assert total == one_pass.model_copy(update={"seconds": 0.0})
    assert total != first.model_copy(update={"seconds": 0.0})
    assert total.counts["answers"] == 3 and total.student_tokens > 0


def test_too_many_unreadable_grades_stop_the_run() -> None:
    from codistill.stages.examine import GradingError, check_unparsed

    check_unparsed(1, 10, 0.1, "judge")  # 10%: at the limit, allowed
    with pytest.raises(GradingError, match=r"2 of 10 grades from judge could not be read .*max_unparsed"):
        check_unparsed(2, 10, 0.1, "judge")
    check_unparsed(0, 0, 0.1, "judge")  # nothing graded


def test_scoring_model_validation_on_held_out_annotations() -> None:
    from codistill.stages.scorer import scorer_rows, split_rows, validate_scorer

    answers = [Answer(problem_id=p.id, code="def f(x):\n    return x * 2\n", status="passed", passed=True,
                      judge_score=5, judge_raw=FULL) for p in PROBLEMS]
    rows = scorer_rows({p.id: p for p in PROBLEMS}, answers)
    train, held = split_rows(rows, 0.5)
    assert sorted(r["id"] for r in train + held) == sorted(r["id"] for r in rows) and held
    assert split_rows(rows, 0.5) == (train, held)  # fixed by the ids
    close = validate_scorer(FakeGenerator(lambda r, s, i: FOOLED), rows)  # 4 where the judge said 5
    assert (close.annotations, close.parsed, close.exact, close.within_one, close.mae) == (3, 3, 0.0, 1.0, 1.0)
    assert close.passes(3, 0.8) and not close.passes(100, 0.8)
    far = validate_scorer(FakeGenerator(lambda r, s, i: ZERO), rows)
    assert far.within_one == 0.0 and not far.passes(1, 0.8)
    mute = validate_scorer(FakeGenerator(lambda r, s, i: "no idea"), rows)
    assert mute.parsed == 0 and mute.within_one == 0.0 and mute.mae is None
    assert "3 unreadable" in mute.line()
