"""Stage I, correct-and-fault delivery: the teacher writes a correct and a faulty solution per
question, and the sandbox decides what is kept.

For every question: tests are written by the teacher if the question has none (kept only if the
teacher's own correct solution passes them); the correct solution is kept only if it passes the
tests; a faulty one only if it really fails them (an environment problem is not a fault). For
Python, AST mutations of the verified correct solution add more verified-faulty variants.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import random
import time
from collections.abc import Iterable, Sequence

from codistill.answer_runs import (
    Candidate,
    Checked,
    as_written,
    from_answer,
    from_code,
    run_candidates,
)
from codistill.config import Teach
from codistill.extract import extract_code
from codistill.faults import FAULT_DESCRIPTIONS, FAULT_TYPES, mutants, observed_fault
from codistill.models.base import Generation, Generator, Request, Sampling
from codistill.prompting import (
    language_vars,
    render,
    solve_prompt,
    teacher_prompt,
    tests_convention,
)
from codistill.records import Problem, Solution, Taught
from codistill.sandbox import Limits, Status
from codistill.stages.context import StageContext
from codistill.stages.stats import TeachStats


def _count(stats: TeachStats, taught: Taught) -> None:
    """Add one question's outcome."""
    stats.add("questions")
    stats.add("questions_kept" if taught.kept else "questions_dropped")
    if taught.problem.meta.get("tests_by") == "teacher":
        stats.add("tests_written")
    stats.teacher_tokens += int(taught.problem.meta.get("tests_tokens", 0))
    for sol in taught.solutions:
        stats.teacher_tokens += sol.tokens
        if sol.origin == "reference":
            stats.add("reference_used")
        label = ("reference" if sol.origin == "reference" else "correct") if sol.kind == "correct" else (
            "mutant" if sol.origin.startswith("mutation") else "faulty")
        stats.add(f"{label}_{'kept' if sol.kept else 'dropped'}")
        if sol.kind == "faulty" and sol.kept and sol.fault_type:
            stats.fault_types[sol.fault_type] = stats.fault_types.get(sol.fault_type, 0) + 1
        if sol.kind == "faulty" and sol.origin == "teacher" and sol.fault_type and sol.status:
            seen = sol.observed_fault or "none"
            row = stats.fault_matrix.setdefault(sol.fault_type, {})
            row[seen] = row.get(seen, 0) + 1
            stats.add("fault_hits" if seen == sol.fault_type else "fault_misses")


def teach_stats(taught: Iterable[Taught]) -> TeachStats:
    """The stage's counts over these records (all of a stage file's, on resume)."""
    stats = TeachStats()
    for record in taught:
        _count(stats, record)
    return stats


def stable_fraction(*parts: object) -> float:
    """A reproducible number in [0, 1) from the parts (independent of Python's hash seed)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_splits(problems: Sequence[Problem], sft_share: float, seed: int) -> dict[str, str]:
    """Seeded split of questions into SFT and DPO sets, exactly `sft_share` of them to SFT."""
    order = sorted(problems, key=lambda p: stable_fraction(seed, "split", p.id))
    n_sft = round(len(order) * sft_share)
    return {p.id: ("sft" if i < n_sft else "dpo") for i, p in enumerate(order)}


def fault_for(problem: Problem, seed: int) -> str:
    """The fault class the teacher is asked to plant in this question's faulty solution."""
    return FAULT_TYPES[int(stable_fraction(seed, "fault", problem.id) * len(FAULT_TYPES))]


def same_code(a: str, b: str) -> bool:
    """True when two Python sources parse to the same tree (comments, spacing and docstring
    layout aside); other languages compare with whitespace removed."""
    try:
        return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
    except SyntaxError:
        return "".join(a.split()) == "".join(b.split())


def _sampling(settings: Teach, seed: int) -> Sampling:
    g = settings.generation
    # Greedy answers do not depend on the seed: a fixed one lets later cycles reuse the cache.
    return Sampling(temperature=g.temperature, top_p=g.top_p, max_new_tokens=g.max_new_tokens,
                    seed=seed if g.temperature > 0 else 0)


def _tokens(gen: Generation) -> int:
    return sum(gen.completion_tokens) if gen.completion_tokens else 0


