"""MBPP (sanitized): the published `sanitized-mbpp.json` or the hub's `mbpp#sanitized`.

How a task is posed (docs/evaluation.md):
- to an instruct model: the task text, then its first test as a signature hint, asked through
  `codistill.prompting` like every other question (it names the function to define);
- to a base model: the MBPP+ prompt layout, a docstring holding the text and the first test,
  which the model continues with code.
The tests are the task's `test_imports` and all of its `test_list` asserts. Only the test split
(task ids 11-510, as the MBPP README prescribes) is evaluated when the file holds more.
"""

from __future__ import annotations

import ast
import builtins
from typing import Any

from codistill.evaluate.benchmarks.sources import BenchmarkError, find_local, need, read_rows
from codistill.records import Problem

MBPP_FIELDS = ("task_id", "prompt", "code", "test_list")
TEST_SPLIT = range(11, 511)
HUB = "google-research-datasets/mbpp#sanitized"


def entry_point_of(code: str, test: str) -> str | None:
    """The function a test calls that the reference code defines (else the first non-builtin call)."""
    try:
        defined = {n.name for n in ast.walk(ast.parse(code)) if isinstance(n, ast.FunctionDef)}
        calls = [n.func.id for n in ast.walk(ast.parse(test))
                 if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    except SyntaxError:
        return None
    for name in calls:
        if name in defined:
            return name
    return next((c for c in calls if not hasattr(builtins, c)), None)


def mbpp_question(text: str, first_test: str) -> str:
    """What an instruct model is asked: the task text and one test showing the signature."""
    return f"{text.strip()}\n\nYour function must pass this test:\n{first_test.strip()}"


def mbpp_completion_prompt(text: str, first_test: str) -> str:
    """What a base model continues: a docstring with the text and the first test (MBPP+ layout)."""
    return f'"""\n{text.strip()}\n{first_test.strip()}\n"""\n'


def mbpp_problem(row: dict[str, Any], where: str) -> Problem:
    """One sanitized-MBPP row as a Problem."""
    need(row, MBPP_FIELDS, where)
    text, tests = row["prompt"], list(row["test_list"])
    if not tests:
        raise BenchmarkError(f"{where}: task {row['task_id']} has an empty test_list")
    entry = entry_point_of(row["code"], tests[0])
    imports = "\n".join(row.get("test_imports") or [])
    return Problem(
        id=f"Mbpp/{row['task_id']}",
        language="python",
        question=mbpp_question(text, tests[0]),
        entry_point=entry,
        tests=(imports + "\n\n" if imports else "") + "\n".join(tests) + "\n",
        reference=row["code"],
        source="mbpp",
        meta={"completion_prompt": mbpp_completion_prompt(text, tests[0])},
    )


def _number(task_id: object) -> int:
    try:
        return int(str(task_id))
    except ValueError:
        return -1


def load_mbpp(source: str | None = None) -> list[Problem]:
    """Sanitized MBPP's test split from a local file, the benchmarks folder, or the hub."""
    where = source or find_local("sanitized-mbpp*.json*", "mbpp*.json*") or HUB
    rows = read_rows(where)
    in_split = [r for r in rows if _number(r.get("task_id")) in TEST_SPLIT]
    rows = in_split or rows
    return [mbpp_problem(r, f"{where} row {i + 1}") for i, r in enumerate(rows)]
