"""Host side of the supervisors: start them, talk to them, keep warm ones for reuse.

A supervisor (guest/supervisor.py) is a small Python process inside one sandbox that runs jobs
one at a time. Starting one costs a bwrap and an interpreter start (tens of milliseconds), so
they are pooled per `Sandbox` and reused across `execute` calls; each job still gets a fresh
process, a fresh run directory and a full clean-up. Every supervisor is started from one
long-lived thread, because bwrap's --die-with-parent (PR_SET_PDEATHSIG) fires when the *thread*
that started it ends, not the process.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import select
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future

from codistill.sandbox.isolation import Sandbox, base_env, sandbox_python

# Imported once in each supervisor, so forked Python runs start with them loaded.
PRELOAD = ["typing", "math", "re", "collections", "itertools", "functools", "heapq", "string",
           "bisect", "random", "hashlib", "fractions", "decimal", "copy", "operator", "dataclasses",
           "json", "statistics", "array", "enum", "abc", "datetime"]
START_TIMEOUT_S = 60.0


class SupervisorDied(Exception):
    """The supervisor stopped answering (crashed, was killed, or hung)."""


class _Spawner:
    """One daemon thread that starts every supervisor and lives as long as the process."""

    def __init__(self) -> None:
        self.requests: queue.Queue = queue.Queue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def popen(self, argv: list[str], **kwargs: object) -> subprocess.Popen:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._serve, name="codistill-sandbox-spawner",
                                               daemon=True)
                self.thread.start()
        done: Future = Future()
        self.requests.put((argv, kwargs, done))
        return done.result()

    def _serve(self) -> None:
        while True:
            argv, kwargs, done = self.requests.get()
            try:
                done.set_result(subprocess.Popen(argv, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                done.set_exception(exc)


_spawner = _Spawner()


class Supervisor:
    """One running supervisor process."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.scratch = None if sandbox.namespaces else tempfile.mkdtemp(prefix="codistill-run-")
        if self.scratch:
            os.chmod(self.scratch, 0o755)
        base = "/tmp" if sandbox.namespaces else self.scratch
        argv, _ = sandbox.supervisor_command(sandbox_python(), base, PRELOAD)
        self.errors = tempfile.TemporaryFile()
        self.process = _spawner.popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self.errors, env=base_env(), cwd=base or "/")
        self.buffer = b""
        self.jobs = 0
        try:
            hello = self._receive(time.monotonic() + START_TIMEOUT_S)
        except SupervisorDied:
            self.kill()
            raise
        if not hello.get("ready"):
            self.kill()
            raise SupervisorDied(f"unexpected greeting {hello!r}")

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self.process.poll() is None

    def run(self, job: dict, wait_s: float) -> dict:
        """Send one job; its result, or SupervisorDied after `wait_s` without an answer."""
        data = json.dumps(job).encode() + b"\n"
        try:
            self.process.stdin.write(data)
            self.process.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            self.kill()
            raise SupervisorDied(f"supervisor is gone ({exc}){self._tail()}") from None
        self.jobs += 1
        return self._receive(time.monotonic() + wait_s)

    def _receive(self, deadline: float) -> dict:
        fd = self.process.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(left, 0))[0] if left > 0 else []
            if not ready:
                self.kill()
                raise SupervisorDied(f"no answer within the deadline{self._tail()}")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                self.kill()
                raise SupervisorDied(f"supervisor exited (status {self.process.poll()})"
                                     f"{self._tail()}")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def _tail(self) -> str:
        try:
            self.errors.seek(0)
            text = self.errors.read().decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""
        return f": {text[-800:]}" if text else ""

    def kill(self) -> None:
        """Stop it now (with namespaces, everything inside dies with it)."""
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self._cleanup()

    def close(self) -> None:
        """Ask it to exit (EOF on its control pipe); kill it if it does not."""
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
        self._cleanup()

    def _cleanup(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdout.close()
        with contextlib.suppress(OSError):
            self.errors.close()
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)


class SupervisorPool:
    """Idle supervisors by sandbox, handed out one job-runner at a time."""

    def __init__(self) -> None:
        self.idle: dict[Sandbox, list[Supervisor]] = {}
        self.lock = threading.Lock()
        self.pid = os.getpid()
        # Enough for every worker of a busy batch; more idle ones only hold memory.
        self.max_idle = max(8, 2 * (os.cpu_count() or 1))

    @contextlib.contextmanager
    def lease(self, sandbox: Sandbox) -> Iterator[Supervisor]:
        """A supervisor for `sandbox`, returned to the pool afterwards if still healthy."""
        supervisor = self._take(sandbox)
        try:
            yield supervisor
        except BaseException:
            supervisor.kill()
            raise
        keep = supervisor.alive and os.getpid() == self.pid
        if keep:
            with self.lock:
                keep = sum(map(len, self.idle.values())) < self.max_idle
                if keep:
                    self.idle.setdefault(sandbox, []).append(supervisor)
        if not keep and supervisor.alive:
            supervisor.close()
        elif not keep:
            supervisor.kill()

    def _take(self, sandbox: Sandbox) -> Supervisor:
        with self.lock:
            if os.getpid() != self.pid:  # forked: the parent's supervisors are not ours
                self.idle, self.pid = {}, os.getpid()
            spares = self.idle.get(sandbox, [])
            while spares:
                supervisor = spares.pop()
                if supervisor.alive:
                    return supervisor
                supervisor.kill()
        return Supervisor(sandbox)

    def close(self) -> None:
        """Stop every idle supervisor."""
        with self.lock:
            everything = [s for spares in self.idle.values() for s in spares]
            self.idle = {}
        for supervisor in everything:
            supervisor.close()


POOL = SupervisorPool()
atexit.register(POOL.close)


def one_shot(sandbox: Sandbox, job: dict, wait_s: float) -> dict:
    """Start a supervisor for a single job (a compile with its own mounts), then stop it."""
    supervisor = Supervisor(sandbox)
    try:
        return supervisor.run(job, wait_s)
    finally:
        supervisor.close()
