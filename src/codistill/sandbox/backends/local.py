"""This machine as a backend, and the protocol every backend follows.

A backend takes programs and yields verdicts as they finish, each carrying its program's id.
The local backend drives one supervisor per worker thread; the work itself happens in the
sandboxed child processes, so threads are enough to keep every core busy. Other backends
(a Ray cluster, a SandboxFusion server) plug in behind the same `run_many`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from typing import Protocol, runtime_checkable

from codistill.sandbox.core import run_program
from codistill.sandbox.types import Limits, Program, Verdict


@runtime_checkable
class Backend(Protocol):
    """Runs programs and yields their verdicts in completion order."""

    def run_many(self, programs: Iterable[Program], limits: Limits) -> Iterator[Verdict]:
        """Verdicts as programs finish; each verdict's `id` is its program's `id`."""
        ...


class LocalBackend:
    """This machine: a thread per worker, each driving sandboxed child processes."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)

    def run_many(self, programs: Iterable[Program], limits: Limits) -> Iterator[Verdict]:
        """Keep `workers` programs running; read the input lazily (it may be a generator)."""
        with ThreadPoolExecutor(self.workers, thread_name_prefix="codistill-sandbox") as pool:
            yield from stream_bounded(pool, lambda p: run_program(p, limits), programs,
                                      window=self.workers * 2)


def stream_bounded(pool: Executor, work: Callable[[Program], Verdict], programs: Iterable[Program],
                   *, window: int) -> Iterator[Verdict]:
    """Submit programs lazily with at most `window` in flight; yield results as they finish.

    On exit (also when the consumer stops early) what has not started is cancelled.
    """
    pending: set[Future] = set()
    try:
        for program in programs:
            pending.add(pool.submit(work, program))
            if len(pending) < window:
                continue
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (future.result() for future in done)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (future.result() for future in done)
    finally:
        for future in pending:
            future.cancel()
