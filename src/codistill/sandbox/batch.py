"""Many programs at once: the backend a batch runs on, in completion or input order, with progress.

Which backend runs a batch: the one passed in, else the innermost `use_backend` block's, else
this machine (`LocalBackend`). Backends live in `codistill.sandbox.backends`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from codistill.sandbox.backends import backend_from_spec
from codistill.sandbox.backends.local import Backend, LocalBackend
from codistill.sandbox.core import check_limits
from codistill.sandbox.types import Limits, Program, Status, Verdict

_DEFAULT: list[Backend] = []  # a stack: the innermost `use_backend` wins


@contextmanager
def use_backend(backend: Backend | str, workers: int | None = None) -> Iterator[Backend]:
    """Within this block, batches without an explicit backend run on `backend`.

    A run picks its backend once (config `sandbox.backend`) and every stage that executes code
    (teach, examine, curriculum, rewards, evaluation) uses it without passing it around.
    """
    if isinstance(backend, str):
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
