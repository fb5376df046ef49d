"""A SandboxFusion server (bytedance/SandboxFusion) as a backend: one /run_code request per program.

Requests go out `concurrency` at a time from a thread pool sharing one HTTP client; a 5xx answer,
429 or a connection error is retried with exponential backoff; what still fails becomes a
`sandbox_error` verdict whose message names the URL, never an exception. While the endpoint
is down (a program used up its retries on connection errors), later programs get one try each
instead of the full backoff, so a dead server fails a batch in seconds, not hours.
See docs/sandbox.md ("Scaling out") for what a remote verdict can and cannot tell.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx

from codistill.sandbox.backends.fusion_request import Unsupported, to_request
from codistill.sandbox.backends.fusion_verdict import to_verdict
from codistill.sandbox.backends.local import stream_bounded
from codistill.sandbox.types import Limits, Program, Status, Verdict

RETRY_STATUSES = {429, 500, 502, 503, 504}
GRACE_S = 30.0  # how much longer than the program's own limits to wait for an answer


class SandboxFusionBackend:
    """Runs programs on a SandboxFusion server through its /run_code API."""

    def __init__(self, url: str, *, concurrency: int = 8, timeout: float | None = None,
                 retries: int = 3, backoff_s: float = 0.5) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"SandboxFusion URL must start with http:// or https://, got {url!r}")
        if concurrency < 1 or retries < 0 or backoff_s < 0:
            raise ValueError("SandboxFusionBackend needs concurrency >= 1, retries >= 0 and "
                             "backoff_s >= 0")
        base = url.rstrip("/")
        self.url = base if base.endswith("/run_code") else base + "/run_code"
        self.concurrency = concurrency
        self.timeout = timeout
        self.retries = retries
        self.backoff_s = backoff_s
        self._down: str | None = None  # why the endpoint is considered down, while it is
        self._lock = threading.Lock()

    def run_many(self, programs: Iterable[Program], limits: Limits) -> Iterator[Verdict]:
        """Keep `concurrency` requests in flight; yield verdicts as answers arrive."""
        transport = httpx.Limits(max_connections=self.concurrency,
                                 max_keepalive_connections=self.concurrency)
        with httpx.Client(limits=transport) as client, \
                ThreadPoolExecutor(self.concurrency, thread_name_prefix="codistill-fusion") as pool:
            yield from stream_bounded(pool, lambda p: self.run_one(client, p, limits), programs,
                                      window=self.concurrency * 2)

    def run_one(self, client: httpx.Client, program: Program, limits: Limits) -> Verdict:
        """One program's verdict; every failure, the server's or the network's, is a verdict."""
        try:
            request = to_request(program, limits)
        except Unsupported as exc:
            return Verdict(exc.status, id=program.id, error_type="Unsupported", message=str(exc),
                           details={"remote": self.url})
        seconds = self.timeout or (limits.compile_timeout_s + limits.timeout_s + GRACE_S)
        answer, problem = self._post(client, request.body, seconds)
        if answer is None:
            return Verdict(Status.SANDBOX_ERROR, id=program.id, error_type="Unreachable",
                           message=problem, details={"remote": self.url})
        try:
            return to_verdict(request, program, answer, self.url)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            return Verdict(Status.SANDBOX_ERROR, id=program.id, error_type="BadAnswer",
                           message=f"SandboxFusion at {self.url} answered in an unexpected "
                                   f"shape: {exc.__class__.__name__}: {exc}"[:2000],
                           details={"remote": self.url})

    def _post(self, client: httpx.Client, body: dict,
              seconds: float) -> tuple[dict | None, str]:
        """(answer, '') or (None, why), retrying what may pass on a second try."""
        with self._lock:
            attempts = 1 if self._down else self.retries + 1
        problem = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1) * (0.5 + random.random()))
            try:
                response = client.post(self.url, json=body,
                                       timeout=httpx.Timeout(seconds, connect=10.0))
            except httpx.TransportError as exc:
                problem = f"{exc.__class__.__name__}: {exc}"
                continue
            if response.status_code in RETRY_STATUSES:
                problem = f"HTTP {response.status_code}: {response.text[:300]}"
                continue
            with self._lock:
                self._down = None
            if response.status_code != 200:
                return None, (f"SandboxFusion at {self.url} refused the request: HTTP "
                              f"{response.status_code}: {response.text[:500]}")
            try:
                answer = response.json()
            except ValueError:
                return None, (f"SandboxFusion at {self.url} answered with something that is "
                              f"not JSON: {response.text[:300]!r}")
            if not isinstance(answer, dict):
                return None, f"SandboxFusion at {self.url} answered {answer!r:.300}, not an object"
            return answer, ""
        why = (f"SandboxFusion at {self.url} did not answer after {attempts} "
               f"attempt{'s' * (attempts > 1)}: {problem}")
        if problem and not problem.startswith("HTTP"):
            with self._lock:
                self._down = why
        return None, why[:2000]
