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

from jobwatch import Watch, close_quietly, descendants, dup_high, parse_reports, set_limit  # noqa: E402

_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE, _PR_SET_CHILD_SUBREAPER = 1, 4, 36
_READ = 65536
NONCE_FD, REPORT_FD = 3, 4  # where a harnessed child finds its nonce and writes its report


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
        # The control pipes move off 0 and 1, so a forked child's fds 0-2 are only its own.
        self.ctl_in = os.dup(0)
        self.ctl_out = os.dup(1)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.close(null)
        self.buffer = b""

    # -- control channel -------------------------------------------------------------------

    def read_job(self) -> dict | None:
        while b"\n" not in self.buffer:
            chunk = os.read(self.ctl_in, _READ)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def send(self, result: dict) -> None:
        data = json.dumps(result).encode() + b"\n"
        while data:
            data = data[os.write(self.ctl_out, data):]

    # -- one job -----------------------------------------------------------------------------

    def run(self, job: dict) -> dict:
        self.counter += 1
        workdir = job.get("workdir")
        own_dir = workdir is None
        if own_dir:
            workdir = os.path.join(self.base, f"run{self.counter}")
            os.mkdir(workdir, 0o755)
            if self.uid is not None:
                os.chown(workdir, self.uid, self.uid)
        try:
            for name, text in job.get("files", {}).items():
                with open(os.path.join(workdir, name), "w", encoding="utf-8") as handle:
                    handle.write(text)
            return self._watch(job, workdir)
        finally:
            if own_dir:
                shutil.rmtree(workdir, ignore_errors=True)
            self._wipe()

    def _watch(self, job: dict, workdir: str) -> dict:
        harness = bool(job.get("harness"))
        if job.get("stdin") is not None:
            stdin = os.memfd_create("stdin")
            os.write(stdin, job["stdin"].encode())
            os.lseek(stdin, 0, os.SEEK_SET)
        else:
            stdin = os.open(os.devnull, os.O_RDONLY)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        nonce_r, nonce_w = os.pipe() if harness else (-1, -1)
        rep_r, rep_w = os.pipe() if harness else (-1, -1)
        if self.uid is not None:
            # The run reopens its own pipes through /dev/stdout or /proc/self/fd/N (Java does,
            # for the report): they must belong to its uid, not to ours.
            for fd in (stdin, out_w, err_w, nonce_r, rep_w):
                if fd >= 0:
                    os.fchown(fd, self.uid, self.uid)
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            self._child(job, workdir, [stdin, out_w, err_w, nonce_r, rep_w])
        for fd in (stdin, out_w, err_w, nonce_r, rep_w):
            if fd >= 0:
                os.close(fd)
        nonce = b""
        if harness:
            # Written only now: the child's memory, copied at fork, never held it.
            nonce = os.urandom(16).hex().encode()
            os.write(nonce_w, nonce + b"\n")
            os.close(nonce_w)
        watch = Watch(pid, out_r, err_r, rep_r, self.ctl_in, int(job.get("out", 65536)))
        watch.loop(started + float(job["timeout"]))
        self._kill_all(pid)
        _, status, usage = os.wait4(pid, 0)
        self._reap()
        watch.drain()
        wall = time.monotonic() - started
        for fd in (out_r, err_r, rep_r):
            if fd >= 0:
                os.close(fd)
        if watch.host_gone:
            sys.exit(0)
        report, forged = parse_reports(bytes(watch.report), nonce) if harness else (None, 0)
        return {
            "exit": os.waitstatus_to_exitcode(status),
            "timed_out": watch.timed_out,
            "output_exceeded": watch.exceeded,
            "stdout": bytes(watch.data[out_r]).decode("utf-8", "replace"),
            "stderr": bytes(watch.data[err_r]).decode("utf-8", "replace"),
            "stdout_bytes": watch.total[out_r],
            "stderr_bytes": watch.total[err_r],
            "report": report,
            "forged_reports": forged,
            "wall": wall,
            "cpu": usage.ru_utime + usage.ru_stime,
        }

    def _child(self, job: dict, workdir: str, fds: list[int]) -> None:
        """In the forked child: confine, then exec the program or run the Python harness."""
        try:
            os.setsid()
            high = [dup_high(fd) if fd >= 0 else -1 for fd in fds]
            for target, fd in enumerate(high):
                if fd >= 0:
                    os.dup2(fd, target)
                else:
                    close_quietly(target)
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
    supervisor.send({"ready": True, "pid": os.getpid()})
    while True:
        job = supervisor.read_job()
        if job is None:
            return
        try:
            result = supervisor.run(job)
        except OSError as exc:
            result = {"error": f"{exc.__class__.__name__}: {exc}",
                      "errno": errno.errorcode.get(exc.errno or 0, "")}
        supervisor.send(result)


if __name__ == "__main__":
    main()
