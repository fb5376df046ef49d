"""A Ray cluster as a backend: chunks of programs go to Ray tasks that run codistill's sandbox.

Each task runs `LocalBackend.run_many` on its node (every node needs codistill and the
toolchains installed), so verdicts are judged exactly as on this machine. Chunks amortize
Ray's per-task cost; at most `max_in_flight` tasks are submitted at once, the input is read
lazily, and verdicts stream back chunk by chunk as tasks finish (`ray.wait`). A task that
fails (its worker died, the node went away, an error inside Ray) turns into `sandbox_error`
verdicts for its programs; the batch goes on. Ray is imported only when a batch runs.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
from collections.abc import Iterable, Iterator
from typing import Any

from codistill.sandbox.types import Limits, Program, Status, Verdict

INSTALL = "pip install 'codistill[ray]'"


def run_chunk(programs: list[Program], limits: Limits, threads: int) -> list[Verdict]:
    """The Ray task: a chunk through the local backend of the node it runs on, in input order."""
    from codistill.sandbox.backends.local import LocalBackend  # noqa: PLC0415 - runs on the worker

    keyed = [program.with_(id=str(index)) for index, program in enumerate(programs)]
    verdicts: list[Verdict] = [None] * len(programs)  # type: ignore[list-item]
    for verdict in LocalBackend(threads).run_many(keyed, limits):
        index = int(verdict.id)
        verdict.id = programs[index].id
        verdicts[index] = verdict
    return verdicts


class RayBackend:
    """Runs programs as Ray tasks on a cluster (or a local Ray instance)."""

    def __init__(self, address: str | None = None, *, num_cpus_per_task: float = 1,
                 max_in_flight: int | None = None, chunk_size: int = 8, max_retries: int = 1,
                 runtime_env: dict[str, Any] | None = None) -> None:
        if importlib.util.find_spec("ray") is None:
            raise ImportError(f"the Ray backend needs the ray package: {INSTALL}")
        if num_cpus_per_task <= 0 or chunk_size < 1 or max_retries < 0 \
                or (max_in_flight is not None and max_in_flight < 1):
            raise ValueError("RayBackend needs num_cpus_per_task > 0, chunk_size >= 1, "
                             "max_retries >= 0 and max_in_flight >= 1 (or None)")
        self.address = address
        self.num_cpus_per_task = num_cpus_per_task
        self.max_in_flight = max_in_flight
        self.chunk_size = chunk_size
        self.max_retries = max_retries
        self.runtime_env = runtime_env
        self._task: Any = None

    def run_many(self, programs: Iterable[Program], limits: Limits) -> Iterator[Verdict]:
        """Verdicts as Ray tasks finish, each carrying its program's id."""
        try:
            ray = self._connect()
        except Exception as exc:  # noqa: BLE001 - no cluster is a verdict per program, not a crash
            where = self.address or "a new local instance"
            reason = f"could not start or reach Ray ({where}): {exc.__class__.__name__}: {exc}"
            for program in programs:
                yield _failed(program, reason)
            return
        slots = max(1, int(ray.cluster_resources().get("CPU", 1) // self.num_cpus_per_task))
        in_flight = self.max_in_flight or 2 * slots
        size = self.chunk_size
        if hasattr(programs, "__len__"):  # small batches: smaller chunks, so every slot works
            size = max(1, min(size, math.ceil(len(programs) / (2 * slots))))  # type: ignore[arg-type]
        threads = max(1, math.floor(self.num_cpus_per_task))
        pending: dict[Any, list[Program]] = {}
        source = iter(programs)
        try:
            while chunk := list(itertools.islice(source, size)):
                pending[self._task.remote(chunk, limits, threads)] = chunk
                while len(pending) >= in_flight:
                    yield from _collect(ray, pending)
            while pending:
                yield from _collect(ray, pending)
        finally:
            for ref in pending:  # the caller stopped early: do not leave work on the cluster
                try:
                    ray.cancel(ref)
                except Exception:  # noqa: BLE001, S110 - best effort; the task may be gone
                    pass

    def _connect(self) -> Any:
        import ray  # noqa: PLC0415 - an optional extra, imported only when used

        if not ray.is_initialized():
            options: dict[str, Any] = {"address": self.address, "runtime_env": self.runtime_env}
            if self.address is None:
                options["include_dashboard"] = False
            ray.init(**options)
        if self._task is None:
            self._task = ray.remote(num_cpus=self.num_cpus_per_task,
                                    max_retries=self.max_retries)(run_chunk)
        return ray


def _collect(ray: Any, pending: dict[Any, list[Program]]) -> Iterator[Verdict]:
    """Wait for one task; its verdicts, or sandbox errors for its programs if it failed."""
    ready, _ = ray.wait(list(pending), num_returns=1)
    for ref in ready:
        chunk = pending.pop(ref)
        try:
            verdicts = ray.get(ref)
        except Exception as exc:  # noqa: BLE001 - a Ray failure is these programs' verdict
            reason = f"the Ray task running this program failed: {exc.__class__.__name__}: " \
                     f"{_first_line(exc)}"
            yield from (_failed(program, reason) for program in chunk)
            continue
        for index, program in enumerate(chunk):
            verdict = verdicts[index] if index < len(verdicts) else None
            yield verdict if isinstance(verdict, Verdict) else _failed(
                program, "the Ray task returned no verdict for this program")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else "")[:500]


def _failed(program: Program, reason: str) -> Verdict:
    return Verdict(Status.SANDBOX_ERROR, id=program.id, error_type="RayError", message=reason)
