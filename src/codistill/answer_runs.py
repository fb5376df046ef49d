"""Answers run against their questions' tests: extract the code once, build the program, run it.

The one way stages, rewards and evaluation turn a model's text into a verdict:

    candidates = [from_answer(problem, gen.text, tag="correct") for problem, gen in ...]
    for checked in run_candidates(candidates, limits, workers=4):
        store(checked.code, checked.verdict)

A `Candidate` holds the code a stage stores (`code`) and the source the sandbox runs (`source`),
built from that code and never from the raw text again, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from codistill.extract import (
    Mode,
    answer_code,
    answer_source,
    assemble_program,
    completion_prompt,
    stops_for,
)
from codistill.models.stops import cut_at_stop
from codistill.records import Problem
from codistill.sandbox import Limits, Program, Verdict, run_all


@dataclass(frozen=True)
class Candidate:
    """One candidate solution to a problem: the code kept, and the source built from it to run."""

    problem: Problem
    code: str  # what stages store and train on
    source: str  # what the sandbox runs (the problem's tests are added by the sandbox)
    tag: str = ""  # told apart from other candidates for the same problem in the program's id

    @property
    def program(self) -> Program:
        """The sandbox program: this source with the problem's tests and entry point."""
        p = self.problem
        # No tests is None, the sandbox's "run it as a script", never an empty test file.
        return Program(language=p.language, source=self.source, tests=p.tests or None,
                       entry_point=p.entry_point, id=f"{p.id}#{self.tag}" if self.tag else p.id)


@dataclass(frozen=True)
class Checked:
    """A candidate with the sandbox's verdict on it."""

    candidate: Candidate
    verdict: Verdict

    @property
    def code(self) -> str:
        """The stored code, from which the source that ran was built."""
        return self.candidate.code

    @property
    def passed(self) -> bool:
        """True when the problem's tests ran to completion and all passed."""
        return self.verdict.passed


def from_answer(problem: Problem, text: str, mode: Mode = "chat", *, tag: str = "",
           truncate: bool = True) -> Candidate:
    """The candidate a model's raw answer stands for.

    chat: the extracted code (`extract.answer_code`), run as `extract.answer_source` builds it.
    completion: the prompt, the text cut at the stop sequences (`truncate=False` keeps it whole)
    and what closes the function; the code is what follows the prompt in that source.
    """
    if mode == "chat":
        return from_code(problem, answer_code(problem, text), tag=tag)
    source = assemble_program(problem, text, "completion", truncate=truncate)
    prompt = completion_prompt(problem)
    if source.startswith(prompt):
        code = source[len(prompt):]
    else:  # Go's import merging rewrote the prompt: the code is the text as cut
        code = cut_at_stop(text, stops_for(problem))[0] if truncate else text
    return Candidate(problem, code, source, tag)


def from_code(problem: Problem, code: str, *, tag: str = "") -> Candidate:
    """The candidate for code already taken out of an answer (a stored answer, a mutant of one)."""
    return Candidate(problem, code, answer_source(problem, code), tag)


def as_written(problem: Problem, source: str, *, tag: str = "") -> Candidate:
    """A whole program (a reference solution, a stub) that runs exactly as written."""
    return Candidate(problem, source, source, tag)


def limits_for(problem: Problem, limits: Limits) -> Limits:
    """`limits`, with a longer time limit where the problem asks for one (meta["timeout_s"])."""
    wanted = float(problem.meta.get("timeout_s") or 0)
    return replace(limits, timeout_s=wanted) if wanted > limits.timeout_s else limits


def run_candidates(candidates: Sequence[Candidate], limits: Limits, *, workers: int | None = None,
                   progress: bool | str = False) -> list[Checked]:
    """Run every candidate against its problem's tests; the results in input order.

    Candidates run in one sandbox batch per time limit (problems may ask for longer ones).
    """
    groups: dict[Limits, list[int]] = {}
    for i, candidate in enumerate(candidates):
        groups.setdefault(limits_for(candidate.problem, limits), []).append(i)
    verdicts: dict[int, Verdict] = {}
    for group_limits, indices in groups.items():
        ran = run_all([candidates[i].program for i in indices], group_limits, workers=workers,
                      progress=progress)
        verdicts.update(zip(indices, ran, strict=True))
    return [Checked(c, verdicts[i]) for i, c in enumerate(candidates)]


def check_answers(problems: Sequence[Problem], texts: Sequence[str], limits: Limits, *,
                  mode: Mode = "chat", tag: str = "", workers: int | None = None,
                  progress: bool | str = False) -> list[Checked]:
    """Each (problem, raw answer) as a candidate, run: `from_answer`, then `run_candidates`."""
    candidates = [from_answer(p, text, mode, tag=tag)
                  for p, text in zip(problems, texts, strict=True)]
    return run_candidates(candidates, limits, workers=workers, progress=progress)
