"""From teacher replies to problems worth training on: parse, decontaminate, run, deduplicate.

The engine shared by SODA's curriculum and AKD's adversary. Each slot asks the teacher for one
new problem; a problem is kept only when it parses, overlaps no benchmark, its reference passes
its tests, a do-nothing stub fails them, and it is not a near-copy of a pool question or of an
earlier new one. Every slot, kept or dropped, becomes one `Evolved` line, written as it finishes,
so a killed run resumes with no repeated teacher calls for finished slots.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import model_validator

from codistill.answer_runs import as_written, run_candidates
from codistill.config import Curriculum
from codistill.errors import DraftError
from codistill.evaluate.decontam import Decontaminator, jaccard, ngrams
from codistill.models.base import GenerationFailed, Generator, Request, Sampling
from codistill.records import Problem, Record
from codistill.sandbox import Limits
from codistill.stages import drafts_python
from codistill.stages.context import StageContext
from codistill.stages.drafts import parse_draft, reply_rules, stub_source, to_problem
from codistill.stages.stats import CurriculumStats

DROP_REASONS = ("unparseable", "contaminated", "reference_fails", "vacuous_tests", "duplicate",
                "environment_error")
CHUNK = 16  # slots per teacher batch: what a crash can lose, and what one sandbox batch runs
MIN_ASSERTS = 2  # fewest teacher asserts a pruned test may keep


@dataclass(frozen=True)
class Slot:
    """One new question to write: from which parent, in which bucket, asking for what."""

    slot_id: str
    parent_id: str
    bucket: str
    mode: str  # "harder" | "same" | "adversarial"
    variant: int = 1  # the k-th slot drawn from this parent; the prompt says so, so replies differ


class Evolved(Record):
    """The outcome of one slot: the new problem when kept, else why it was dropped."""

    slot_id: str
    parent_id: str
    bucket: str
    mode: str
    kept: bool
    reason: str = ""  # one of DROP_REASONS (or the stage's own, e.g. student_passes)
    detail: str = ""  # what exactly: the parse error, the matched benchmark task, the verdict
    problem: Problem | None = None
    raw: str = ""  # the teacher's whole reply
    tokens: int = 0  # teacher (and, for AKD, student) tokens spent on this slot
    student_answer: str = ""  # AKD: the student's failing answer, the rejected side of its DPO pair

    @model_validator(mode="before")
    @classmethod
    def _rejected_in_meta(cls, data: Any) -> Any:
        """Runs made before `student_answer` kept it in the problem's `meta["rejected"]`."""
        problem = data.get("problem") if isinstance(data, dict) else None
        if isinstance(problem, dict) and "rejected" in problem.get("meta", {}):
            meta = dict(problem["meta"])
            data = {**data, "problem": {**problem, "meta": meta},
                    "student_answer": data.get("student_answer") or meta.pop("rejected")}
        return data

    def rejected(self) -> tuple[str, str] | None:
        """(problem id, the student's failing answer) for a kept AKD problem, else None."""
        if self.kept and self.problem is not None and self.student_answer:
            return self.problem.id, self.student_answer
        return None


@dataclass
class CurriculumResult:
    """What a curriculum stage produced, and the numbers the run report shows."""

    problems: list[Problem]
    counts: dict[str, int]
    bucket_sizes: dict[str, int]
    tokens: int = 0
    seconds: float = 0.0
    plan: dict[str, int] = field(default_factory=dict)  # slots per bucket after redistribution
    notes: list[str] = field(default_factory=list)  # e.g. which empty bucket's share moved where

    def stats(self) -> CurriculumStats:
        """What the manifest records of this stage."""
        return CurriculumStats(counts=self.counts, bucket_sizes=self.bucket_sizes,
                               teacher_tokens=self.tokens)


@dataclass(frozen=True)
class Job:
    """A slot with its teacher request and the fields its new problem inherits."""

    slot: Slot
    request: Request
    problem_id: str
    language: str
    fields: dict[str, Any]


# A stage's extra filter over the records still kept (AKD: keep what the student fails).
ExtraScreen = Callable[[list[Evolved]], list[Evolved]]


@cache
def benchmark_index(threshold: float = 0.7, benchmarks: tuple[str, ...] = ("humaneval", "mbpp"),
                    ) -> Decontaminator:
    """The benchmarks (whichever are available; `.skipped` says which not), indexed once per process."""
    return Decontaminator(benchmarks, threshold=threshold)


