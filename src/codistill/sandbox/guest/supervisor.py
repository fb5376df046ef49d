"""The sandbox's supervisor: runs jobs one at a time inside the sandbox, and cleans up after each.

It runs under the sandbox's Python with only the standard library (it must not import
codistill). The host sends one JSON job per line on fd 0 and reads one JSON result per line on
fd 1. For each job it forks a child, confines it (rlimits, its own session, an unprivileged uid
when it can), lets it exec the program (or, for Python, run the harness in the forked child
itself, which saves an interpreter start), watches its output with caps and a wall-clock
deadline, then kills every process the job left behind and deletes its files.

Kill-all is exact: inside a pid namespace the supervisor is pid 1 and `kill(-1)` reaches every
other process there; outside one it is a child subreaper and kills all its descendants.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import resource
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -S: our siblings are not on it

from jobwatch import Watch, descendants, dup_high, parse_reports, set_limit  # noqa: E402

_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE, _PR_SET_CHILD_SUBREAPER = 1, 4, 36
_READ = 65536


class Supervisor:
    """One sandbox's job loop."""

    def __init__(self, config: dict) -> None:
        self.uid = config.get("uid")
        self.pid1 = os.getpid() == 1
        self.base = config["base"]
        self.wipe = config.get("wipe", [])
        self.protect = config.get("protect", [])  # mount points the wipe must not descend into
        self.sys_path = config.get("sys_path", [])
        self.counter = 0
        self.made: str | None = None  # run directory created for the current job
        self.pending: Parked | None = None  # a job answered early, still to be reaped
        # The control pipes move off 0 and 1, so a forked child's fds 0-2 are only its own.
        self.ctl_in = os.dup(0)
        self.ctl_out = os.dup(1)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.close(null)
        self.buffer = b""

    # -- control channel -------------------------------------------------------------------

    def read_line(self) -> bytes | None:
        """The next job's JSON line; None when the host has gone."""
        while b"\n" not in self.buffer:
            chunk = os.read(self.ctl_in, _READ)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line

    def send(self, result: dict) -> None:
        data = json.dumps(result).encode() + b"\n"
        while data:
            data = data[os.write(self.ctl_out, data):]

    # -- one job -----------------------------------------------------------------------------

    def park(self) -> Parked:
        """Fork the next job's child ahead of time: it waits for its job on a pipe.

        Forking a warm interpreter costs a few milliseconds, mostly waiting to be scheduled;
        done here, between jobs, it is off the path from a job's arrival to its result. The
        child holds nothing of the next job: no job, no nonce, no files, until it is started.
        """
        go_r, go_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        nonce_r, nonce_w = os.pipe()
        rep_r, rep_w = os.pipe()
        if self.uid is not None:
            # The run reopens its own pipes through /dev/stdout or /proc/self/fd/N (Java does,
            # for the report): they must belong to its uid, not to ours.
            for fd in (out_w, err_w, nonce_r, rep_w):
                os.fchown(fd, self.uid, self.uid)
        pid = os.fork()
        if pid == 0:
            os.close(go_w)
            self._child(go_r, [out_w, err_w, nonce_r, rep_w])
        for fd in (go_r, out_w, err_w, nonce_r, rep_w):
            os.close(fd)
        return Parked(pid, go_w, out_r, err_r, nonce_w, rep_r)

    def run(self, job: dict, raw: bytes, parked: Parked) -> dict:
        """Start the parked child on `job` (its JSON text is `raw`) and watch it to the end."""
        self.counter += 1
        workdir = job.get("workdir")
        if workdir is None:
            workdir = os.path.join(self.base, f"run{self.counter}")
            os.mkdir(workdir, 0o755)
            if self.uid is not None:
                os.chown(workdir, self.uid, self.uid)
            self.made = workdir
        for name, text in job.get("files", {}).items():
            with open(os.path.join(workdir, name), "w", encoding="utf-8") as handle:
                handle.write(text)
        harness = bool(job.get("harness"))
        nonce = b""
        if harness:
            # Made after the child was forked, so its memory never held it; it waits in the
            # pipe until the harness reads it, after the tests.
            nonce = os.urandom(16).hex().encode()
            os.write(parked.nonce, nonce + b"\n")
        os.close(parked.nonce)
        started = time.monotonic()
        try:
            _write_all(parked.go, workdir.encode() + b"\n" + raw)
        except BrokenPipeError:
            pass  # the child died before its start (it will be reported as such)
        os.close(parked.go)
        early = nonce if job["kind"] == "python" else b""
        watch = Watch(parked.pid, parked.out, parked.err, parked.report, self.ctl_in,
                      int(job.get("out", 65536)), finish_on=early)
        watch.loop(started + float(job["timeout"]))
        wall = time.monotonic() - started  # the program's time, not our clean-up's
        report, forged = parse_reports(bytes(watch.report), nonce) if harness else (None, 0)
        claimed = _claimed_exit(report) if watch.reported else None
        if claimed is not None:
            # The harness signed its report and is exiting with the code it states: answer
            # now, and reap the job after the answer is sent (see finish()).
            self._signal_all(parked.pid)
            watch.drain_now()
            exit_code, cpu = claimed
            self.pending = parked
        else:
            self._kill_all(parked.pid)
            _, status, usage = os.wait4(parked.pid, 0)
            self._reap()
            watch.drain()
            self._close(parked)
            exit_code, cpu = os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime
        if watch.host_gone:
            sys.exit(0)
        report, forged = parse_reports(bytes(watch.report), nonce) if harness else (None, 0)
        return {
            "exit": exit_code,
            "timed_out": watch.timed_out,
            "output_exceeded": watch.exceeded,
            "stdout": bytes(watch.data[parked.out]).decode("utf-8", "replace"),
            "stderr": bytes(watch.data[parked.err]).decode("utf-8", "replace"),
            "stdout_bytes": watch.total[parked.out],
            "stderr_bytes": watch.total[parked.err],
            "report": report,
            "forged_reports": forged,
            "wall": wall,
            "cpu": cpu,
        }

    def finish(self) -> None:
        """Reap a job answered early (its harness had already reported)."""
        if self.pending is None:
            return
        parked, self.pending = self.pending, None
        self._kill_all(parked.pid)
        os.wait4(parked.pid, 0)
        self._reap()
        self._close(parked)

    @staticmethod
    def _close(parked: Parked) -> None:
        for fd in (parked.out, parked.err, parked.report):
            try:
                os.close(fd)
            except OSError:
                pass

    def _child(self, go: int, fds: list[int]) -> None:
        """In the forked child: wait for the job, confine, then exec or run the Python harness."""
        try:
            data = _read_all(go)
            if not data:
                os._exit(0)  # the supervisor is shutting down
            workdir, _, raw = data.partition(b"\n")
            workdir = workdir.decode()
            job = json.loads(raw)
            if job.get("stdin") is not None:
                stdin = os.memfd_create("stdin")
                _write_all(stdin, job["stdin"].encode())
                os.lseek(stdin, 0, os.SEEK_SET)
            else:
                stdin = os.open(os.devnull, os.O_RDONLY)
            # A process group of its own (for killpg without namespaces). Not setsid: with
            # scheduler autogroups that costs milliseconds, and the supervisor already left
            # any controlling terminal (bwrap --new-session, or its own session).
            os.setpgid(0, 0)
            high = [dup_high(fd) for fd in [stdin, *fds]]
            for target, fd in enumerate(high):
                os.dup2(fd, target)
            os.closerange(len(high), 1 << 16)
            set_limit(resource.RLIMIT_CPU, job.get("cpu"))
            set_limit(resource.RLIMIT_AS, job.get("as"))
            set_limit(resource.RLIMIT_FSIZE, job.get("fsize"))
            set_limit(resource.RLIMIT_NOFILE, job.get("nofile"))
            set_limit(resource.RLIMIT_NPROC, job.get("nproc"))
            set_limit(resource.RLIMIT_CORE, 0)
            os.umask(0o022)
            if self.uid is not None:
                os.setgroups([])
                os.setresgid(self.uid, self.uid, self.uid)
                os.setresuid(self.uid, self.uid, self.uid)
            os.chdir(workdir)
            env = dict(job.get("env", {}))
            env.setdefault("HOME", workdir)
            env.setdefault("TMPDIR", workdir)
            if job["kind"] == "exec":
                for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM):
                    signal.signal(sig, signal.SIG_DFL)
                argv = job["argv"]
                os.execve(argv[0], argv, env)
            import pyharness  # noqa: PLC0415 - preloaded in the supervisor; this is a lookup

            os.environ.clear()
            os.environ.update(env)
            sys.path[:] = [workdir, *self.sys_path]
            pyharness.run(job["python"], os.path.join(workdir, job["python"]["file"]))
        except BaseException as exc:  # noqa: BLE001 - report any setup failure, then die
            try:
                os.write(2, f"codistill sandbox: could not start the program: {exc!r}\n".encode())
            finally:
                os._exit(127)
        os._exit(126)

    # -- cleanup -----------------------------------------------------------------------------

    def _signal_all(self, pid: int) -> None:
        """SIGKILL the job's processes without waiting for any of them."""
        try:
            if self.pid1:
                os.kill(-1, signal.SIGKILL)
            else:
                os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _kill_all(self, pid: int) -> None:
        if self.pid1:
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        # Outside a pid namespace: orphans re-parent to us (a subreaper), so the set of our
        # descendants is exactly what this job left; stop and kill them until none is left.
        for _ in range(200):
            pids = descendants(os.getpid()) - {pid}
            if not pids:
                return
            for sig in (signal.SIGSTOP, signal.SIGKILL):
                for other in pids:
                    try:
                        os.kill(other, sig)
                    except (ProcessLookupError, PermissionError):
                        pass
            for other in pids:  # zombies among our own children; the rest re-parent to us
                try:
                    os.waitpid(other, os.WNOHANG)
                except ChildProcessError:
                    pass
            time.sleep(0.002)

    def _reap(self) -> None:
        # Inside a pid namespace everything left got SIGKILL, so waiting cannot hang; outside
        # one, what is left are zombies of processes already killed.
        while True:
            try:
                pid, _ = os.waitpid(-1, 0 if self.pid1 else os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    def clean(self) -> None:
        """Remove the last job's run directory and anything it left in scratch space."""
        if self.made:
            shutil.rmtree(self.made, ignore_errors=True)
            self.made = None
        self._wipe()

    def _wipe(self) -> None:
        for root in self.wipe:
            try:
                names = os.listdir(root)
            except OSError:
                continue
            for name in names:
                path = os.path.join(root, name)
                if any(keep == path or keep.startswith(path + "/") for keep in self.protect):
                    continue
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    try:
                        os.unlink(path)
                    except OSError:
                        pass


def _claimed_exit(report: list | None) -> tuple[int, float] | None:
    """(exit code, cpu seconds) the Python harness states in its signed report, if readable."""
    if not report:
        return None
    try:
        details = json.loads(report[1])
        return int(details["exit_code"]), float(details.get("cpu", 0.0))
    except (ValueError, KeyError, TypeError):
        return None


class Parked:
    """A forked child waiting for its job, and the supervisor's ends of its pipes."""

    def __init__(self, pid: int, go: int, out: int, err: int, nonce: int, report: int) -> None:
        self.pid, self.go, self.out, self.err, self.nonce, self.report = (pid, go, out, err,
                                                                         nonce, report)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        chunk = os.read(fd, _READ)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def main() -> None:
    """Serve jobs until the host closes the control pipe."""
    config = json.loads(sys.argv[1])
    # Children must not be able to ptrace us or read our memory through /proc.
    _LIBC.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    if os.getpid() != 1:
        # Without a pid namespace: adopt orphans (to kill them), and die with the host.
        _LIBC.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() == 1:
            return
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    for name in ["pyharness", *config.get("preload", [])]:
        try:
            __import__(name)
        except ImportError:
            pass
    supervisor = Supervisor(config)
    parked = supervisor.park()
    supervisor.send({"ready": True, "pid": os.getpid()})
    while True:
        raw = supervisor.read_line()
        if raw is None:
            return
        try:
            result = supervisor.run(json.loads(raw), raw, parked)
        except OSError as exc:
            supervisor._kill_all(parked.pid)
            supervisor._reap()
            for fd in (parked.go, parked.out, parked.err, parked.nonce, parked.report):
                try:
                    os.close(fd)
                except OSError:
                    pass
            result = {"error": f"{exc.__class__.__name__}: {exc}",
                      "errno": errno.errorcode.get(exc.errno or 0, "")}
        supervisor.send(result)  # before cleaning up: the host can prepare the next job
        supervisor.finish()
        supervisor.clean()
        parked = supervisor.park()


if __name__ == "__main__":
    main()
