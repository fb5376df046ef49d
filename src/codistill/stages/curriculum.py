"""Stage III of SODA, feedback-based update: bucket the examined questions, then have the teacher
write new ones from sampled parents (easy: a harder question; medium and hard: another of the
same topic and difficulty), mixed easy:medium:hard by `curriculum.ratio` (paper: 1:1:2).

Bucket rules (SODA, with our choices where the paper is silent):
- an answer whose run hit an environment or sandbox error is `excluded` (not the student's fault);
- easy = passed and judge score >= easy_min_score; medium = passed and
  hard_max_score <= score < easy_min_score; hard = failed, or score < hard_max_score;
- no_judge, or a missing score (judge off or unparseable): passed -> easy, failed -> hard. Without
  a quality score "medium" means nothing, and a solved question is what calls for a harder one;
- no_execution: the judge score alone; an answer without a score is excluded;
- no_difficulty (or strategy "random"): parents drawn uniformly regardless of bucket, and every
  new question asks for the same topic and difficulty, so no difficulty signal is used at all.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Sequence

from codistill.config import Ablation, Curriculum
from codistill.evaluate.decontam import Decontaminator
from codistill.models.base import Generator, Request
from codistill.prompting import language_vars, render
from codistill.records import Answer, Problem
from codistill.sandbox import Status
from codistill.stages.context import StageContext
from codistill.stages.drafts import layout, reply_rules
from codistill.stages.evolve import CHUNK, CurriculumResult, Evolved, Job, Slot, evolve_slots

__all__ = ["BUCKETS", "CurriculumResult", "Evolved", "Slot", "assign_buckets", "bucket_of",
           "bucket_sizes", "curriculum_stage", "plan_parents", "quotas"]

BUCKETS = ("easy", "medium", "hard")
HARDER = {"easy": "medium", "medium": "hard", "hard": "hard"}


def bucket_of(answer: Answer, settings: Curriculum, ablation: Ablation) -> str:
    """The bucket of one examined answer (rules in the module docstring)."""
    if answer.status.is_environment:
        return "excluded"
    score = answer.judge_score
    if ablation.no_judge:
        score = None
    if ablation.no_execution or answer.status is Status.SKIPPED:
        return "excluded" if score is None else _by_score(score, settings)
    if score is None:
        return "easy" if answer.passed else "hard"
    return _by_score(score, settings) if answer.passed else "hard"


def _by_score(score: float, settings: Curriculum) -> str:
    if score >= settings.easy_min_score:
        return "easy"
    return "hard" if score < settings.hard_max_score else "medium"


def assign_buckets(answers: list[Answer], settings: Curriculum, ablation: Ablation) -> list[Answer]:
    """Copies of the answers with `bucket` set."""
    return [a.model_copy(update={"bucket": bucket_of(a, settings, ablation)}) for a in answers]


def bucket_sizes(answers: Sequence[Answer]) -> dict[str, int]:
    """Distinct questions per bucket, excluded included."""
    per_question = {a.problem_id: a.bucket for a in answers}
    counts = Counter(per_question.values())
    return {b: counts.get(b, 0) for b in (*BUCKETS, "excluded")}


def quotas(sizes: dict[str, int], n: int, ratio: Sequence[float]) -> tuple[dict[str, int], list[str]]:
    """New questions per bucket: `n` split by `ratio` over the non-empty buckets (an empty
    bucket's share goes to the others in proportion), by largest remainder; plus notes saying
    what moved."""
    weights = {b: float(r) for b, r in zip(BUCKETS, ratio, strict=True) if sizes.get(b, 0) > 0}
    notes = [f"bucket {b!r} is empty: its share of {r:g} went to the other buckets in proportion"
             for b, r in zip(BUCKETS, ratio, strict=True) if r > 0 and not sizes.get(b, 0)]
    if weights and sum(weights.values()) <= 0:
        notes.append("every bucket with a positive share is empty: new questions spread evenly "
                     f"over {', '.join(weights)}")
        weights = dict.fromkeys(weights, 1.0)
    out = dict.fromkeys(BUCKETS, 0)
    if not weights or n <= 0:
        if n > 0:
            notes.append("no usable parents (every answer excluded): no new questions")
        return out, notes
    total = sum(weights.values())
    exact = {b: n * w / total for b, w in weights.items()}
    for b, x in exact.items():
        out[b] = int(x)
    left = n - sum(out.values())
    # Ties go to the harder bucket: SODA weights the hard bucket most.
    for b in sorted(exact, key=lambda b: (-(exact[b] - int(exact[b])), -BUCKETS.index(b)))[:left]:
        out[b] += 1
    return out, notes


def _slot_id(index: int, parent_id: str, mode: str, variant: int) -> str:
    digest = hashlib.sha256(f"{parent_id}|{mode}|{variant}".encode()).hexdigest()[:8]
    return f"s{index:05d}-{digest}"


def plan_parents(answers: list[Answer], n: int, ratio: tuple[float, float, float], *, seed: int,
                 random_sampling: bool = False) -> list[Slot]:
    """`n` slots: parents drawn per bucket by quota (round-robin over a seeded shuffle, so each
    parent is reused only after all its bucket-mates), or uniformly at random; deterministic."""
    rng = random.Random(seed)
    bucket = {a.problem_id: a.bucket for a in answers if a.bucket != "excluded"}
    picks: list[tuple[str, str, str]] = []  # (parent, bucket, mode)
    if random_sampling:
        parents = sorted(bucket)
        while parents and len(picks) < n:
            order = rng.sample(parents, len(parents))
            picks += [(p, bucket[p], "same") for p in order[: n - len(picks)]]
    else:
        sizes = Counter(bucket.values())
        wanted, _ = quotas(dict(sizes), n, ratio)
        for b in BUCKETS:
            members = rng.sample(sorted(p for p, pb in bucket.items() if pb == b), sizes.get(b, 0))
            mode = "harder" if b == "easy" else "same"
            picks += [(members[i % len(members)], b, mode) for i in range(wanted[b])]
        rng.shuffle(picks)  # interleave buckets, so a partial run is still a mixture
    uses: Counter[str] = Counter()
    slots = []
    for i, (parent, b, mode) in enumerate(picks):
        uses[parent] += 1
        slots.append(Slot(_slot_id(i, parent, mode, uses[parent]), parent, b, mode, uses[parent]))
    return slots


def evolve_request(parent: Problem, slot: Slot) -> Request:
    """The teacher's request for one slot: a harder question, or another like it."""
    name = "evolve_harder" if slot.mode == "harder" else "evolve_same"
    text = render(name, original=layout(parent), topic=parent.topic, variant=slot.variant,
                  rules=reply_rules(parent.language), **language_vars(parent.language))
    return Request.user(text)


def check_known(problems: dict[str, Problem], answers: Sequence[Answer]) -> None:
    """Fail clearly when an answer's question is missing from `problems`."""
    missing = sorted({a.problem_id for a in answers} - set(problems))
    if missing:
        raise ValueError(f"{len(missing)} answer(s) name questions not in `problems` (first: "
                         f"{missing[:3]}); pass the pool the student was examined on")


def curriculum_stage(problems: dict[str, Problem], answers: list[Answer], teacher: Generator,
                     settings: Curriculum, ablation: Ablation, ctx: StageContext, *, cycle: int,
                     pool: list[Problem], decontaminator: Decontaminator | None = None,
                     chunk: int = CHUNK) -> CurriculumResult:
    """SODA stage III: buckets, parent plan, teacher-written questions validated in the sandbox.

    Writes one Evolved record per slot to `ctx.out` as it goes and skips slots in `ctx.done`;
    records of skipped slots are read back from that file, so the result covers the whole cycle.
    """
    seed = ctx.seed
    check_known(problems, answers)
    bucketed = assign_buckets(answers, settings, ablation)
    sizes = bucket_sizes(bucketed)
    random_sampling = ablation.no_difficulty or settings.strategy == "random"
    slots = plan_parents(bucketed, settings.new_questions, settings.ratio, seed=seed,
                         random_sampling=random_sampling)
    jobs = []
    for slot in slots:
        parent = problems[slot.parent_id]
        jobs.append(Job(slot, evolve_request(parent, slot), f"evolved/cycle-{cycle}/{slot.slot_id}",
                        parent.language, {
                            "topic": parent.topic, "source": f"evolved:cycle-{cycle}",
                            "difficulty": HARDER.get(parent.difficulty, parent.difficulty)
                            if slot.mode == "harder" else parent.difficulty,
                            "parent": parent.id,
                            "meta": {"bucket": slot.bucket, "mode": slot.mode, "slot": slot.slot_id}}))
    result = evolve_slots(jobs, teacher, settings, ctx, pool=pool, decontaminator=decontaminator,
                          chunk=chunk)
    result.bucket_sizes = sizes
    result.plan = dict(Counter(s.bucket for s in slots))
    if not random_sampling:
        result.notes = quotas({b: sizes[b] for b in BUCKETS}, settings.new_questions, settings.ratio)[1]
    return result

