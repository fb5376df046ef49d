"""Code-A1's round state, and the pure steps between GRPO phases: rows in, book and pool out.

Everything here is a function of plain data (problems, reward records, the state), so it is
tested with literal rows; the sandbox and the trainer stay in `coevolve.py` and `train/rewards.py`.
"""

from __future__ import annotations

import ast
import doctest
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codistill.config import Coevolve
from codistill.prompting import language_vars, render
from codistill.records import Problem
from codistill.stages.mistakes import MistakeBook
from codistill.train.datasets import grpo_rows
from codistill.train.rewards import split_tests

SHOWN_CODE_CHARS = 3000  # white-box prompts show at most this much of a code sample


@dataclass
class RoundState:
    """What the next phase needs; saved after every phase so a killed run resumes from there."""

    code_model: str
    test_model: str
    round: int = 0  # round of the last finished phase (0: none yet)
    phase: str = ""  # the last finished phase: "code" or "tests"
    code_steps: int = 0  # GRPO steps the Code model has taken so far
    test_steps: int = 0
    seen: dict[str, int] = field(default_factory=dict)  # code phases per question
    pool: dict[str, list[str]] = field(default_factory=dict)  # valid generated tests, latest Test phase
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # latest code samples
    book: MistakeBook = field(default_factory=MistakeBook)
    stopped: str = ""  # why the run ended early, if it did

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = {k: v for k, v in self.__dict__.items() if k != "book"}
        return {**data, "book": self.book.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoundState:
        """Inverse of `to_dict`."""
        return cls(**{**data, "book": MistakeBook.from_dict(data.get("book", {}))})

    def save(self, path: Path) -> Path:
        """Write atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False))
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: Path) -> RoundState:
        """Read a saved state."""
        return cls.from_dict(json.loads(path.read_text()))


def own_tests(problem: Problem) -> list[str]:
    """A question's own tests, one assert each where they split (see `split_tests`)."""
    return split_tests(problem.tests, problem.entry_point)


def unusable_reason(problem: Problem) -> str:
    """Why a question cannot take part in co-evolution ('' when it can)."""
    if problem.language != "python":
        return f"language {problem.language}: Code-A1 here writes Python assertion tests only"
    if not problem.entry_point:
        return "no entry point: the tests need a function to call"
    if not (problem.reference or "").strip():
        return "no reference solution: generated tests cannot be validated"
    if not problem.tests.strip():
        return "no tests of its own"
    return ""


def _tiebreak(seed: int, question_id: str) -> str:
    return hashlib.sha256(f"{seed}:{question_id}".encode()).hexdigest()


def pick_questions(active: Sequence[Problem], state: RoundState, count: int, seed: int) -> list[Problem]:
    """The `count` questions seen least often so far (ties broken by a seeded hash)."""
    ranked = sorted(active, key=lambda p: (state.seen.get(p.id, 0), _tiebreak(seed, p.id)))
    return ranked[:count]


def code_tests(problem: Problem, state: RoundState, settings: Coevolve) -> list[str]:
    """The tests of a Code-phase row: own tests, the latest valid generated ones, the book's top k."""
    tests = own_tests(problem) if settings.own_tests else []
    tests += state.pool.get(problem.id, [])
    tests += state.book.top(problem.id, settings.mistake_book_k)
    return list(dict.fromkeys(tests))


def code_rows(questions: Sequence[Problem], state: RoundState, settings: Coevolve) -> list[dict[str, Any]]:
    """GRPO rows for a Code phase: the solve prompt, the question id and its tests."""
    return grpo_rows(questions, question_id=[q.id for q in questions],
                     tests=[code_tests(q, state, settings) for q in questions])


def shown_sample(samples: Sequence[dict[str, Any]]) -> str:
    """The sample a white-box prompt shows: the best-rewarded one short of perfect, else the first."""
    if not samples:
        return ""
    imperfect = [s for s in samples if s["reward"] < 1.0]
    if not imperfect:
        return samples[0]["program"]
    return max(imperfect, key=lambda s: s["reward"])["program"]  # max keeps the first of equals


def example_asserts(problem: Problem) -> list[str]:
    """The task's own doctest examples of its entry point as assert lines (Python; [] when none):
    `>>> double(2)` answered by `4` becomes `assert double(2) == 4`."""
    if problem.language != "python" or not problem.entry_point:
        return []
    try:
        tree = ast.parse(problem.prompt + "\n    pass\n")
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == problem.entry_point:
            for example in doctest.DocTestParser().get_examples(ast.get_docstring(node) or ""):
                line = f"assert {example.source.strip()} == {example.want.strip()}"
                if example.want.strip() and "\n" not in line and _is_assert(line):
                    found.append(line)
    return found


def _is_assert(line: str) -> bool:
    try:
        return isinstance(ast.parse(line).body[0], ast.Assert)
    except SyntaxError:
        return False


def tests_prompt(problem: Problem, code: str, count: int) -> str:
    """The Test model's white-box request: the task, one code sample, the task's examples written
    as tests (the format to follow, where the task has any), how to answer."""
    shown = code.strip() or "# (the Code model wrote no code)"
    if len(shown) > SHOWN_CODE_CHARS:
        shown = shown[:SHOWN_CODE_CHARS] + "\n# ... (cut)"
    return render("coevolve_tests", task=problem.question or problem.prompt, code=shown, count=count,
                  entry_point=problem.entry_point, examples=example_asserts(problem),
                  **language_vars(problem.language))


def tests_rows(questions: Sequence[Problem], state: RoundState, settings: Coevolve) -> list[dict[str, Any]]:
    """GRPO rows for a Test phase: questions with code samples, each showing one of them."""
    rows = []
    for q in questions:
        samples = state.samples.get(q.id, [])
        if samples:
            prompt = tests_prompt(q, shown_sample(samples), settings.tests_per_question)
            rows.append({"id": q.id, "prompt": [{"role": "user", "content": prompt}], "question_id": q.id,
                         "code_samples": [s["program"] for s in samples]})
    return rows


def _groups(records: Sequence[dict[str, Any]]) -> dict[tuple[Any, str], list[dict[str, Any]]]:
    """Reward records by (step, question): one group of samples per question per reward call."""
    groups: dict[tuple[Any, str], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["step"], r["question_id"]), []).append(r)
    return groups


