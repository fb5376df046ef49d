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
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future

from codistill.sandbox.isolation import Sandbox, base_env, sandbox_python

# Imported once in each supervisor, so forked Python runs start with them loaded.
PRELOAD = ["typing", "math", "re", "collections", "itertools", "functools", "heapq", "string",
           "bisect", "copy", "operator"]
START_TIMEOUT_S = 60.0


class SupervisorDied(Exception):
    """A supervisor (or other helper process) stopped answering: crashed, killed, or hung."""

    def __init__(self, message: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


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


class LineProcess:
    """A long-lived helper process spoken to in JSON lines on its stdin and stdout."""

    def __init__(self, argv: list[str], cwd: str, scratch: str | None = None) -> None:
        self.scratch = scratch
        self.errors = tempfile.TemporaryFile()
        # A session of its own: no controlling terminal for programs to inject keystrokes into.
        self.process = _spawner.popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self.errors, env=base_env(), cwd=cwd,
                                      start_new_session=True)
        self.buffer = b""
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

    def request(self, message: dict, wait_s: float) -> dict:
        """Send one message; the answer, or SupervisorDied after `wait_s` without one."""
        return self.exchange(json.dumps(message).encode(), wait_s)

    def exchange(self, line: bytes, wait_s: float) -> dict:
        """Send one raw line (no newline inside); the JSON answer, as `request`."""
        data = line + b"\n"
        try:
            self.process.stdin.write(data)
            self.process.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            self.kill()
            raise SupervisorDied(f"the process is gone ({exc}){self._tail()}") from None
        return self._receive(time.monotonic() + wait_s)

    def _receive(self, deadline: float) -> dict:
        fd = self.process.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(left, 0))[0] if left > 0 else []
            if not ready:
                self.kill()
                raise SupervisorDied(f"no answer within the deadline{self._tail()}",
                                     timed_out=True)
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                self.kill()
                raise SupervisorDied(f"the process exited (status {self.process.poll()})"
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


class Supervisor(LineProcess):
    """One running supervisor: a sandbox that runs jobs one at a time."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        scratch = None if sandbox.namespaces else tempfile.mkdtemp(prefix="codistill-run-")
        if scratch:
            os.chmod(scratch, 0o755)
        argv, _ = sandbox.supervisor_command(sandbox_python(), scratch or "/tmp", PRELOAD)
        super().__init__(argv, cwd=scratch or "/", scratch=scratch)

    def run(self, job: dict, wait_s: float) -> dict:
        """Run one job; its result, or SupervisorDied after `wait_s` without one."""
        return self.request(job, wait_s)


class SupervisorPool:
    """Idle helper processes by key, each handed to one thread at a time."""

    def __init__(self) -> None:
        self.idle: dict[Hashable, list[LineProcess]] = {}
        self.lock = threading.Lock()
        self.pid = os.getpid()
        # Enough for every worker of a busy batch; more idle ones only hold memory.
        self.max_idle = max(8, 2 * (os.cpu_count() or 1))

    @contextlib.contextmanager
    def lease(self, key: Hashable, start: Callable[[], LineProcess] | None = None
              ) -> Iterator[LineProcess]:
        """An idle process for `key` (by default a Supervisor for the Sandbox `key`), or a new
        one from `start()`; returned to the pool afterwards if still healthy."""
        process = self._take(key, start or (lambda: Supervisor(key)))
        try:
            yield process
        except BaseException:
            process.kill()
            raise
        keep = process.alive and os.getpid() == self.pid
        if keep:
            with self.lock:
                keep = sum(map(len, self.idle.values())) < self.max_idle
                if keep:
                    self.idle.setdefault(key, []).append(process)
        if not keep and process.alive:
            process.close()
        elif not keep:
            process.kill()

    def _take(self, key: Hashable, start: Callable[[], LineProcess]) -> LineProcess:
        with self.lock:
            if os.getpid() != self.pid:  # forked: the parent's processes are not ours
                self.idle, self.pid = {}, os.getpid()
            spares = self.idle.get(key, [])
            while spares:
                process = spares.pop()
                if process.alive:
                    return process
                process.kill()
        return start()

    def close(self) -> None:
        """Stop every idle supervisor."""
        with self.lock:
            everything = [p for spares in self.idle.values() for p in spares]
            self.idle = {}
        for process in everything:
            process.close()


POOL = SupervisorPool()
atexit.register(POOL.close)