class NearDuplicates:
    """Word 5-gram index of question texts; `find` returns the closest one at or above threshold."""

    def __init__(self, threshold: float, n: int = 5) -> None:
        self.threshold, self.n = threshold, n
        self._grams: dict[str, set[tuple[str, ...]]] = {}
        self._index: dict[tuple[str, ...], list[str]] = {}

    @staticmethod
    def text(problem: Problem) -> str:
        """What two problems are compared on: the question and the code prompt."""
        return f"{problem.question}\n{problem.prompt}"

    def add(self, key: str, text: str) -> None:
        """Index one text under `key`."""
        grams = ngrams(text, self.n)
        self._grams[key] = grams
        for gram in grams:
            self._index.setdefault(gram, []).append(key)

    def find(self, text: str) -> tuple[str, float] | None:
        """(key, similarity) of the most similar indexed text at or above the threshold."""
        grams = ngrams(text, self.n)
        candidates = {key for gram in grams for key in self._index.get(gram, ())}
        scored = [(key, jaccard(grams, self._grams[key])) for key in sorted(candidates)]
        best = max(scored, key=lambda item: item[1], default=None)
        return best if best is not None and best[1] >= self.threshold else None


def _stubs(p: Problem) -> list[str]:
    if p.language == "python":
        return drafts_python.stubs(p.prompt, p.entry_point, p.tests)
    return [stub_source(p)]


def _validate(problems: Sequence[Problem], limits: Limits,
              workers: int | None) -> list[tuple[str, str]]:
    """(drop reason or "", detail) per problem: the reference must pass, every stub must fail."""
    candidates, spans = [], []
    for p in problems:
        sources = [p.reference or "", *_stubs(p)]
        spans.append((len(candidates), len(candidates) + len(sources)))
        candidates += [as_written(p, src, tag=str(k)) for k, src in enumerate(sources)]
    verdicts = [c.verdict for c in run_candidates(candidates, limits, workers=workers)]
    out = []
    for start, end in spans:
        ref, stubs = verdicts[start], verdicts[start + 1 : end]
        passing = next((k for k, v in enumerate(stubs) if v.passed), None)
        if ref.status.is_environment:
            out.append(("environment_error", f"reference: {ref.message}"))
        elif not ref.passed:
            out.append(("reference_fails", f"{ref.status}: {ref.message}"[:500]))
        elif passing is not None:
            what = "a do-nothing stub" if passing == 0 else "a stub returning a constant"
            out.append(("vacuous_tests", f"{what} passes the tests"))
        elif any(v.status.is_environment for v in stubs):
            out.append(("environment_error", "a stub's run hit an environment error"))
        else:
            out.append(("", ""))
    return out


def _pruned(problems: Sequence[Problem], limits: Limits, workers: int | None) -> dict[int, Problem]:
    """Python problems whose tests the reference fails in part, with those asserts removed,
    when at least half of the asserts (and MIN_ASSERTS or more) survive."""
    probes = {i: found for i, p in enumerate(problems)
              if p.language == "python" and (found := drafts_python.probe(p.tests))}
    # The reference against the probing tests, which report each failing assert and go on.
    candidates = [as_written(problems[i].model_copy(update={"tests": text}),
                             problems[i].reference or "", tag="probe")
                  for i, (text, _) in probes.items()]
    verdicts = [c.verdict for c in run_candidates(candidates, limits, workers=workers)]
    out = {}
    for (i, (_, total)), verdict in zip(probes.items(), verdicts, strict=True):
        failed = drafts_python.failed_asserts(verdict.stdout)
        if verdict.passed and failed and total - len(failed) >= max(MIN_ASSERTS, len(failed)):
            p = problems[i]
            out[i] = p.model_copy(update={"tests": drafts_python.prune(p.tests, failed),
                                          "meta": {**p.meta, "tests_pruned": f"{len(failed)}/{total}"}})
    return out


def check_in_sandbox(problems: Sequence[Problem], limits: Limits,
                     workers: int | None = None) -> list[tuple[Problem, str, str]]:
    """(problem, drop reason or "", detail) per problem: the reference must pass its tests and a
    do-nothing stub must fail them. Small teachers often get one expected value wrong, so Python
    tests the reference fails in part are pruned to the asserts it passes (see `_pruned`) and
    checked again; such problems carry meta["tests_pruned"] = "failed/total"."""
    results = [(p, *r) for p, r in zip(problems, _validate(problems, limits, workers), strict=True)]
    failing = [i for i, (_, reason, _) in enumerate(results) if reason == "reference_fails"]
    pruned = _pruned([problems[i] for i in failing], limits, workers)
    again = _validate(list(pruned.values()), limits, workers)
    for (k, p), (reason, _) in zip(pruned.items(), again, strict=True):
        if not reason:
            results[failing[k]] = (p, "", "")
    return results


def recover(ctx: StageContext) -> list[Evolved]:
    """Records of the slots an earlier attempt finished (in `ctx.done`), from `ctx.previous`."""
    return [Evolved.model_validate(row) for slot, row in ctx.previous_of("slot_id").items()
            if slot in ctx.done]


def _draft(job: Job, raw: str, tokens: int) -> Evolved:
    slot = job.slot
    base = {"slot_id": slot.slot_id, "parent_id": slot.parent_id, "bucket": slot.bucket,
            "mode": slot.mode, "raw": raw, "tokens": tokens}
    try:
        problem = to_problem(parse_draft(raw, job.language), problem_id=job.problem_id,
                             language=job.language, **job.fields)
    except (DraftError, ValueError) as exc:
        return Evolved(kept=False, reason="unparseable", detail=str(exc)[:500], **base)
    return Evolved(kept=True, problem=problem, **base)


