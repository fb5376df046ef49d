"""Pieces of the supervisor's job handling: the output watcher and small process helpers.

Standard library only; imported by supervisor.py from the same directory inside the sandbox.
"""

from __future__ import annotations

import fcntl
import os
import resource
import select
import signal
import time

_READ = 65536


class Watch:
    """Reads a job's stdout, stderr and report pipes until it exits, times out or floods."""

    def __init__(self, pid: int, out_r: int, err_r: int, rep_r: int, ctl: int, cap: int,
                 finish_on: bytes = b"") -> None:
        self.pid = pid
        # Stop as soon as a report line starting with this nonce is complete (the Python
        # harness exits right after writing it; waiting for the exit only adds its teardown).
        self.finish_on = finish_on
        self.reported = False
        self.pidfd = os.pidfd_open(pid)
        self.cap = cap
        self.data = {out_r: bytearray(), err_r: bytearray()}
        self.total = {out_r: 0, err_r: 0}
        self.names = {out_r: "stdout", err_r: "stderr"}
        self.report = bytearray()
        self.rep_r = rep_r
        self.ctl = ctl
        self.open = {fd for fd in (out_r, err_r, rep_r) if fd >= 0}
        self.timed_out = False
        self.exceeded: str | None = None
        self.host_gone = False

    def loop(self, deadline: float) -> None:
        poller = select.poll()
        for fd in (*self.open, self.pidfd, self.ctl):
            poller.register(fd, select.POLLIN)
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.timed_out = True
                    return
                for fd, _ in poller.poll(left * 1000):
                    if fd == self.pidfd:
                        return
                    if fd == self.ctl:
                        self.host_gone = True  # the host never writes mid-job: this is EOF
                        return
                    if not self._read(fd):
                        poller.unregister(fd)
                    if self.exceeded or self.reported:
                        return
        finally:
            os.close(self.pidfd)

    def drain(self) -> None:
        """After everything is killed: read what is left in the pipes, without blocking long."""
        deadline = time.monotonic() + 1.0
        for fd in list(self.open):
            os.set_blocking(fd, False)
        while self.open and not self.exceeded and time.monotonic() < deadline:
            ready, _, _ = select.select(list(self.open), [], [], 0.05)
            if not ready:
                break
            for fd in ready:
                try:
                    self._read(fd)
                except BlockingIOError:
                    continue

    def drain_now(self) -> None:
        """Read what the pipes hold right now, without waiting for their writers to go."""
        for fd in list(self.open):
            os.set_blocking(fd, False)
            try:
                while fd in self.open and not self.exceeded and self._read(fd):
                    pass
            except BlockingIOError:
                pass

    def _read(self, fd: int) -> bool:
        chunk = os.read(fd, _READ)
        if not chunk:
            self.open.discard(fd)
            return False
        if fd == self.rep_r:
            if len(self.report) < 1 << 20:
                self.report += chunk
            if self.finish_on and self.report.endswith(b"\n"):
                self.reported = any(line.startswith(self.finish_on + b" ")
                                    for line in self.report.splitlines())
            return True
        self.total[fd] += len(chunk)
        room = self.cap - len(self.data[fd])
        if room > 0:
            self.data[fd] += chunk[:room]
        if self.total[fd] > self.cap:
            self.exceeded = self.names[fd]
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return True


def parse_reports(raw: bytes, nonce: bytes) -> tuple[list | None, int]:
    """The harness's report: the last line that starts with this run's nonce; others are forged."""
    report, forged = None, 0
    for line in raw.splitlines():
        head, _, rest = line.partition(b" ")
        if head == nonce and nonce:
            status, _, payload = rest.partition(b" ")
            report = [status.decode("ascii", "replace"), payload.decode("utf-8", "replace")]
        elif line.strip():
            forged += 1
    return report, forged


def descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        parents[int(name)] = int(fields[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def set_limit(which: int, value: float | int | None) -> None:
    if value is None:
        return
    value = int(value)
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    # CPU: the soft limit sends SIGXCPU, the hard one (a second later) SIGKILL.
    top = value + 1 if which == resource.RLIMIT_CPU and (hard == resource.RLIM_INFINITY
                                                        or value + 1 <= hard) else value
    resource.setrlimit(which, (value, top))


def dup_high(fd: int) -> int:
    """A copy of `fd` numbered 100 or above, so moving fds onto 0-4 never clobbers a source."""
    return fcntl.fcntl(fd, fcntl.F_DUPFD, 100)
