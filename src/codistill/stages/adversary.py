"""AKD's adversary: the teacher writes new problems aimed at what the student currently gets wrong.

Parents are the hard bucket (failed answers, or passing ones the judge scored low). For each,
the teacher sees the question, the student's wrong code and what went wrong (status, the failing
test, the sandbox's message, the fault class), and writes a new problem aimed at the same
weakness. A problem is verified as in SODA's curriculum (reference passes, stub fails, no
benchmark overlap, no near-copy), then the current student answers it (greedy) and only the
problems it FAILS are kept: their records carry the student's wrong answer (`student_answer`,
DPO's rejected side) and the problem the teacher's reference for SFT. Same budget as SODA (`curriculum.new_questions` slots), so
the two strategies compare on equal terms.
"""

from __future__ import annotations

import dataclasses
import re

from codistill.answer_runs import check_answers
from codistill.config import Ablation, Curriculum
from codistill.evaluate.decontam import Decontaminator
from codistill.faults import FAULT_DESCRIPTIONS
from codistill.models.base import Generator, Request, Sampling
from codistill.prompting import language_vars, render, solve_request
from codistill.records import Answer, Problem
from codistill.sandbox import Status
from codistill.stages.context import StageContext
from codistill.stages.curriculum import assign_buckets, bucket_sizes, check_known, plan_parents
from codistill.stages.drafts import layout, reply_rules
from codistill.stages.evolve import CHUNK, CurriculumResult, Evolved, ExtraScreen, Job, evolve_slots

STUDENT_MAX_NEW_TOKENS = 512  # as the examine stage's default: the student answers as it was examined
_NAME = re.compile(r"NameError|ReferenceError|not defined|cannot find symbol|undeclared|undefined: |"
                   r"cannot find value|UnboundLocalError|AttributeError")
_TYPE = re.compile(r"TypeError|incompatible types|invalid operands|mismatched types|cannot convert|"
                   r"ClassCastException|expected .* found")


def fault_class(answer: Answer) -> str:
    """Which of SODA's fault classes a failed answer shows (logic when nothing more specific)."""
    text = f"{answer.message} {answer.failed_test or ''}"
    if answer.status is Status.COMPILE_ERROR and not (_NAME.search(text) or _TYPE.search(text)):
        return "syntax"
    if answer.status is Status.TIMEOUT:
        return "timeout"
    if _NAME.search(text):
        return "name"
    if _TYPE.search(text):
        return "type"
    return "logic"


def failure_text(answer: Answer) -> str:
    """What went wrong, in words the teacher can act on."""
    if answer.passed:
        score = "unknown" if answer.judge_score is None else f"{answer.judge_score:g}/6"
        return (f"the tests passed, but a reviewer scored the answer {score}. "
                f"{answer.judge_raw.strip()[:300]}").strip()
    parts = [f"status {answer.status}"]
    if answer.failed_test:
        parts.append(f"failing test: {answer.failed_test.strip()[:300]}")
    if answer.message:
        parts.append(f"message: {answer.message.strip()[:300]}")
    return "; ".join(parts)


def adversary_request(parent: Problem, answer: Answer, variant: int) -> Request:
    """The teacher's request: a new problem that the student's mistake would fail again."""
    fault = fault_class(answer)
    text = render("adversary", original=layout(parent), code=answer.code or answer.raw or "(no code)",
                  failure=failure_text(answer), fault=fault,
                  fault_description=FAULT_DESCRIPTIONS[fault], variant=variant,
                  rules=reply_rules(parent.language), **language_vars(parent.language))
    return Request.user(text)


def student_screen(student: Generator, ctx: StageContext) -> ExtraScreen:
    """The AKD filter: the current student answers each kept problem; keep those it fails."""
    limits, workers = ctx.limits, ctx.workers
    sampling = Sampling(temperature=0.0, max_new_tokens=STUDENT_MAX_NEW_TOKENS, seed=ctx.seed)

    def screen(records: list[Evolved]) -> list[Evolved]:
        alive = [i for i, r in enumerate(records) if r.kept and r.problem is not None]
        problems: list[Problem] = [records[i].problem for i in alive]  # type: ignore[misc]
        gens = student.generate([solve_request(p) for p in problems], sampling)
        checked = check_answers(problems, [g.text for g in gens], limits, tag="student",
                                workers=workers)
        out = list(records)
        for i, p, g, ran in zip(alive, problems, gens, checked, strict=True):
            v = ran.verdict
            update = {"tokens": out[i].tokens + sum(g.completion_tokens)}
            if v.passed:
                update |= {"kept": False, "reason": "student_passes",
                           "detail": "the current student already solves it"}
            elif v.status.is_environment:
                update |= {"kept": False, "reason": "environment_error",
                           "detail": f"student's run: {v.message}"[:500]}
            else:
                meta = {**p.meta, "reference_solution_source": "teacher",
                        "student_status": str(v.status), "student_message": v.message[:300]}
                update["problem"] = p.model_copy(update={"meta": meta})
                update["student_answer"] = ran.code or g.text
            out[i] = out[i].model_copy(update=update)
        return out

    return screen


def adversary_stage(problems: dict[str, Problem], answers: list[Answer], teacher: Generator,
                    student: Generator, settings: Curriculum, ctx: StageContext, *, cycle: int,
                    pool: list[Problem], decontaminator: Decontaminator | None = None,
                    chunk: int = CHUNK) -> CurriculumResult:
    """AKD stage: adversarial problems from the student's failures, kept when the student fails them.

    Resumable like `curriculum_stage`: one Evolved record per slot, slots in `ctx.done` skipped.
    """
    seed = ctx.seed
    check_known(problems, answers)
    bucketed = assign_buckets(answers, settings, Ablation())
    hard = [a for a in bucketed if a.bucket == "hard"]
    by_id = {a.problem_id: a for a in hard}
    slots = [dataclasses.replace(s, mode="adversarial")
             for s in plan_parents(hard, settings.new_questions, (0.0, 0.0, 1.0), seed=seed)]
    jobs = []
    for slot in slots:
        parent, answer = problems[slot.parent_id], by_id[slot.parent_id]
        jobs.append(Job(slot, adversary_request(parent, answer, slot.variant),
                        f"adversary/cycle-{cycle}/{slot.slot_id}", parent.language, {
                            "topic": parent.topic, "difficulty": parent.difficulty,
                            "source": f"evolved:cycle-{cycle}", "parent": parent.id,
                            "meta": {"bucket": "hard", "mode": "adversarial", "slot": slot.slot_id,
                                     "fault": fault_class(answer)}}))
    result = evolve_slots(jobs, teacher, settings, ctx, pool=pool, extra=student_screen(student, ctx),
                          extra_reasons=("student_passes",), decontaminator=decontaminator, chunk=chunk)
    result.bucket_sizes = bucket_sizes(bucketed)
    result.plan = {"hard": len(slots)}
    if not hard and settings.new_questions:
        result.notes.append("the student failed no question: the adversary had nothing to aim at")
    return result

