"""Gathers requests arriving concurrently (HTTP clients) into batched `generate` calls."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from codistill.models.base import Generation, Generator, Request, Sampling


@dataclass
class _Item:
    requests: Sequence[Request]
    sampling: Sampling
    future: Future = field(default_factory=Future)


class Batcher:
    """One worker thread owns the generator; callers block until their results are ready.

    The worker waits up to `wait` seconds after the first pending item for more to arrive, then
    runs items with equal sampling parameters together, up to `max_batch` requests per call.
    A local model thus serves many clients with batched throughput, never concurrently.
    """

    def __init__(self, generator: Generator, *, max_batch: int = 32, wait: float = 0.02) -> None:
        self.generator = generator
        self.max_batch = max_batch
        self.wait = wait
        self.calls = 0  # generate calls made (tests check that batching happened)
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="codistill-batcher", daemon=True)
        self._thread.start()

    def submit(self, requests: Sequence[Request], sampling: Sampling) -> list[Generation]:
        """Generate for `requests` along with whatever else is pending; re-raises its error."""
        item = _Item(requests, sampling)
        self._queue.put(item)
        return item.future.result()

    def close(self) -> None:
        """Stop the worker after the items already queued."""
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            pending = [first]
            deadline = time.monotonic() + self.wait
            stop = False
            while sum(len(i.requests) for i in pending) < self.max_batch:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                pending.append(item)
            groups: dict[Sampling, list[_Item]] = {}
            for item in pending:
                groups.setdefault(item.sampling, []).append(item)
            for sampling, items in groups.items():
                self._run(sampling, items)
            if stop:
                return

    def _run(self, sampling: Sampling, items: list[_Item]) -> None:
        requests = [r for item in items for r in item.requests]
        try:
            self.calls += 1
            results = self.generator.generate(requests, sampling)
        except Exception as exc:  # noqa: BLE001 - handed to the waiting callers
            if len(items) > 1:
                # One bad request (too long, say) must not fail the clients batched with it.
                for item in items:
                    self._run(sampling, [item])
                return
            items[0].future.set_exception(exc)
            return
        start = 0
        for item in items:
            item.future.set_result(results[start : start + len(item.requests)])
            start += len(item.requests)
