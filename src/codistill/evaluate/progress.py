"""Named rich progress bars (counts, rate, time left) that do nothing when progress is off."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Items per second (or seconds per item when slower than one a second)."""

    def render(self, task) -> Text:  # noqa: ANN001 - rich's Task
        speed = task.finished_speed or task.speed
        if not speed:
            return Text("  -  ")
        return Text(f"{speed:.1f}/s" if speed >= 1 else f"{1 / speed:.1f}s/it")


class Bars:
    """A few named bars on stderr: `add(key, label, total)`, then `advance(key, k)`."""

    def __init__(self, enabled: bool = True) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            RateColumn(), TimeElapsedColumn(),
            TimeRemainingColumn(), console=Console(file=sys.stderr), disable=not enabled,
        ) if enabled else None
        self._tasks: dict[str, TaskID] = {}

    def add(self, key: str, label: str, total: int) -> None:
        """Start a bar."""
        if self._progress is not None:
            self._tasks[key] = self._progress.add_task(label, total=total)

    def advance(self, key: str, k: int = 1) -> None:
        """Move a bar k steps."""
        if self._progress is not None and key in self._tasks:
            self._progress.advance(self._tasks[key], k)

    def __enter__(self) -> Bars:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