class Teacher:
    """Runs stage I on batches of questions with one teacher model and one sandbox setup."""

    def __init__(self, teacher: Generator, settings: Teach, *, limits: Limits, seed: int,
                 workers: int | None = None, fallback_to_reference: bool = False) -> None:
        self.teacher = teacher
        self.settings = settings
        self.limits = limits
        self.seed = seed
        self.workers = workers
        self.fallback_to_reference = fallback_to_reference
        self.replaced: dict[str, Solution] = {}  # teacher attempts a reference stood in for

    def _generate(self, requests: list[Request]) -> list[Generation]:
        if not requests:
            return []
        return self.teacher.generate(requests, _sampling(self.settings, self.seed))

    def _run(self, candidates: list[Candidate]) -> list[Checked]:
        return run_candidates(candidates, self.limits, workers=self.workers)

    def write_tests(self, problems: list[Problem]) -> list[Problem]:
        """Problems with teacher-written tests where they had none (marked in meta)."""
        missing = [p for p in problems if not p.tests.strip()]
        if not missing or not self.settings.write_missing_tests:
            return problems
        requests = [Request.user(render(
            "write_tests", task=solve_prompt(p), convention=tests_convention(p.language),
            **language_vars(p.language))) for p in missing]
        written = {}
        for problem, gen in zip(missing, self._generate(requests), strict=True):
            tests = extract_code(gen.text, problem.language)
            # The tokens stay with the question, so the stage's token count survives a resume.
            written[problem.id] = problem.model_copy(update={"tests": tests, "meta": {
                **problem.meta, "tests_by": "teacher", "tests_tokens": _tokens(gen)}})
        return [written.get(p.id, p) for p in problems]

    def correct(self, problems: list[Problem]) -> dict[str, Solution]:
        """One verified-or-rejected correct solution per question (reference as fallback)."""
        # The teacher sees the whole question; the student is trained on the evaluation's format.
        gens = self._generate([Request.user(teacher_prompt(p)) for p in problems])
        candidates = [from_answer(p, gen.text, tag="correct")
                      for p, gen in zip(problems, gens, strict=True)]
        solutions = {p.id: Solution(problem_id=p.id, kind="correct", code=c.code, raw=gen.text,
                                    tokens=_tokens(gen))
                     for p, c, gen in zip(problems, candidates, gens, strict=True)}
        for p, checked in zip(problems, self._run(candidates), strict=True):
            sol, verdict = solutions[p.id], checked.verdict
            sol.status, sol.kept = verdict.status, verdict.passed
            if not verdict.passed:
                sol.reason = f"teacher solution {verdict.status}: {verdict.message}"[:300]
        self._fallback(problems, solutions)
        return solutions

    def _fallback(self, problems: list[Problem], solutions: dict[str, Solution]) -> None:
        """Where the teacher failed a question that ships a reference, verify and use it."""
        if not self.fallback_to_reference:
            return
        todo = [p for p in problems if not solutions[p.id].kept and p.reference
                and p.meta.get("tests_by") != "teacher"]
        references = [as_written(p, p.reference or "", tag="reference") for p in todo]
        for p, checked in zip(todo, self._run(references), strict=True):
            if checked.passed:
                # The teacher's own attempt stays in the record, after the reference that replaced it.
                self.replaced[p.id] = solutions[p.id]
                solutions[p.id] = Solution(problem_id=p.id, kind="correct", code=p.reference or "",
                                           origin="reference", status=checked.verdict.status,
                                           kept=True)

    def faulty(self, problems: list[Problem], correct: dict[str, Solution]) -> list[Solution]:
        """Teacher-written faulty solutions, kept only when the sandbox shows a real fault."""
        todo = [p for p in problems if correct[p.id].kept]
        faults = [fault_for(p, self.seed) for p in todo]
        # The correct code is not shown: a small teacher shown it mostly hands it back unchanged.
        requests = [Request.user(render(
            "faulty", task=teacher_prompt(p), fault_description=FAULT_DESCRIPTIONS[f],
            **language_vars(p.language))) for p, f in zip(todo, faults, strict=True)]
        out = []
        for p, fault, gen in zip(todo, faults, self._generate(requests), strict=True):
            candidate = from_answer(p, gen.text)
            out.append((candidate, Solution(problem_id=p.id, kind="faulty", code=candidate.code,
                                            raw=gen.text, fault_type=fault, tokens=_tokens(gen))))
        return self._verify_faulty(out)

    def mutated(self, problems: list[Problem], correct: dict[str, Solution]) -> list[Solution]:
        """AST-mutated variants of verified Python solutions, kept when they really fail."""
        out = []
        share = self.settings.mutation_share
        for p in problems:
            sol = correct[p.id]
            if p.language != "python" or not sol.kept or share <= 0:
                continue
            k = int(share) + (stable_fraction(self.seed, "mutants", p.id) < share - int(share))
            for m in mutants(sol.code, k, seed=int(stable_fraction(self.seed, p.id) * 2**31)):
                candidate = from_code(p, m.code)
                out.append((candidate, Solution(problem_id=p.id, kind="faulty", code=candidate.code,
                                                origin=f"mutation:{m.operator}",
                                                fault_type=m.fault_type)))
        return self._verify_faulty(out)

    def _verify_faulty(self, items: list[tuple[Candidate, Solution]]) -> list[Solution]:
        checked = self._run([dataclasses.replace(c, tag=f"faulty{i}")
                             for i, (c, _) in enumerate(items)])
        for (candidate, sol), ran in zip(items, checked, strict=True):
            problem, verdict = candidate.problem, ran.verdict
            sol.status = verdict.status
            sol.kept = verdict.status.is_fault
            sol.observed_fault = observed_fault(verdict.status, verdict.error_type,
                                                verdict.message, problem.language)
            if verdict.status is Status.PASSED:
                sol.reason = "passes the tests: not a fault"
            elif not sol.kept:
                sol.reason = f"{verdict.status}: {verdict.message}"[:300]
        return [sol for _, sol in items]

    @staticmethod
    def _mark_copies(faulty: list[Solution], correct: dict[str, Solution]) -> None:
        """A 'faulty' answer that is the correct one again is a failed attempt, whatever it runs as."""
        for sol in faulty:
            if sol.origin == "teacher" and same_code(sol.code, correct[sol.problem_id].code):
                sol.kept, sol.reason = False, "copy of the correct solution"

    def teach(self, problems: list[Problem], splits: dict[str, str]) -> list[Taught]:
        """Stage I for one batch of questions."""
        problems = self.write_tests(problems)
        correct = self.correct(problems)
        faulty = self.faulty(problems, correct) if self.settings.faulty else []
        self._mark_copies(faulty, correct)
        faulty += self.mutated(problems, correct)
        by_problem: dict[str, list[Solution]] = {
            p.id: [correct[p.id]] + ([self.replaced[p.id]] if p.id in self.replaced else [])
            for p in problems}
        for sol in faulty:
            by_problem[sol.problem_id].append(sol)
        results = []
        for p in problems:
            sols = by_problem[p.id]
            kept = sols[0].kept
            reason = "" if kept else (
                "teacher-written tests not passed by the teacher's own solution"
                if p.meta.get("tests_by") == "teacher" else "no verified correct solution")
            if not p.tests.strip():
                kept, reason = False, "question has no tests"
            results.append(Taught(problem=p, split=splits[p.id], kept=kept, reason=reason,
                                  solutions=sols))
        return results


