"""MultiPL-E: its published prompts and tests, mapped onto the sandbox's per-language convention.

A MultiPL-E row (`name, language, prompt, doctests, original, prompt_terminology, tests,
stop_tokens`) is built to be run as one file, `prompt + completion + tests`, where the tests
often begin by closing the function the completion left open. Each language module says how
its rows map (its `MULTIPLE`, in sandbox/languages/<language>.py; docs/evaluation.md):

- py, js, ts: `tests` is already a test suffix in our convention; used as published.
- cpp, rs: the leading `}` moves from the tests to the end of the candidate (completion mode
  appends it after the cut at the stop tokens); the rest (`int main` / `fn main`) is the tests.
- java: the leading `    }` closes the method and the final `}` the class in the candidate;
  `main` moves into `public class Main extends Problem` in Main.java (static methods are
  inherited, so the asserts call them unqualified), with the prompt's imports. The unused
  `import org.javatuples.*;` is dropped (javatuples is not installed); tasks that use its
  tuple types are skipped.
- go: MultiPL-E runs `go test`; we rewrite the test function onto a tiny stand-in for
  `testing.T` (Run and Errorf) called from `func main`, and the candidate becomes package main.
Other MultiPL-E languages have no toolchain in the sandbox and are refused with their names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from codistill.evaluate.benchmarks.sources import BenchmarkError, need, read_rows
from codistill.records import Problem
from codistill.sandbox import languages

FIELDS = ("name", "language", "prompt", "tests")


def names() -> dict[str, str]:
    """MultiPL-E's `language` values -> codistill's languages (each module's MULTIPLE.names)."""
    return {published: name for name, module in languages.REGISTRY.items() if module.MULTIPLE
            for published in module.MULTIPLE.names}


def entry_point_of(row: dict[str, Any], language: str) -> str | None:
    """The function under test, as the language reads it from the row, else from the task's name."""
    found = languages.REGISTRY[language].MULTIPLE.entry(row["prompt"], row["tests"])
    if found:
        return found
    named = re.match(r"^(?:HumanEval|mbpp)_\d+_(.+)$", row["name"])
    return named.group(1) if named else None


def multiple_problem(row: dict[str, Any], where: str) -> Problem | None:
    """One MultiPL-E row as a Problem, or None when the task cannot run here (see module doc)."""
    need(row, FIELDS, where)
    known = names()
    language = known.get(row["language"])
    if language is None:
        raise BenchmarkError(
            f"{where}: MultiPL-E language {row['language']!r} has no toolchain in the sandbox; "
            f"supported: {', '.join(sorted(known))}"
        )
    entry = entry_point_of(row, language)
    try:
        mapped = languages.REGISTRY[language].MULTIPLE.convert(row["prompt"], row["tests"],
                                                               entry or "")
    except ValueError as err:  # laid out otherwise than MultiPL-E lays out this language
        raise BenchmarkError(f"{where}: {err}") from err
    if mapped is None:
        return None
    prompt, tests, suffix = mapped
    return Problem(
        id=row["name"], language=language, question=prompt, prompt=prompt, entry_point=entry,
        tests=tests, source=f"multipl-e:{row['language']}",
        meta={"stop": list(row.get("stop_tokens") or []), "completion_suffix": suffix},
    )


def load_multiple(source: str) -> list[Problem]:
    """A MultiPL-E file (JSON/JSONL/parquet) or hub config (`humaneval-cpp` -> nuprl/MultiPL-E)."""
    if not Path(source).expanduser().exists() and re.fullmatch(r"(humaneval|mbpp)-\w+", source):
        source = f"nuprl/MultiPL-E#{source}"
    problems = []
    for i, row in enumerate(read_rows(source)):
        problem = multiple_problem(row, f"{source} row {i + 1}")
        if problem is not None:
            problems.append(problem)
    return problems
