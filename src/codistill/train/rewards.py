"""Code-A1's rewards as TRL reward functions `(completions, **kwargs) -> list[float]`, run in the sandbox.

- `code_reward`: each code completion's pass rate on its row's tests (column `tests`).
- `test_reward`: each test completion's `alpha * validity + (1 - alpha) * attack_rate`, 0 when no
  test parses. Validity: the share of its tests the reference solution passes. Attack rate: the
  share of the row's code samples (column `code_samples`) that fail at least one valid test.

A test is one Python `assert` statement that calls the question's entry point; each runs as its
own sandbox program, so one broken test cannot hide the others (docs/coevolve.md). Extra context
(the problems, a `TestRunner`, a `record` callback) is bound with `bind`, which keeps the
function's name for TRL's logs.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codistill.answer_runs import from_answer
from codistill.extract import fenced_blocks
from codistill.records import Problem
from codistill.sandbox import Limits, Program, Status, run_all

MAX_TEST_CHARS = 400  # longer "tests" are usually runaway generations, not checks


@dataclass(frozen=True)
class Outcome:
    """How one program fared on one test."""

    passed: bool
    broken: bool  # the program is to blame (a fault status), not the environment or the sandbox
    status: Status


class TestRunner:
    """Runs (source, entry point, test) triples in the sandbox, one program per test, memoized.

    Each distinct source first runs alone with `assert callable(<entry point>)`: a source that
    does not load (syntax error, crash at import, no such function) fails all its tests without
    running them, which keeps garbage completions cheap.
    """

    __test__ = False  # not a pytest class, despite the name

    def __init__(self, limits: Limits | None = None, *, workers: int | None = None,
                 language: str = "python") -> None:
        self.limits = limits or Limits(timeout_s=5.0)
        self.workers = workers
        self.language = language
        self._memo: dict[tuple[str, str, str], Outcome] = {}
        self.programs_run = 0

    def _execute(self, jobs: list[tuple[str, str, str]]) -> None:
        programs = [Program(self.language, source, tests=test, entry_point=entry or None)
                    for source, entry, test in jobs]
        self.programs_run += len(programs)
        for job, verdict in zip(jobs, run_all(programs, self.limits, workers=self.workers), strict=True):
            self._memo[job] = Outcome(verdict.passed, verdict.status.is_fault, verdict.status)

    def run(self, jobs: Sequence[tuple[str, str | None, str]]) -> list[Outcome]:
        """The outcome of each (source, entry point, test), in order."""
        keyed = [(source, entry or "", test) for source, entry, test in jobs]
        loads = {(source, entry, f"assert callable({entry})" if entry else "pass") for source, entry, _ in keyed}
        self._execute(sorted(job for job in loads if job not in self._memo))
        todo = []
        for source, entry, test in dict.fromkeys(keyed):
            load = self._memo[(source, entry, f"assert callable({entry})" if entry else "pass")]
            if not load.passed:
                self._memo.setdefault((source, entry, test), load)
            elif (source, entry, test) not in self._memo:
                todo.append((source, entry, test))
        if todo:
            self._execute(todo)
        return [self._memo[job] for job in keyed]


def completion_text(completion: Any) -> str:
    """The text of a completion: a string, or TRL's conversational [{"role": ..., "content": ...}]."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        return str(completion[-1].get("content", ""))
    return ""


def _calls(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name
               for n in ast.walk(node))


def _asserts(code: str, entry_point: str) -> list[str]:
    """Top-level asserts calling `entry_point`; line by line when the whole block does not parse."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        found = []
        for line in code.splitlines():
            try:
                parsed = ast.parse(line.strip())
            except SyntaxError:
                continue
            if len(parsed.body) == 1 and isinstance(parsed.body[0], ast.Assert):
                found.append(parsed.body[0])
        return [ast.unparse(n) for n in found if _calls(n, entry_point)]
    return [ast.unparse(n) for n in tree.body if isinstance(n, ast.Assert) and _calls(n, entry_point)]


def parse_tests(text: str, entry_point: str, limit: int | None = None) -> list[str]:
    """The tests in a Test model's answer: distinct `assert` statements that call `entry_point`.

    >>> parse_tests("```python\\nassert f(1) == 2\\nassert f(1) == 2\\nassert True\\nprint(f(3))\\n```", "f")
    ['assert f(1) == 2']
    """
    blocks = [code for label, code, _ in fenced_blocks(text) if label in ("", "python", "py", "python3")]
    found: list[str] = []
    for code in blocks or [text]:
        found += _asserts(code, entry_point)
    tests = [t for t in dict.fromkeys(found) if len(t) <= MAX_TEST_CHARS]
    return tests[:limit] if limit is not None else tests


class _Rename(ast.NodeTransformer):
    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.Name(id=self.new, ctx=node.ctx) if node.id == self.old else node


_SETUP = (ast.FunctionDef, ast.Assign, ast.Import, ast.ImportFrom)


def _units(statements: list[ast.stmt]) -> list[str] | None:
    """Leading setup (helpers, constants, imports) + one assert per unit; None when not that shape."""
    setup = 0
    while setup < len(statements) and isinstance(statements[setup], _SETUP):
        setup += 1
    asserts = statements[setup:]
    if not asserts or not all(isinstance(s, ast.Assert) for s in asserts):
        return None
    prefix = "".join(ast.unparse(s) + "\n" for s in statements[:setup])
    return list(dict.fromkeys(prefix + ast.unparse(s) for s in asserts))


def split_tests(tests: str, entry_point: str | None) -> list[str]:
    """A question's own tests as one assert per unit where they split, else as one unit.

    HumanEval-style `def check(candidate): assert candidate(1) == 2` becomes `assert f(1) == 2`
    (entry point `f`); helpers and constants defined before the asserts go in front of each one;
    anything else (loops, asserts between statements) stays whole, run as one test.

    >>> split_tests("def check(candidate):\\n    assert candidate(1) == 2\\n    assert candidate(0) == 1\\n", "f")
    ['assert f(1) == 2', 'assert f(0) == 1']
    """
    if not tests.strip():
        return []
    try:
        tree = ast.parse(tests)
    except SyntaxError:
        return [tests]
    body = tree.body
    if entry_point and len(body) == 1 and isinstance(body[0], ast.FunctionDef) and body[0].name == "check":
        params = [a.arg for a in body[0].args.args]
        shadowed = any(isinstance(n, ast.arg) and n.arg == params[0] for n in ast.walk(body[0])
                       if n not in body[0].args.args) if len(params) == 1 else True
        if not shadowed:
            rename = _Rename(params[0], entry_point)
            units = _units([rename.visit(s) for s in body[0].body])
            if units is not None:
                return units
        return [tests]
    return _units(body) or [tests]


def code_reward(completions: list[Any], *, question_id: list[str], tests: list[list[str]],
                problems: Mapping[str, Problem], runner: TestRunner,
                record: Callable[[dict[str, Any]], None] | None = None,
                trainer_state: Any = None, **kwargs: Any) -> list[float]:
    """Pass rate of each code completion on its row's tests (0 when the row has none)."""
    # The answer's source runs once per test (TestRunner), not once against the whole test suite.
    programs = [from_answer(problems[q], completion_text(c)).source
                for c, q in zip(completions, question_id, strict=True)]
    jobs = [(program, problems[q].entry_point, test)
            for program, q, row_tests in zip(programs, question_id, tests, strict=True) for test in row_tests]
    outcomes = iter(runner.run(jobs))
    rewards = []
    step = getattr(trainer_state, "global_step", None)
    for c, program, q, row_tests in zip(completions, programs, question_id, tests, strict=True):
        mine = [next(outcomes) for _ in row_tests]
        reward = sum(o.passed for o in mine) / len(mine) if mine else 0.0
        rewards.append(reward)
        if record is not None:
            record({"step": step, "question_id": q, "reward": reward, "program": program,
                    "raw": completion_text(c), "tests": list(row_tests),
                    "passed": [o.passed for o in mine], "broken": [o.broken for o in mine]})
    return rewards


