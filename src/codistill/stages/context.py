"""The one context every stage runs with, besides its inputs and its models.

It is also the one way a stage resumes: `StageContext.resuming` reads what an earlier,
interrupted attempt wrote to the stage file, and the stage gets those records (`previous`) and
their keys (`done`) and skips that work; it appends each new record to `out` as it is made.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codistill.jsonl import Appender
from codistill.sandbox import Limits

if TYPE_CHECKING:
    from codistill.store import Stage


@dataclass(frozen=True)
class StageContext:
    """Sandbox limits and workers, the seed, where records go, what is done, how to show progress.

    `out` receives each record as it is made; `previous` holds the records an earlier,
    interrupted attempt wrote (plain rows) and `done` their keys (question or slot ids), which
    the stage skips; `progress` is called with the number of items each step finished (a bar's
    advance), or is None for no progress.
    """

    limits: Limits
    seed: int = 0
    workers: int | None = None
    out: Appender | None = None
    done: frozenset[str] = frozenset()
    progress: Callable[[int], None] | None = None
    previous: tuple[dict[str, Any], ...] = ()

    def __post_init__(self) -> None:
        # Callers may hand over a set or a list; frozen, they can key a cache.
        object.__setattr__(self, "done", frozenset(self.done))
        object.__setattr__(self, "previous", tuple(self.previous))

    @classmethod
    def resuming(cls, stage: Stage, key: str, **fields: Any) -> StageContext:
        """A context carrying what `stage`'s file holds: its rows and their `key` values.

        `key` names the field that identifies a finished item; a dotted name reaches into a
        nested record (`problem.id`).
        """
        rows = tuple(stage.rows())
        return cls(previous=rows, done=frozenset(_field(row, key) for row in rows), **fields)

    def replace(self, **changes: Any) -> StageContext:
        """A copy with some fields changed (e.g. another seed for one cycle)."""
        return dataclasses.replace(self, **changes)

    def previous_of(self, key: str) -> dict[str, dict[str, Any]]:
        """The earlier attempt's rows by their `key` value (the last one wins)."""
        return {_field(row, key): row for row in self.previous}

    def advance(self, n: int) -> None:
        """Report `n` more items finished, when someone is watching."""
        if self.progress is not None and n:
            self.progress(n)


def _field(row: dict[str, Any], key: str) -> Any:
    """`row[key]`, following dots into nested records; None where a part is missing."""
    value: Any = row
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value