def evolve_slots(jobs: Sequence[Job], teacher: Generator, settings: Curriculum, ctx: StageContext, *,
                 pool: Sequence[Problem], extra: ExtraScreen | None = None,
                 extra_reasons: tuple[str, ...] = (), decontaminator: Decontaminator | None = None,
                 chunk: int = CHUNK) -> CurriculumResult:
    """Ask the teacher for each job's problem, screen it, write one Evolved per slot to `ctx.out`.

    Slots in `ctx.done` were finished by an earlier attempt: their records come from
    `ctx.previous`, so the result covers every slot.
    """
    started = time.perf_counter()
    out, done, limits, workers = ctx.out, ctx.done, ctx.limits, ctx.workers
    g = settings.generation
    sampling = Sampling(temperature=g.temperature, top_p=g.top_p, max_new_tokens=g.max_new_tokens,
                        seed=ctx.seed)
    decontaminator = decontaminator or benchmark_index()
    index = NearDuplicates(settings.dedup_threshold)
    for p in pool:
        index.add(p.id, NearDuplicates.text(p))
    for language in sorted({j.language for j in jobs}):
        index.add(f"instructions/{language}", reply_rules(language))  # a reply echoing the rules
    # generated = kept + one count per drop reason; tests_pruned counts kept problems whose
    # failing teacher asserts were removed (see check_in_sandbox).
    counts = {"generated": 0, "kept": 0, **{r: 0 for r in (*DROP_REASONS, *extra_reasons)},
              "tests_pruned": 0}
    kept: list[Problem] = []

    def tally(record: Evolved) -> None:
        key = "kept" if record.kept else record.reason
        counts["generated"] += 1
        counts[key] = counts.get(key, 0) + 1
        if record.kept and record.problem is not None:
            kept.append(record.problem)
            counts["tests_pruned"] += "tests_pruned" in record.problem.meta

    tokens = 0  # over every slot's record, recovered ones included, as for the counts
    for record in sorted(recover(ctx), key=lambda r: r.slot_id):
        tally(record)
        tokens += record.tokens
        if record.kept and record.problem is not None:
            index.add(record.problem.id, NearDuplicates.text(record.problem))
    todo = [j for j in jobs if j.slot.slot_id not in done]
    for start in range(0, len(todo), chunk):
        batch = todo[start : start + chunk]
        failure: GenerationFailed | None = None
        try:
            gens: list[Any] = teacher.generate([j.request for j in batch], sampling)
        except GenerationFailed as exc:  # keep what finished, then stop
            gens, failure = exc.partial, exc
        records: list[Evolved] = []
        for job, gen in zip(batch, gens, strict=True):
            if gen is not None:
                records.append(_draft(job, gen.text, sum(gen.completion_tokens)))
        records = _screen(records, decontaminator, index, limits, workers)
        if extra is not None and any(r.kept for r in records):
            records = extra(records)
        for record in records:
            tokens += record.tokens
            if out is not None:
                out.write(record)
            tally(record)
        ctx.advance(len(records))
        if failure is not None:
            raise failure
    return CurriculumResult(problems=kept, counts=counts, bucket_sizes={}, tokens=tokens,
                            seconds=time.perf_counter() - started)


def _screen(records: list[Evolved], decontaminator: Decontaminator, index: NearDuplicates,
            limits: Limits, workers: int | None) -> list[Evolved]:
    """Contamination, then the sandbox, then near-duplicates (in slot order), on kept records.

    Duplicates are checked last so that a question failing validation never blocks a later
    valid one; a question the AKD screen drops afterwards stays indexed (it was still seen).
    """
    def drop(record: Evolved, reason: str, detail: str) -> Evolved:
        return record.model_copy(update={"kept": False, "reason": reason, "detail": detail,
                                         "problem": record.problem})

    out = list(records)
    for i, r in enumerate(out):
        if r.kept and r.problem is not None and (found := decontaminator.check_problem(r.problem)):
            m = found[0]
            out[i] = drop(r, "contaminated", f"{m.checked} ~ {m.benchmark} {m.task_id} {m.field} "
                                             f"(5-gram Jaccard {m.similarity:.2f})")
    alive = [i for i, r in enumerate(out) if r.kept and r.problem is not None]
    results = check_in_sandbox([out[i].problem for i in alive], limits, workers)  # type: ignore[misc]
    for i, (problem, reason, detail) in zip(alive, results, strict=True):
        out[i] = drop(out[i], reason, detail) if reason else out[i].model_copy(update={"problem": problem})
    for i, r in enumerate(out):
        if not (r.kept and r.problem is not None):
            continue
        text = NearDuplicates.text(r.problem)
        if hit := index.find(text):
            out[i] = drop(r, "duplicate", f"5-gram Jaccard {hit[1]:.2f} with {hit[0]}")
        else:
            # Indexed now, so later slots in this batch are compared with it too.
            index.add(r.problem.id, text)
    return out