def teach_stage(problems: Sequence[Problem], teacher: Generator, settings: Teach, ctx: StageContext,
                *, batch_size: int = 32, fallback_to_reference: bool = False) -> tuple[list[Taught], TeachStats]:
    """Stage I over all questions, in batches; each finished question is appended to `ctx.out`.

    Questions whose id is in `ctx.done` were finished by an earlier, interrupted run and are
    skipped; the stats count this call's questions (`teach_stats` counts a whole stage file).
    """
    started = time.perf_counter()
    seed = ctx.seed
    splits = assign_splits(problems, settings.sft_share, seed)
    worker = Teacher(teacher, settings, limits=ctx.limits, seed=seed, workers=ctx.workers,
                     fallback_to_reference=fallback_to_reference)
    # Shuffle once (seeded) so every batch mixes topics and lengths: batches stay evenly paced.
    # The whole pool is shuffled before finished questions are left out, so a resumed stage
    # writes its records, and the training rows built from them, in an uninterrupted one's order.
    order = list(problems)
    random.Random(seed).shuffle(order)
    todo = [p for p in order if p.id not in ctx.done]
    results: list[Taught] = []
    for start in range(0, len(todo), batch_size):
        batch = worker.teach(todo[start : start + batch_size], splits)
        for taught in batch:
            if ctx.out is not None:
                ctx.out.write(taught)
        results.extend(batch)
        ctx.advance(len(batch))
    stats = teach_stats(results)
    stats.seconds = time.perf_counter() - started
    return results, stats