def test_reward(completions: list[Any], *, question_id: list[str], code_samples: list[list[str]],
                problems: Mapping[str, Problem], runner: TestRunner, alpha: float = 0.5,
                max_tests: int | None = None, record: Callable[[dict[str, Any]], None] | None = None,
                log_metric: Callable[[str, float], None] | None = None,
                trainer_state: Any = None, **kwargs: Any) -> list[float]:
    """Code-A1's Test-model reward for each test completion: 0 when no test parses, else

        reward = alpha * validity + (1 - alpha) * attack_rate
        validity = share of the completion's tests that the question's reference passes
        attack_rate = share of `code_samples` (the live Code model's answers to the question) that
                      fail, with a fault status, at least one valid test

    An invalid test attacks nothing, so tests that fail everything (the reference included) earn
    no attack reward.
    """
    parsed = [parse_tests(completion_text(c), problems[q].entry_point or "", max_tests)
              if problems[q].entry_point else [] for c, q in zip(completions, question_id, strict=True)]
    ref_jobs = [(problems[q].reference or "", problems[q].entry_point, t)
                for q, ts in zip(question_id, parsed, strict=True) for t in ts]
    refs = iter(runner.run(ref_jobs))
    valid = [[next(refs).passed for _ in ts] for ts in parsed]
    attack_jobs = [(sample, problems[q].entry_point, t)
                   for q, ts, ok, samples in zip(question_id, parsed, valid, code_samples, strict=True)
                   for t, good in zip(ts, ok, strict=True) if good for sample in samples]
    attacks = iter(runner.run(attack_jobs))
    rewards, validities, attack_rates = [], [], []
    step = getattr(trainer_state, "global_step", None)
    for c, q, ts, ok, samples in zip(completions, question_id, parsed, valid, code_samples, strict=True):
        runs = [[next(attacks) for _ in samples] if good else [] for good in ok]
        broke = [[i for i, o in enumerate(r) if o.broken] for r in runs]
        validity = sum(ok) / len(ts) if ts else 0.0
        attacked = {i for b in broke for i in b}
        attack_rate = len(attacked) / len(samples) if samples else 0.0
        reward = alpha * validity + (1 - alpha) * attack_rate if ts else 0.0
        rewards.append(reward)
        validities.append(validity)
        attack_rates.append(attack_rate)
        if record is not None:
            record({"step": step, "question_id": q, "reward": reward, "validity": validity, "parsed": bool(ts),
                    "attack_rate": attack_rate, "raw": completion_text(c), "samples": len(samples),
                    "tests": [{"test": t, "valid": good, "broke": b, "passed": sum(o.passed for o in r)}
                             for t, good, b, r in zip(ts, ok, broke, runs, strict=True)]})
    if log_metric is not None and rewards:
        log_metric("validity", sum(validities) / len(validities))
        log_metric("attack_rate", sum(attack_rates) / len(attack_rates))
        log_metric("malformed", sum(not ts for ts in parsed) / len(parsed))
    return rewards


def bind(func: Callable[..., list[float]], /, **fixed: Any) -> Callable[..., list[float]]:
    """`func` with some keyword arguments fixed, keeping its name (TRL logs rewards by name)."""
    def reward(completions: list[Any], **kwargs: Any) -> list[float]:
        return func(completions, **fixed, **kwargs)

    reward.__name__ = reward.__qualname__ = func.__name__
    reward.__doc__ = func.__doc__
    return reward
