"""The one context every stage runs with, besides its inputs and its models."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from codistill.jsonl import Appender
from codistill.sandbox import Limits


@dataclass(frozen=True)
class StageContext:
    """Sandbox limits and workers, the seed, where records go, what is done, how to show progress.

    `out` receives each record as it is made; `done` holds the keys (question or slot ids) an
    earlier, interrupted attempt finished, which the stage skips; `progress` is called with the
    number of items each step finished (a bar's advance), or is None for no progress.
    """

    limits: Limits
    seed: int = 0
    workers: int | None = None
    out: Appender | None = None
    done: frozenset[str] = frozenset()
    progress: Callable[[int], None] | None = None

    def __post_init__(self) -> None:
        # Callers hand over the set they read from a stage file; frozen, it can key a cache.
        object.__setattr__(self, "done", frozenset(self.done))

    def replace(self, **changes: Any) -> StageContext:
        """A copy with some fields changed (e.g. another seed for one cycle)."""
        return dataclasses.replace(self, **changes)

    def advance(self, n: int) -> None:
        """Report `n` more items finished, when someone is watching."""
        if self.progress is not None and n:
            self.progress(n)