def after_code_phase(state: RoundState, records: Sequence[dict[str, Any]], questions: Sequence[Problem],
                     settings: Coevolve) -> list[str]:
    """Fold a Code phase's reward records into the state; return the questions it blacklisted.

    Each generated test (not the question's own) in a group gives one Mistake Book event; the
    group's samples become the next Test phase's targets; a question no sample scored on counts
    towards its blacklisting.
    """
    own = {q.id: set(own_tests(q)) for q in questions}
    scored: dict[str, bool] = {}
    state.samples = {}
    for (_, qid), group in _groups(records).items():
        for j, test in enumerate(group[0]["tests"]):
            if test in own.get(qid, ()):
                continue
            if any(r["broken"][j] for r in group):
                state.book.record(qid, test, failed=True)
            elif all(r["passed"][j] for r in group):
                state.book.record(qid, test, failed=False)
        scored[qid] = scored.get(qid, False) or any(r["reward"] > 0 for r in group)
        state.samples[qid] = [{"program": r["program"], "reward": r["reward"]} for r in group]
    banned = []
    for q in questions:
        state.seen[q.id] = state.seen.get(q.id, 0) + 1
        if q.id in scored and state.book.note_attempt(q.id, scored[q.id], settings.blacklist_after):
            banned.append(q.id)
    return banned


def after_tests_phase(state: RoundState, records: Sequence[dict[str, Any]], settings: Coevolve) -> None:
    """Fold a Test phase's reward records into the state: the test pool and the Mistake Book.

    Per question, each distinct valid test gives one book event against the code samples it ran
    on; the pool keeps the tests that broke the most samples (at most tests_per_question).
    """
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for r in records:
        for t in r["tests"]:
            if t["valid"]:
                found.setdefault(r["question_id"], {}).setdefault(t["test"], {**t, "samples": r["samples"]})
    for qid, tests in found.items():
        for test, info in tests.items():
            if info["broke"]:
                state.book.record(qid, test, failed=True)
            elif info["passed"] == info["samples"]:
                state.book.record(qid, test, failed=False)
        ranked = sorted(tests.values(), key=lambda t: -len(t["broke"]))  # stable: first seen first
        state.pool[qid] = [t["test"] for t in ranked[: settings.tests_per_question]]


def step_curve(records: Sequence[dict[str, Any]], keys: Sequence[str], offset: int) -> list[dict[str, Any]]:
    """Mean of `keys` per GRPO step, numbered from offset + 1 (the model's steps so far)."""
    steps: dict[Any, list[dict[str, Any]]] = {}
    for r in records:
        steps.setdefault(r["step"], []).append(r)
    order = sorted(steps, key=lambda s: (s is None, s if s is not None else 0))
    return [{"step": offset + i + 1, **{k: round(sum(r[k] for r in steps[s]) / len(steps[s]), 4) for k in keys}}
            for i, s in enumerate(order)]
