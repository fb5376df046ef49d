"""Stage II, multi-view feedback: the student answers every question; the sandbox runs each
answer and the judge grades it on the 6-point rubric.

Environment problems (a missing third-party module, a missing toolchain) are recorded as such
and excluded from the buckets, not held against the student.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from codistill.answer_runs import from_answer, run_candidates
from codistill.config import Ablation, Examine
from codistill.errors import UserError
from codistill.evaluate.judge import judge_answers
from codistill.models.base import Generator, Sampling
from codistill.prompting import solve_request
from codistill.records import Answer, Problem
from codistill.sandbox import Status
from codistill.stages.context import StageContext
from codistill.stages.stats import ExamineStats, JudgeViews


class GradingError(UserError, RuntimeError):
    """Too many grades could not be read: buckets built from the rest would mislead."""


def check_unparsed(unparsed: int, graded: int, limit: float, who: str) -> None:
    """Raise GradingError when more than `limit` of `graded` grades were unreadable."""
    if graded and unparsed / graded > limit:
        raise GradingError(
            f"{unparsed} of {graded} grades from {who} could not be read ({unparsed / graded:.0%}, "
            f"more than examine.max_unparsed = {limit:.0%}): it does not answer in the rubric's "
            "format. Use a stronger judge (models.judge), set examine.judge: false to bucket by "
            "execution alone, or raise examine.max_unparsed (then rerun with --force)")


def _count(stats: ExamineStats, answer: Answer, *, judged: bool) -> None:
    """Add one answer; `judged` when the judge graded it (an unparsed grade then counts)."""
    if answer.status is not Status.SKIPPED:
        stats.add(f"status_{answer.status}")
    stats.student_tokens += answer.tokens
    stats.judge_unparsed += judged and answer.judge_score is None
    stats.add("answers")
    stats.add("passed" if answer.passed else "environment_error" if answer.environment_error else "failed")


def judging(judge: Generator | None, settings: Examine, ablation: Ablation) -> bool:
    """Whether the judge grades answers in this setup."""
    return judge is not None and settings.judge and not ablation.no_judge


def examine_stats(answers: Iterable[Answer], *, judged: bool, works_from: float = 2.0,
                  saw_verdict: bool = False) -> ExamineStats:
    """The stage's counts over these answers (all of a stage file's, on resume).

    The two views agree on an answer when it passed and the judge gave at least `works_from`
    points, or it failed and the judge gave less: the boundary below which the curriculum calls
    a question hard (curriculum.hard_max_score). `saw_verdict`: the judge was told the verdict.
    """
    stats = ExamineStats(views=JudgeViews(judge_saw_verdict=saw_verdict))
    for answer in answers:
        _count(stats, answer, judged=judged)
        if answer.judge_score is not None and answer.status is not Status.SKIPPED and not answer.environment_error:
            stats.views.compared += 1
            stats.views.agree += answer.passed == (answer.judge_score >= works_from)
    return stats


def verdict_line(answer: Answer, settings: Examine) -> str:
    """What the judge is told about the sandbox's verdict: nothing unless `judge_sees_verdict`
    (and nothing when execution was skipped)."""
    if answer.status is Status.SKIPPED or not settings.judge_sees_verdict:
        return ""
    if answer.passed:
        return "All tests passed."
    return f"Tests did not pass ({answer.status}). {answer.message}".strip()


def examine_batch(problems: Sequence[Problem], student: Generator, judge: Generator | None,
                  settings: Examine, ablation: Ablation, ctx: StageContext) -> list[Answer]:
    """Answer, run and grade one batch of questions."""
    g = settings.generation
    limits, workers = ctx.limits, ctx.workers
    sampling = Sampling(temperature=g.temperature, top_p=g.top_p,
                        max_new_tokens=g.max_new_tokens, seed=ctx.seed)
    gens = student.generate([solve_request(p) for p in problems], sampling)
    candidates = [from_answer(p, gen.text) for p, gen in zip(problems, gens, strict=True)]
    answers = [Answer(problem_id=p.id, code=c.code, status=Status.SKIPPED, passed=False,
                      raw=gen.text, tokens=sum(gen.completion_tokens))
               for p, c, gen in zip(problems, candidates, gens, strict=True)]
    if not ablation.no_execution:
        checked = run_candidates(candidates, limits, workers=workers)
        for a, verdict in zip(answers, [c.verdict for c in checked], strict=True):
            a.status, a.passed = verdict.status, verdict.passed
            a.environment_error = verdict.status.is_environment
            a.message, a.failed_test = verdict.message[:300], verdict.failed_test
    if judge is not None and judging(judge, settings, ablation):
        items = [(p, a.code) for p, a in zip(problems, answers, strict=True)]
        verdicts = [verdict_line(a, settings) or None for a in answers]
        for a, judgment in zip(answers, judge_answers(judge, items, verdicts=verdicts), strict=True):
            a.judge_score, a.judge_raw = judgment.score, judgment.raw
    return answers


def examine_stage(problems: Sequence[Problem], student: Generator, judge: Generator | None,
                  settings: Examine, ablation: Ablation, ctx: StageContext, *,
                  batch_size: int = 32) -> tuple[list[Answer], ExamineStats]:
    """Stage II over all questions in batches, appending each answer to `ctx.out` as it is made.

    Questions in `ctx.done` were answered by an earlier, interrupted run and are skipped; the
    stats count this call's answers (`examine_stats` counts a whole stage file).
    """
    start = time.perf_counter()
    todo = [p for p in problems if p.id not in ctx.done]
    answers: list[Answer] = []
    for i in range(0, len(todo), batch_size):
        batch = examine_batch(todo[i : i + batch_size], student, judge, settings, ablation, ctx)
        for a in batch:
            if ctx.out is not None:
                ctx.out.write(a)
        answers.extend(batch)
        ctx.advance(len(batch))
    stats = examine_stats(answers, judged=judging(judge, settings, ablation),
                          saw_verdict=settings.judge_sees_verdict)
    stats.seconds = time.perf_counter() - start
    return answers, stats
