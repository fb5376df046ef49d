"""Named rich progress bars (counts, rate, time left) that do nothing when progress is off."""

from __future__ import annotations

import sys
import time

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
    """A few named bars on stderr: `add(key, label, total)`, then `advance(key, k)`.

    On a terminal they are live rich bars; otherwise (a log file under nohup) a plain line per
    bar at most every `log_every` seconds, and one when it completes.
    """

    def __init__(self, enabled: bool = True, log_every: float = 30.0) -> None:
        console = Console(file=sys.stderr)
        self._live = enabled and console.is_terminal
        self._log = enabled and not console.is_terminal
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
            TimeElapsedColumn(), TimeRemainingColumn(), console=console,
        ) if self._live else None
        self._tasks: dict[str, TaskID] = {}
        self._counts: dict[str, list] = {}  # key -> [label, done, total, started, last logged]
        self._log_every = log_every

    def add(self, key: str, label: str, total: int) -> None:
        """Start a bar."""
        if self._progress is not None:
            self._tasks[key] = self._progress.add_task(label, total=total)
        now = time.monotonic()
        self._counts[key] = [label, 0, total, now, now]

    def advance(self, key: str, k: int = 1) -> None:
        """Move a bar k steps."""
        if self._progress is not None and key in self._tasks:
            self._progress.advance(self._tasks[key], k)
        entry = self._counts.get(key)
        if entry is None or not self._log:
            return
        entry[1] += k
        now = time.monotonic()
        if entry[1] >= entry[2] or now - entry[4] >= self._log_every:
            entry[4] = now
            elapsed = now - entry[3]
            rate = entry[1] / elapsed if elapsed > 0 else 0.0
            print(f"{entry[0]}: {entry[1]}/{entry[2]} ({elapsed:.0f}s, {rate:.2f}/s)",
                  file=sys.stderr, flush=True)

    def __enter__(self) -> Bars:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
