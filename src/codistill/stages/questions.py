"""Grow a pool of verified practice questions at the teacher's level: write, screen, solve, keep.

For every slot the teacher writes a complete function with examples (codistill.data.synth). The
examples become tests. A question is screened before any solving tokens are spent on it: it must
parse, state at least two examples, be new (no repeated name or description) and not overlap a
benchmark (5-gram Jaccard). The writer's own function is run on the examples and its verdict
recorded. The teach stage then asks the teacher again, in a fresh request that shows only the
signature and docstring, and keeps the question only if that independent answer passes the
examples: the examples and an answer written without them in view agree by execution, rather
than one solution checking its own tests.

Every slot's outcome is appended to a JSONL file as it is decided, so a killed run resumes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from codistill.data.synth import StubError, _norm, slot_request, stub_to_problem
from codistill.jsonl import Appender
from codistill.models.base import Generator, Sampling
from codistill.records import Problem
from codistill.sandbox import Limits, Program, run_all


@dataclass
class QuestionStats:
    """Slots written, and what became of them."""

    counts: dict[str, int] = field(default_factory=dict)
    teacher_tokens: int = 0

    def add(self, key: str, n: int = 1) -> None:
        """Count one outcome."""
        self.counts[key] = self.counts.get(key, 0) + n


class Screen:
    """Remembers accepted names and descriptions, and the benchmark index, across batches."""

    def __init__(self, decontaminator: Any | None) -> None:
        self.decontaminator = decontaminator
        self.seen: set[str] = set()

    def remember(self, problem: Problem) -> None:
        """Mark a problem's name and description as taken."""
        self.seen |= {f"name:{problem.entry_point}", f"doc:{_norm(problem.question)}"}

    def reason(self, problem: Problem) -> str:
        """Why a parsed problem is rejected before execution ('' when it is not)."""
        if {f"name:{problem.entry_point}", f"doc:{_norm(problem.question)}"} & self.seen:
            return "duplicate"
        if self.decontaminator is not None and self.decontaminator.check_problem(problem):
            return "benchmark_overlap"
        return ""


def slot_id(seed: int, index: int) -> str:
    """The id of slot `index` (also the question's id when it is kept)."""
    return f"synth-{seed}-{index}"


def grow_questions(teacher: Generator, count: int, *, seed: int, sampling: Sampling,
                   limits: Limits, out: Appender, previous: Iterable[dict[str, Any]] = (),
                   decontaminator: Any | None = None, workers: int | None = None,
                   batch_size: int = 32, progress: Callable[[int], None] | None = None,
                   ) -> QuestionStats:
    """Write and screen `count` slots (skipping those in `previous`, the rows already written).

    Each slot's row is {"slot_id", "status", "problem"?}; status "screened" means the question
    passed every check here and goes on to be solved independently.
    """
    stats = QuestionStats()
    screen = Screen(decontaminator)
    done: set[str] = set()
    for row in previous:
        done.add(row["slot_id"])
        if row.get("problem"):
            screen.remember(Problem.model_validate(row["problem"]))
    todo = [i for i in range(count) if slot_id(seed, i) not in done]
    for start in range(0, len(todo), batch_size):
        slots = todo[start : start + batch_size]
        gens = teacher.generate([slot_request(i, seed) for i in slots], sampling)
        rows: list[dict[str, Any]] = []
        candidates: list[tuple[dict[str, Any], Problem]] = []
        for i, gen in zip(slots, gens, strict=True):
            stats.teacher_tokens += sum(gen.completion_tokens or [0])
            row: dict[str, Any] = {"slot_id": slot_id(seed, i), "raw": gen.text}
            rows.append(row)
            try:
                problem = stub_to_problem(gen.text, slot_id(seed, i))
            except StubError as exc:
                row["status"] = str(exc)
                continue
            if why := screen.reason(problem):
                row["status"] = why
                continue
            screen.remember(problem)  # also within the batch: the first of two twins wins
            candidates.append((row, problem))
        programs = [Program(language="python", source=p.meta["writer_code"], tests=p.tests,
                            entry_point=p.entry_point, id=p.id) for _, p in candidates]
        verdicts = run_all(programs, limits, workers=workers) if programs else []
        for (row, problem), verdict in zip(candidates, verdicts, strict=True):
            # The writer's own function is a third opinion, recorded but not required: its
            # examples are often right where its body is not, and the independent answer decides.
            problem.meta["writer_passes"] = verdict.passed
            row["problem"] = problem.model_dump()
            row["status"] = "screened"
            if not verdict.passed:
                row["message"] = verdict.message[:200]
        for row in rows:
            stats.add(row["status"])
            out.write(row)
        if progress:
            progress(len(slots))
    return stats


def screened(rows: Iterable[dict[str, Any]]) -> list[Problem]:
    """The questions that passed screening, in slot order."""
    return [Problem.model_validate(r["problem"]) for r in rows if r.get("status") == "screened"]
