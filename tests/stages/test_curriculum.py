"""SODA stage III: buckets, parent plans and teacher-evolved questions, literal records in and out."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

import codistill
from codistill.config import Ablation
from codistill.jsonl import Appender, read_records
from codistill.models.base import ModelError, Request, Sampling
from codistill.models.fake import FakeGenerator, prompt_text
from codistill.records import Problem
from codistill.stages.context import StageContext
from codistill.stages.curriculum import (
    Evolved,
    assign_buckets,
    bucket_of,
    curriculum_stage,
    plan_parents,
    quotas,
)

from .helpers_curriculum import (
    CONTAMINATED,
    DUPLICATE,
    ENVIRONMENT,
    GARBAGE,
    GOOD,
    GOOD_2,
    LIMITS,
    POOL_QUESTION,
    REFERENCE_FAILS,
    VACUOUS,
    answer,
    parent,
    settings,
)

S = settings(10)
NONE = Ablation()


@pytest.mark.parametrize(("passed", "score", "bucket"), [
    (True, 6.0, "easy"), (True, 4.0, "easy"), (True, 3.99, "medium"), (True, 2.0, "medium"),
    (True, 1.99, "hard"), (True, 0.0, "hard"), (False, 6.0, "hard"), (False, 3.0, "hard"),
    (True, None, "easy"), (False, None, "hard"),
])
def test_bucket_edges(passed: bool, score: float | None, bucket: str) -> None:
    assert bucket_of(answer("q", passed=passed, score=score), S, NONE) == bucket


@pytest.mark.parametrize("a", [
    answer("q", passed=False, score=6.0, status="environment_error", environment_error=True),
    answer("q", passed=False, score=6.0, status="sandbox_error"),
])
def test_environment_problems_are_excluded(a) -> None:  # noqa: ANN001
    assert bucket_of(a, S, NONE) == "excluded"
    assert bucket_of(a, S, Ablation(no_judge=True)) == "excluded"


def test_ablations_use_one_view_only() -> None:
    no_judge, no_exec = Ablation(no_judge=True), Ablation(no_execution=True)
    assert bucket_of(answer("q", passed=True, score=1.0), S, no_judge) == "easy"
    assert bucket_of(answer("q", passed=False, score=6.0), S, no_judge) == "hard"
    assert bucket_of(answer("q", passed=False, score=5.0, status="skipped"), S, no_exec) == "easy"
    assert bucket_of(answer("q", passed=False, score=3.0, status="skipped"), S, no_exec) == "medium"
    assert bucket_of(answer("q", passed=True, score=1.0), S, no_exec) == "hard"
    assert bucket_of(answer("q", passed=False, score=None, status="skipped"), S, no_exec) == "excluded"


def test_custom_thresholds_can_leave_no_medium() -> None:
    tight = settings(10, easy_min_score=3.0, hard_max_score=3.0)
    assert [bucket_of(answer("q", passed=True, score=s), tight, NONE) for s in (2.9, 3.0)] == ["hard", "easy"]


def test_assign_buckets_returns_copies() -> None:
    answers = [answer("a", passed=True, score=5), answer("b", passed=True, score=3),
               answer("c", passed=False, score=5)]
    out = assign_buckets(answers, S, NONE)
    assert [a.bucket for a in out] == ["easy", "medium", "hard"]
    assert [a.bucket for a in answers] == ["hard", "hard", "hard"]  # the default, untouched


@pytest.mark.parametrize(("sizes", "n", "ratio", "want"), [
    ({"easy": 5, "medium": 5, "hard": 5}, 8, (1, 1, 2), {"easy": 2, "medium": 2, "hard": 4}),
    ({"easy": 5, "medium": 5, "hard": 5}, 10, (1, 1, 2), {"easy": 2, "medium": 3, "hard": 5}),
    ({"easy": 0, "medium": 5, "hard": 1}, 9, (1, 1, 2), {"easy": 0, "medium": 3, "hard": 6}),
    ({"easy": 1, "medium": 0, "hard": 0}, 4, (1, 1, 2), {"easy": 4, "medium": 0, "hard": 0}),
    ({"easy": 3, "medium": 3, "hard": 3}, 3, (0, 0, 1), {"easy": 0, "medium": 0, "hard": 3}),
    ({"easy": 0, "medium": 0, "hard": 0}, 5, (1, 1, 2), {"easy": 0, "medium": 0, "hard": 0}),
])
def test_quotas_split_by_ratio_over_non_empty_buckets(sizes, n, ratio, want) -> None:  # noqa: ANN001
    got, _ = quotas(sizes, n, ratio)
    assert got == want


def test_quotas_say_what_moved() -> None:
    _, notes = quotas({"easy": 0, "medium": 2, "hard": 2}, 8, (1, 1, 2))
    assert notes == ["bucket 'easy' is empty: its share of 1 went to the other buckets in proportion"]
    got, notes = quotas({"easy": 0, "medium": 2, "hard": 0}, 4, (1, 0, 2))
    assert got == {"easy": 0, "medium": 4, "hard": 0}
    assert "spread evenly over medium" in notes[-1]
    assert quotas({}, 3, (1, 1, 2))[1][-1].startswith("no usable parents")


def bucketed_answers() -> list:
    """Two easy, one medium, three hard and one excluded question."""
    return assign_buckets([
        answer("e1", passed=True, score=5), answer("e2", passed=True, score=6),
        answer("m1", passed=True, score=3),
        answer("h1", passed=False), answer("h2", passed=False, score=1), answer("h3", passed=True, score=0),
        answer("x1", passed=False, status="environment_error", environment_error=True),
    ], S, NONE)


def test_plan_follows_quotas_reuses_parents_round_robin_and_is_seeded() -> None:
    answers = bucketed_answers()
    slots = plan_parents(answers, 12, (1, 1, 2), seed=7)
    assert Counter(s.bucket for s in slots) == {"easy": 3, "medium": 3, "hard": 6}
    assert {s.mode for s in slots if s.bucket == "easy"} == {"harder"}
    assert {s.mode for s in slots if s.bucket != "easy"} == {"same"}
    uses = Counter(s.parent_id for s in slots)
    assert uses == {"e1": 2, "e2": 1, "m1": 3, "h1": 2, "h2": 2, "h3": 2} or uses == {
        "e1": 1, "e2": 2, "m1": 3, "h1": 2, "h2": 2, "h3": 2}
    assert "x1" not in uses
    for pid, k in uses.items():  # every reuse is numbered, so its prompt differs
        assert sorted(s.variant for s in slots if s.parent_id == pid) == list(range(1, k + 1))
    assert len({s.slot_id for s in slots}) == 12
    assert plan_parents(answers, 12, (1, 1, 2), seed=7) == slots
    assert plan_parents(list(reversed(answers)), 12, (1, 1, 2), seed=7) == slots
    assert plan_parents(answers, 12, (1, 1, 2), seed=8) != slots


def test_random_plan_ignores_buckets_and_uses_every_parent_before_any_repeat() -> None:
    slots = plan_parents(bucketed_answers(), 8, (1, 1, 2), seed=1, random_sampling=True)
    assert {s.mode for s in slots} == {"same"}
    assert len({s.parent_id for s in slots[:6]}) == 6 and "x1" not in {s.parent_id for s in slots}
    assert slots == plan_parents(bucketed_answers(), 8, (1, 1, 2), seed=1, random_sampling=True)


# --- the whole stage, with a scripted teacher and the real sandbox --------------------------

REPLIES = [GOOD, REFERENCE_FAILS, VACUOUS, DUPLICATE, CONTAMINATED, GARBAGE, ENVIRONMENT, GOOD_2]
POOL_EXTRA = Problem(id="seed/vowels", question=POOL_QUESTION,
                     prompt='def count_vowels(items):\n    """Returns how many vowels the string contains."""\n',
                     entry_point="count_vowels", tests="assert count_vowels('a') == 1\n")


def scripted_teacher(replies: list[str], fail_after: int | None = None) -> FakeGenerator:
    """Replies by parent: the prompt quoting PARENT-<i> gets replies[i]; can die after K replies."""
    served = []

    def reply(request: Request, sampling: Sampling, index: int) -> str:
        if fail_after is not None and len(served) >= fail_after:
            raise ModelError("teacher went away")
        i = int(re.search(r"PARENT-(\d+)", prompt_text(request)).group(1))
        served.append(i)
        return replies[i]

    return FakeGenerator(reply, name="teacher")


def stage_inputs(k: int) -> tuple[dict[str, Problem], list]:
    parents = [parent(i) for i in range(k)]
    return {p.id: p for p in parents}, [answer(p.id, passed=False) for p in parents]


def run_stage(teacher: FakeGenerator, k: int, **kw):  # noqa: ANN003
    problems, answers = stage_inputs(k)
    kw.setdefault("out", None)
    ctx = StageContext(limits=LIMITS, seed=3, out=kw.pop("out", None), done=kw.pop("done", frozenset()),
                       previous=kw.pop("previous", ()))
    return curriculum_stage(problems, answers, teacher, settings(k), NONE, ctx, cycle=2,
                            pool=[*problems.values(), POOL_EXTRA], **kw)


def test_stage_keeps_valid_questions_and_counts_every_drop_by_reason(tmp_path) -> None:  # noqa: ANN001
    teacher = scripted_teacher(REPLIES)
    with Appender(tmp_path / "curriculum.jsonl") as out:
        result = run_stage(teacher, len(REPLIES), out=out)
    assert result.counts == {"generated": 8, "kept": 2, "unparseable": 1, "contaminated": 1,
                             "reference_fails": 1, "vacuous_tests": 1, "duplicate": 1,
                             "environment_error": 1, "tests_pruned": 0}
    assert result.bucket_sizes == {"easy": 0, "medium": 0, "hard": 8, "excluded": 0}
    assert result.plan == {"hard": 8} and result.tokens > 0
    assert sorted(p.entry_point for p in result.problems) == ["count_negatives", "longest_word"]
    kept = result.problems[0]
    assert kept.source == "evolved:cycle-2" and kept.parent in {"seed/p0", "seed/p7"}
    assert kept.id == f"evolved/cycle-2/{kept.meta['slot']}"
    assert kept.meta == {"bucket": "hard", "mode": "same", "slot": kept.meta["slot"]}
    assert kept.topic == "lists" and kept.difficulty == "easy"
    records = read_records(tmp_path / "curriculum.jsonl", Evolved)
    assert len(records) == 8 and sum(r.kept for r in records) == 2
    contaminated = next(r for r in records if r.reason == "contaminated")
    assert "HumanEval/0" in contaminated.detail
    assert "quantumflux" in next(r for r in records if r.reason == "environment_error").detail
    assert next(r for r in records if r.reason == "duplicate").detail.endswith("seed/vowels")


def test_same_topic_prompts_quote_the_parent_and_the_format() -> None:
    teacher = scripted_teacher([GOOD])
    run_stage(teacher, 1)
    text = prompt_text(teacher.requests[0])
    assert "PARENT-0: write `f0(x)`" in text and "same topic" in text and "## Tests" in text
    assert "HARDER" not in text


def test_easy_parents_ask_for_harder_questions_and_reuse_is_numbered() -> None:
    problems = {p.id: p for p in [parent(0)]}
    teacher = scripted_teacher([GOOD])
    result = curriculum_stage(problems, [answer("seed/p0", passed=True, score=6)], teacher,
                              settings(2), NONE, StageContext(limits=LIMITS), cycle=1,
                              pool=list(problems.values()))
    texts = [prompt_text(r) for r in teacher.requests]
    assert all("HARDER" in t for t in texts)
    assert sum("new exercise number 2" in t for t in texts) == 1
    # The same reply twice: the second is a near-copy of the first.
    assert result.counts["kept"] == 1 and result.counts["duplicate"] == 1
    assert result.problems[0].difficulty == "medium"  # one step up from the parent's "easy"


def test_a_duplicate_of_a_question_that_failed_validation_is_not_dropped() -> None:
    broken = GOOD.replace("return sum(1 for x in items if x < 0)", "return 0")
    result = run_stage(scripted_teacher([broken, GOOD]), 2)
    assert result.counts["reference_fails"] == 1 and result.counts["kept"] == 1


def test_a_wrong_expected_value_is_pruned_and_counted() -> None:
    one_wrong = GOOD_2.replace("candidate(['xy', 'zw']) == 'xy'", "candidate(['xy', 'zw']) == 'zw'")
    result = run_stage(scripted_teacher([one_wrong]), 1)
    assert result.counts["kept"] == 1 and result.counts["tests_pruned"] == 1
    [p] = result.problems
    assert p.meta["tests_pruned"] == "1/3" and "'zw'" not in p.tests


def test_no_difficulty_ablation_samples_at_random_and_asks_for_the_same_level() -> None:
    problems, _ = stage_inputs(2)
    answers = [answer("seed/p0", passed=True, score=6), answer("seed/p1", passed=False)]
    teacher = scripted_teacher([GOOD, GOOD_2])
    result = curriculum_stage(problems, answers, teacher, settings(2), Ablation(no_difficulty=True),
                              StageContext(limits=LIMITS), cycle=1, pool=list(problems.values()))
    assert all("HARDER" not in prompt_text(r) for r in teacher.requests)
    assert {p.meta["mode"] for p in result.problems} == {"same"} and result.notes == []


def test_resume_after_a_crash_repeats_no_finished_slot(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "curriculum.jsonl"
    dying = scripted_teacher(REPLIES, fail_after=5)
    with Appender(path) as out, pytest.raises(ModelError, match="went away"):
        run_stage(dying, 8, out=out, chunk=2)
    written = read_records(path, Evolved)
    assert len(written) == 4  # two whole batches of two; the third died half way
    done = {r.slot_id for r in written}
    previous = [r.model_dump(mode="json") for r in written]
    finished_prompts = {prompt_text(r) for r in dying.requests[:4]}

    again = scripted_teacher(REPLIES)
    with Appender(path) as out:
        resumed = run_stage(again, 8, out=out, done=done, previous=previous, chunk=2)
    assert len(again.requests) == 4
    assert not finished_prompts & {prompt_text(r) for r in again.requests}
    whole = run_stage(scripted_teacher(REPLIES), 8)
    assert resumed.counts == whole.counts
    assert sorted(p.id for p in resumed.problems) == sorted(p.id for p in whole.problems)
    assert len({r.slot_id for r in read_records(path, Evolved)}) == 8


def test_answers_for_unknown_questions_are_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not in `problems`"):
        curriculum_stage({}, [answer("nowhere", passed=False)], scripted_teacher([]), S, NONE,
                         StageContext(limits=LIMITS), cycle=1, pool=[])


@pytest.mark.slow
def test_embedded_teacher_writes_questions_that_survive_their_own_checks(tmp_path) -> None:  # noqa: ANN001
    from codistill.models import load_generator
    from codistill.sandbox import Program, run_all
    from codistill.stages.drafts import stub_source

    seeds = read_records(Path(codistill.__file__).parent / "data" / "seeds" / "python_a.jsonl", Problem)[:2]
    answers = [answer(seeds[0].id, passed=True, score=5.0), answer(seeds[1].id, passed=False)]
    with load_generator("embedded:teacher") as teacher, Appender(tmp_path / "c.jsonl") as out:
        result = curriculum_stage({p.id: p for p in seeds}, answers, teacher, settings(2), NONE,
                                  StageContext(limits=LIMITS, out=out), cycle=1, pool=seeds)
    records = read_records(tmp_path / "c.jsonl", Evolved)
    assert len(records) == 2 and result.counts["generated"] == 2 and result.tokens > 0
    assert sum(v for k, v in result.counts.items() if k not in ("generated", "tests_pruned")) == 2
    for p in result.problems:  # whatever was kept really is verified
        ref, stub = run_all([Program(p.language, p.reference, p.tests, p.entry_point),
                             Program(p.language, stub_source(p), p.tests, p.entry_point)], LIMITS)
        assert ref.passed and not stub.passed
