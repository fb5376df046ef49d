"""Many programs at once: a small backend protocol, the local thread pool, and a progress bar.

A backend takes programs and yields verdicts as they finish, each carrying its program's id.
The local backend drives one supervisor per worker thread; the work itself happens in the
sandboxed child processes, so threads are enough to keep every core busy. Other backends
(a Ray cluster, a SandboxFusion server) plug in behind the same `run_many`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Protocol, runtime_checkable

from codistill.sandbox.core import check_limits, run_program
from codistill.sandbox.types import Limits, Program, Status, Verdict


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


_DEFAULT: list[Backend] = []  # a stack: the innermost `use_backend` wins


@contextmanager
def use_backend(backend: Backend | str, workers: int | None = None) -> Iterator[Backend]:
    """Within this block, batches without an explicit backend run on `backend`.

    A run picks its backend once (config `sandbox.backend`) and every stage that executes code
    (teach, examine, curriculum, rewards, evaluation) uses it without passing it around.
    """
    if isinstance(backend, str):
        from codistill.sandbox.backends import backend_from_spec  # noqa: PLC0415 - a cycle

        backend = backend_from_spec(backend, workers)
    _DEFAULT.append(backend)
    try:
        yield backend
    finally:
        _DEFAULT.remove(backend)


def execute_many(programs: Iterable[Program], limits: Limits | None = None, *,
                 workers: int | None = None, progress: bool | str = False,
                 backend: Backend | str | None = None) -> Iterator[Verdict]:
    """Run programs concurrently; yield each verdict as it finishes (it carries program.id).

    `backend` is a Backend or a spec such as "ray" or "sandboxfusion:http://host:8080"
    (see codistill.sandbox.backends.backend_from_spec); default: this machine.
    """
    limits = limits or Limits()
    check_limits(limits)
    if isinstance(backend, str):
        from codistill.sandbox.backends import backend_from_spec  # noqa: PLC0415 - a cycle

        backend = backend_from_spec(backend, workers)
    runner = backend or (_DEFAULT[-1] if _DEFAULT else LocalBackend(workers))
    if not progress:
        yield from runner.run_many(programs, limits)
        return
    total = len(programs) if hasattr(programs, "__len__") else None  # type: ignore[arg-type]
    label = progress if isinstance(progress, str) else "sandbox"
    yield from _with_progress(runner.run_many(programs, limits), total, label)


def run_all(programs: Iterable[Program], limits: Limits | None = None, *,
            workers: int | None = None, progress: bool | str = False,
            backend: Backend | str | None = None) -> list[Verdict]:
    """Like `execute_many`, but wait for all and return the verdicts in input order."""
    originals = list(programs)
    keyed = [program.with_(id=str(index)) for index, program in enumerate(originals)]
    verdicts: list[Verdict | None] = [None] * len(originals)
    for verdict in execute_many(keyed, limits, workers=workers, progress=progress,
                                backend=backend):
        index = int(verdict.id)
        verdict.id = originals[index].id
        verdicts[index] = verdict
    missing = [i for i, v in enumerate(verdicts) if v is None]
    for index in missing:  # a backend that dropped programs: say so instead of crashing
        verdicts[index] = Verdict(Status.SANDBOX_ERROR, id=originals[index].id,
                                  message="the backend returned no verdict for this program")
    return verdicts  # type: ignore[return-value]


def _with_progress(verdicts: Iterator[Verdict], total: int | None,
                   label: str) -> Iterator[Verdict]:
    from rich.progress import (  # noqa: PLC0415 - only when a bar is wanted
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]:>7} prog/s"), TextColumn("passed {task.fields[ok]}"),
               TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(label, total=total, rate="-", ok=0)
        passed = 0
        for verdict in verdicts:
            passed += verdict.passed
            bar.advance(task)
            elapsed = bar.tasks[0].elapsed or 0.0
            done = bar.tasks[0].completed
            bar.update(task, ok=passed, rate=f"{done / elapsed:.1f}" if elapsed else "-")
            yield verdict
