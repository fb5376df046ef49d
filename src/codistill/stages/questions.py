"""Grow a pool of verified practice questions at the teacher's level: write, screen, solve, agree.

For every slot the teacher writes a complete function with examples (codistill.data.synth). A
draft question is screened before any solving tokens are spent on it: it must parse, state at
least three example calls, be new (no repeated name or description) and not overlap a benchmark
(5-gram Jaccard). The teacher then answers the draft afresh, in the student's request format,
seeing only the signature and description. The writer's function and that answer both run on
the example inputs in the sandbox; the question is kept only when they return the same literal
value for every input (when they do not, a second, sampled answer may side with either). Those values become its tests and two of them its shown examples, so a
test is never one solution's own claim: two independent solutions agree on it by execution.

Questions grounded in real code (codistill.data.grounded, `grounded_writer`) go through the same
screening and settling; where the grounding function runs on its own it takes the writer's place,
so the tests are the original code's behaviour.

Every slot's outcome is appended to a JSONL file as it is decided, so a killed run resumes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from codistill.data.synth import (
    StubError,
    agreed_values,
    draft_question,
    duplicate_keys,
    output_program,
    read_outputs,
    settle,
    slot_request,
)
from codistill.extract import answer_code, answer_source
from codistill.models.base import Generator, Request, Sampling
from codistill.prompting import teacher_prompt
from codistill.records import Problem
from codistill.sandbox import Limits, run_all
from codistill.stages.context import StageContext
from codistill.stages.stats import QuestionStats

ANSWER = Sampling(temperature=0.0, max_new_tokens=384, seed=0)
WRITER_STOP = ("\n```",)  # the end of the writer's code block: what follows is commentary


def writer_sampling(temperature: float, top_p: float, max_new_tokens: int, seed: int) -> Sampling:
    """How question writers are sampled (in `codistill run` and in bench/gain.py alike)."""
    return Sampling(temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens,
                    stop=WRITER_STOP, seed=seed)
SECOND_ANSWER = Sampling(temperature=0.7, top_p=0.95, max_new_tokens=384, seed=1)


def question_stats(rows: Iterable[dict[str, Any]]) -> QuestionStats:
    """Outcomes and teacher tokens over these slot rows (all of a stage file's, on resume)."""
    stats = QuestionStats()
    for row in rows:
        stats.add(row["status"])
        stats.teacher_tokens += int(row.get("tokens", 0))
    return stats


class Screen:
    """Remembers accepted names and descriptions, and the benchmark index, across batches."""

    def __init__(self, decontaminator: Any | None) -> None:
        self.decontaminator = decontaminator
        self.seen: set[str] = set()

    def remember(self, problem: Problem) -> None:
        """Mark a problem's name and description as taken."""
        self.seen |= duplicate_keys(problem)

    def reason(self, problem: Problem) -> str:
        """Why a draft is rejected before solving ('' when it is not)."""
        if duplicate_keys(problem) & self.seen:
            return "duplicate"
        if self.decontaminator is not None and self.decontaminator.check_problem(problem):
            return "benchmark_overlap"
        return ""


def slot_id(seed: int, index: int, prefix: str = "synth") -> str:
    """The id of slot `index` (also the question's id when it is kept)."""
    return f"{prefix}-{seed}-{index}"


@dataclass(frozen=True)
class SlotWriter:
    """What the teacher is asked for in each slot and how its reply becomes a draft question.

    The default writes synth questions (codistill.data.synth); `grounded_writer` writes questions
    grounded in real code. Slot ids carry the prefix, so both kinds can share one file.
    """

    prefix: str = "synth"
    request: Callable[[int, int], Request] = slot_request  # (slot index, seed) -> request
    draft: Callable[[str, str, int], Problem] = field(  # (reply, slot id, slot index) -> draft
        default=lambda text, problem_id, _index: draft_question(text, problem_id))


def question_slots(data: Any) -> int:
    """How many slots the teacher-written sources of a run's `data` section ask for in all."""
    return (data.synth_questions if "synth" in data.seeds else 0) + (
        data.grounded_questions if "grounded" in data.seeds else 0)


def grow_sources(teacher: Generator, data: Any, sampling: Sampling, ctx: StageContext, *,
                 decontaminator: Any | None) -> None:
    """Every teacher-written source `data.seeds` names (synth, then grounded) into `ctx.out`.

    A resumed run skips the slots in `ctx.previous`, and each source screens its drafts against
    every question written before it, by an earlier attempt or by the sources before it.
    """
    seed = ctx.seed
    writers: list[tuple[SlotWriter, int]] = []
    if "synth" in data.seeds:
        writers.append((SlotWriter(), data.synth_questions))
    if "grounded" in data.seeds:
        writers.append((grounded_writer(data.grounded_from, seed), data.grounded_questions))
    for writer, slots in writers:
        written, _ = grow_questions(teacher, slots, sampling, ctx, decontaminator=decontaminator,
                                    writer=writer)
        ctx = ctx.replace(previous=(*ctx.previous, *written))


def grounded_writer(sources: Iterable[str], seed: int) -> SlotWriter:
    """Slots grounded in the functions of these modules or folders (codistill.data.grounded)."""
    from codistill.data.grounded import draft_grounded, grounded_request, harvest, slot_order

    order = slot_order(harvest(sources), seed)  # no function at all is an error now, not at slot 0
    return SlotWriter(prefix="grounded",
                      request=lambda index, _seed: grounded_request(order[index % len(order)], index, seed),
                      draft=lambda text, problem_id, index: draft_grounded(
                          text, order[index % len(order)], problem_id))


def _tokens(gens: Iterable[Any]) -> int:
    return sum(sum(g.completion_tokens or [0]) for g in gens)


def grow_questions(teacher: Generator, count: int, sampling: Sampling, ctx: StageContext, *,
                   decontaminator: Any | None = None, batch_size: int = 32,
                   writer: SlotWriter | None = None) -> tuple[list[dict[str, Any]], QuestionStats]:
    """Write, screen, answer and settle `count` slots into `ctx.out`; the rows this call wrote.

    Each slot's row is {"slot_id", "status", "tokens", ...}; status "verified" rows carry the
    final `problem` and the teacher's independent `answer` (code that passes the settled tests).
    The slots of `ctx.previous` (an earlier attempt's rows) and of `ctx.done` are skipped, and
    the earlier drafts screen the new ones. The stats count this call's rows (`question_stats`
    counts a whole file).
    """
    writer = writer or SlotWriter()
    seed, limits, workers = ctx.seed, ctx.limits, ctx.workers
    written: list[dict[str, Any]] = []
    screen = Screen(decontaminator)
    done: set[str] = set(ctx.done)
    for row in ctx.previous:
        done.add(row["slot_id"])
        if row.get("draft"):
            screen.remember(Problem.model_validate(row["draft"]))
    todo = [i for i in range(count) if slot_id(seed, i, writer.prefix) not in done]
    for start in range(0, len(todo), batch_size):
        slots = todo[start : start + batch_size]
        gens = teacher.generate([writer.request(i, seed) for i in slots], sampling)
        rows: list[dict[str, Any]] = []
        drafts: list[tuple[dict[str, Any], Problem]] = []
        for i, gen in zip(slots, gens, strict=True):
            sid = slot_id(seed, i, writer.prefix)
            row: dict[str, Any] = {"slot_id": sid, "raw": gen.text, "tokens": _tokens([gen])}
            rows.append(row)
            try:
                draft = writer.draft(gen.text, sid, i)
            except StubError as exc:
                row["status"] = str(exc)
                continue
            if why := screen.reason(draft):
                row["status"] = why
                continue
            screen.remember(draft)  # also within the batch: the first of two twins wins
            row["draft"] = draft.model_dump()
            drafts.append((row, draft))
        _settle(drafts, teacher, limits, workers)
        for row in rows:
            if ctx.out is not None:
                ctx.out.write(row)
        written += rows
        ctx.advance(len(slots))
    return written, question_stats(written)


def _answers(drafts: list[tuple[dict[str, Any], Problem]], teacher: Generator,
             sampling: Sampling) -> list[str]:
    """The teacher's answer to each draft; its tokens are added to the draft's row."""
    gens = teacher.generate([Request.user(teacher_prompt(d)) for _, d in drafts], sampling)
    for (row, _), gen in zip(drafts, gens, strict=True):
        row["tokens"] += _tokens([gen])
    return [answer_code(d, g.text) for (_, d), g in zip(drafts, gens, strict=True)]


def _outputs(items: list[tuple[Problem, str]], limits: Limits,
             workers: int | None) -> list[list[str] | None]:
    """What each (draft, code) returns on the draft's example inputs (None: it did not finish)."""
    programs = [output_program(code, d.meta["calls"], f"{d.id}#{k}")
                for k, (d, code) in enumerate(items)]
    verdicts = run_all(programs, limits, workers=workers) if programs else []
    return [read_outputs(v, len(d.meta["calls"])) for (d, _), v in zip(items, verdicts, strict=True)]


def _settle(drafts: list[tuple[dict[str, Any], Problem]], teacher: Generator, limits: Limits,
            workers: int | None) -> None:
    """Answer each draft afresh, run the answers and the writer's function on its inputs, keep
    what two of them agree on; a second, sampled answer breaks a tie between the first two."""
    if not drafts:
        return
    problems = [d for _, d in drafts]
    answers = _answers(drafts, teacher, ANSWER)
    outs = _outputs([(d, d.meta["writer_code"]) for d in problems]
                    + [(d, answer_source(d, a)) for d, a in zip(problems, answers, strict=True)],
                    limits, workers)
    writer, first = outs[: len(problems)], outs[len(problems) :]
    tied = [k for k in range(len(problems)) if agreed_values([writer[k], first[k]]) is None]
    second: dict[int, tuple[str, list[str] | None]] = {}
    if tied:
        again = _answers([drafts[k] for k in tied], teacher, SECOND_ANSWER)
        runs = _outputs([(problems[k], answer_source(problems[k], a))
                         for k, a in zip(tied, again, strict=True)], limits, workers)
        second = {k: (a, r) for k, a, r in zip(tied, again, runs, strict=True)}
    for k, (row, draft) in enumerate(drafts):
        row["answer"] = answers[k]
        row["outputs"] = {"writer": writer[k], "answer": first[k]}
        values = agreed_values([writer[k], first[k]])
        if values is None and k in second:
            answer2, run2 = second[k]
            row["outputs"]["second_answer"] = run2
            # Where the original code settles the tests, two teacher answers agreeing do not.
            others = (writer[k],) if draft.meta.get("tests_by") == "original" else (first[k], writer[k])
            for other in others:
                if (values := agreed_values([run2, other])) is not None:
                    # Keep an answer that is part of the agreement, in the student's format.
                    row["answer"] = answers[k] if other is first[k] else answer2
                    break
        if values is None:
            row["status"] = "no_answer" if first[k] is None and k in second and \
                second[k][1] is None else "disagree"
            continue
        row["status"] = "verified"
        row["problem"] = settle(draft, values).model_dump()


def verified(rows: Iterable[dict[str, Any]]) -> list[tuple[Problem, str]]:
    """(question, the teacher's independent answer) for every verified slot, in slot order."""
    return [(Problem.model_validate(r["problem"]), r["answer"]) for r in rows
            if r.get("status") == "verified"]
