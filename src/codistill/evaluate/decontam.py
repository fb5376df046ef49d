"""Training data never overlaps evaluation data: 5-gram Jaccard against benchmark prompts and solutions.

SODA's rule: a training question whose word 5-grams have Jaccard similarity >= 0.7 with any
benchmark prompt or canonical solution is removed. Texts are lower-cased and split into word
tokens (runs of letters, digits and underscores), so formatting and punctuation do not matter.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from codistill.config import ConfigError
from codistill.records import Problem

_WORD = re.compile(r"\w+")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens."""
    return _WORD.findall(text.lower())


def ngrams(text: str, n: int = 5) -> set[tuple[str, ...]]:
    """The set of word n-grams of a text (one n-gram of all words when it has fewer than n)."""
    words = tokens(text)
    if not words:
        return set()
    if len(words) < n:
        return {tuple(words)}
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: set[Any], b: set[Any]) -> float:
    """|a & b| / |a | b|; 0.0 when both are empty."""
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


class DecontaminationError(ConfigError):
    """A benchmark the run must decontaminate against could not be loaded (a config to change)."""


@dataclass(frozen=True)
class Match:
    """A checked text that overlaps a benchmark task's prompt or solution."""

    benchmark: str
    task_id: str
    field: str  # "prompt" | "solution" of the benchmark task
    similarity: float
    checked: str = ""  # which part of the checked item matched (question, reference, ...)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass
class _Doc:
    benchmark: str
    task_id: str
    field: str
    grams: set[tuple[str, ...]]


@dataclass
class Decontaminator:
    """An index of benchmark prompts and solutions; `matches(text)` finds near-copies of them."""

    benchmarks: Sequence[str] = ("humaneval", "mbpp")
    n: int = 5
    threshold: float = 0.7
    problems: Sequence[Problem] | None = None  # index these instead of loading `benchmarks`
    skipped: dict[str, str] = field(default_factory=dict)  # benchmark -> why it is not indexed

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")
        if not 0 < self.threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")
        self._docs: list[_Doc] = []
        self._index: dict[tuple[str, ...], list[int]] = defaultdict(list)
        if self.problems is not None:
            self._add(self.problems)
            return
        from codistill.evaluate.benchmarks import BenchmarkError, load_benchmark

        for name in self.benchmarks:
            try:
                self._add(load_benchmark(name), name)
            except BenchmarkError as exc:
                # One unavailable benchmark (MBPP offline) must not block checking the others.
                self.skipped[name] = str(exc).splitlines()[0]

    def _add(self, problems: Iterable[Problem], benchmark: str | None = None) -> None:
        for p in problems:
            texts = {"prompt": p.prompt or p.question}
            if p.reference:
                solution = p.reference[len(p.prompt):] if p.prompt and p.reference.startswith(
                    p.prompt) else p.reference
                texts["solution"] = solution
            for name, text in texts.items():
                grams = ngrams(text, self.n)
                if not grams:
                    continue
                self._docs.append(_Doc(benchmark or p.source or "custom", p.id, name, grams))
                for gram in grams:
                    self._index[gram].append(len(self._docs) - 1)

    @property
    def size(self) -> int:
        """How many benchmark texts are indexed."""
        return len(self._docs)

    @property
    def checked(self) -> dict[str, int]:
        """Benchmark -> how many of its tasks are indexed."""
        tasks: dict[str, set[str]] = defaultdict(set)
        for doc in self._docs:
            tasks[doc.benchmark].add(doc.task_id)
        return {name: len(ids) for name, ids in sorted(tasks.items())}

    def coverage(self) -> dict[str, Any]:
        """What was checked and what was not, JSON-ready: {"checked": {...}, "skipped": {...}}."""
        return {"checked": self.checked, "skipped": dict(self.skipped)}

    def describe(self) -> str:
        """One line: the benchmarks checked (with task counts) and those that could not be."""
        checked = ", ".join(f"{name} ({n} tasks)" for name, n in self.checked.items()) or "nothing"
        line = f"decontamination: training data checked against {checked}"
        if self.skipped:
            line += "; NOT checked: " + "; ".join(f"{name} ({why})" for name, why in self.skipped.items())
        return line

    def require_all(self) -> None:
        """Raise DecontaminationError when any benchmark could not be indexed."""
        if self.skipped:
            names = ", ".join(self.skipped)
            raise DecontaminationError(
                f"{self.describe()}. data.require_decontamination is on, so the run stops: make "
                f"{names} available offline (name a local file in data.decontaminate_against, e.g. "
                "mbpp:/data/sanitized-mbpp.json; see docs/evaluation.md) or set "
                "data.require_decontamination: false to go on without it")

    def matches(self, text: str, checked: str = "") -> list[Match]:
        """Benchmark texts whose n-gram Jaccard with `text` reaches the threshold, best first."""
        grams = ngrams(text, self.n)
        if not grams:
            return []
        shared: dict[int, int] = defaultdict(int)
        for gram in grams:
            for doc in self._index.get(gram, ()):
                shared[doc] += 1
        found = []
        for doc_id, common in shared.items():
            doc = self._docs[doc_id]
            similarity = common / (len(grams) + len(doc.grams) - common)
            if similarity >= self.threshold:
                found.append(Match(doc.benchmark, doc.task_id, doc.field, round(similarity, 4),
                                   checked))
        return sorted(found, key=lambda m: -m.similarity)

    def check_problem(self, problem: Problem) -> list[Match]:
        """Matches of a training problem's question, code prompt and reference solution."""
        found: list[Match] = []
        for name in ("question", "prompt", "reference"):
            text = getattr(problem, name) or ""
            if text.strip():
                found += self.matches(text, name)
        return sorted(found, key=lambda m: -m.similarity)

    def filter(self, problems: Iterable[Problem]) -> tuple[list[Problem], list[tuple[Problem, list[Match]]]]:
        """Split problems into those kept and those dropped (with what they matched)."""
        kept, dropped = [], []
        for problem in problems:
            found = self.check_problem(problem)
            if found:
                dropped.append((problem, found))
            else:
                kept.append(problem)
        return kept, dropped


def texts_of(row: Any, path: str = "") -> list[tuple[str, str]]:
    """Every string in a JSON row with where it sits (`messages.1.content`), for checking any file."""
    if isinstance(row, str):
        return [(path or "(text)", row)]
    if isinstance(row, dict):
        return [t for k, v in row.items() for t in texts_of(v, f"{path}.{k}" if path else str(k))]
    if isinstance(row, list):
        return [t for i, v in enumerate(row) for t in texts_of(v, f"{path}.{i}" if path else str(i))]
    return []
