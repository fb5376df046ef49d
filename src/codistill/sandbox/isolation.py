"""How a run is walled off: Linux namespaces through bubblewrap, or a loud, weaker fallback.

A `Sandbox` describes one supervisor's surroundings. With namespaces the supervisor starts
inside `bwrap` with no network, its own pid/ipc/uts/mount namespaces, a read-only view of
only the toolchains and standard libraries (never the home directory, never an installed
package that is not allowed, see view.py), and a size-capped tmpfs for run directories.
As root, the supervisor keeps just the capabilities it needs to switch each run to a fresh
unprivileged uid (so per-uid process limits apply and the run cannot signal or trace it);
as a normal user, bwrap adds a user namespace instead. Without namespaces runs still get
rlimits, their own session, a scrubbed environment and a temporary directory, but they can
read the host's files, so that happens only when asked for (`isolation="none"`, or
`allow_unisolated` where namespaces are missing) and a one-time warning says what is lost.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from codistill.sandbox import compile_cache, view
from codistill.sandbox.types import Limits

log = logging.getLogger("codistill.sandbox")

GUEST_DIR = Path(__file__).resolve().parent / "guest"
GUEST_MOUNT = "/codistill/guest"
CACHE_MOUNT = "/codistill/cache"
RUN_BASE = "/tmp"
MODES = ("auto", "namespaces", "none")
ENV_MODE = "CODISTILL_SANDBOX_ISOLATION"
ENV_PYTHON = "CODISTILL_SANDBOX_PYTHON"
ENV_ALLOW = "CODISTILL_SANDBOX_ALLOW_UNISOLATED"
# The few /etc entries toolchains read: the dynamic loader's cache, alternatives (cc, java),
# the JDK's configuration, the time zone. Nothing with credentials or host names.
ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
       "/etc/localtime", "/etc/java-17-openjdk", "/etc/java-21-openjdk", "/etc/java-11-openjdk",
       "/etc/ssl/certs/java", "/etc/ssl/openssl.cnf")
# With network=True, name resolution and TLS need these as well.
ETC_NETWORK = ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/host.conf",
               "/etc/gai.conf", "/etc/ssl/certs", "/usr/share/ca-certificates")
# No site import (sys.path is set explicitly), no user site, no .pyc writes; not -I, which
# would also drop PYTHONHASHSEED=0 (fixed so set order is the same in every run).
PYTHON_FLAGS = ("-S", "-s", "-B")
ROOT_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_CHOWN", "CAP_DAC_OVERRIDE",
             "CAP_FOWNER")
LOST = ("no network isolation (programs can reach the host and the internet); the whole "
        "filesystem is visible with your permissions (home directory and its secrets, benchmark "
        "answers, run folders and caches included); no pid namespace (a daemon that escapes its session is hunted down "
        "process by process); as root, no process-count limit")

_warned = threading.Event()


@dataclass(frozen=True)
class PythonInfo:
    """The interpreter that runs Python candidates (and the supervisor) inside the sandbox."""

    executable: str  # symlinks resolved, so a virtualenv's folder need not be shown
    roots: tuple[str, ...]  # the standard library's install prefix(es), mounted read-only
    sys_path: tuple[str, ...]  # the standard library's entries of sys.path (no site-packages)
    version: str
    packages_of: str | None = None  # whose installed packages to allow; None: this interpreter


@functools.cache
def sandbox_python() -> PythonInfo:
    """$CODISTILL_SANDBOX_PYTHON or this interpreter, with its standard library's paths."""
    other = os.environ.get(ENV_PYTHON) or None
    if other:
        code = ("import sys, json; print(json.dumps([sys.base_prefix, sys.path, "
                "sys.version.split()[0]]))")
        import json  # noqa: PLC0415 - only for a non-default interpreter

        base, path, version = json.loads(subprocess.run(
            [other, "-I", "-c", code], capture_output=True, text=True, check=True).stdout)
    else:
        base, path, version = sys.base_prefix, sys.path, sys.version.split()[0]
    # Not sys.prefix: a virtualenv's own folder holds only site-packages, which stay hidden.
    roots = (str(Path(base).resolve()),)
    real = str(Path(other or sys.executable).resolve())
    if not any(_under(real, root) for root in roots):
        roots = (*roots, str(Path(real).parent))
    keep = [p for p in path if p and not view.is_site_path(p)
            and any(_under(str(Path(p).resolve()), r) for r in roots)]
    return PythonInfo(executable=real, roots=roots, sys_path=tuple(keep), version=version,
                      packages_of=other)


def requested_mode(limits: Limits) -> str:
    """The isolation asked for: the limits' own choice, else $CODISTILL_SANDBOX_ISOLATION."""
    mode = limits.isolation if limits.isolation != "auto" else os.environ.get(ENV_MODE, "auto")
    if mode not in MODES:
        raise ValueError(f"isolation must be one of {MODES}, got {mode!r} "
                         f"(from Limits.isolation or ${ENV_MODE})")
    return mode


@functools.cache
def namespaces_problem() -> str | None:
    """None when bubblewrap can build our sandbox here, else why it cannot."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed (apt-get install bubblewrap)"
    probe = Sandbox(namespaces=True)
    argv = probe.bwrap_prefix() + ["/bin/true"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                              env=base_env())
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not start: {exc}"
    if done.returncode != 0:
        return f"bwrap refused to build a sandbox: {done.stderr.strip()[:300]}"
    return None


def allow_unisolated(limits: Limits) -> bool:
    """True when the user agreed to run without namespaces where they are missing."""
    flag = os.environ.get(ENV_ALLOW, "").strip().lower()
    return limits.allow_unisolated or flag in ("1", "true", "yes")


def use_namespaces(limits: Limits) -> tuple[bool, str | None]:
    """(namespaces?, refusal): the refusal says why nothing may run and what to change."""
    mode = requested_mode(limits)
    if mode == "none":
        warn_fallback("isolation='none' was requested")
        return False, None
    problem = namespaces_problem()
    if problem is None:
        return True, None
    if mode == "namespaces":
        return False, f"isolation='namespaces' was requested but {problem}"
    if allow_unisolated(limits):
        warn_fallback(problem)
        return False, None
    return False, (f"refusing to run untrusted code without namespace isolation: {problem}. "
                   "Without it a program can read everything you can (benchmark answers, run "
                   "folders, caches, secrets). Fix the cause above, or accept that knowingly: "
                   f"set {ENV_ALLOW}=1 (or Limits(allow_unisolated=True)) to fall back only "
                   f"where namespaces are missing, or {ENV_MODE}=none (or "
                   "Limits(isolation='none')) to never use them")


def warn_fallback(reason: str) -> None:
    """Say once, loudly, that runs are not isolated and what that costs."""
    if _warned.is_set():
        return
    _warned.set()
    log.warning("\n%s\nCODISTILL SANDBOX: RUNNING UNTRUSTED CODE WITHOUT NAMESPACE ISOLATION\n"
                "  why: %s\n  still enforced: rlimits (cpu, memory, file size, open files), "
                "wall-clock timeout, output caps, own session + kill of every descendant, "
                "scrubbed environment, temporary run directory\n  lost: %s\n%s",
                "!" * 78, reason, LOST, "!" * 78)


def base_env() -> dict[str, str]:
    """The environment a supervisor starts with: nothing inherited but a PATH and a locale."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}


@dataclass(frozen=True)
class Sandbox:
    """One supervisor's surroundings: isolation, network, scratch size and extra mounts."""

    namespaces: bool
    network: bool = False
    disk_mb: int = 64
    ro: tuple[str, ...] = ()  # host paths to show read-only, at the same path
    rw: tuple[tuple[str, str], ...] = ()  # (host, guest) read-write binds
    cache: str | None = None  # host cache root, shown read-only at CACHE_MOUNT
    switch_uid: bool = True  # as root with namespaces: run each job as an unprivileged uid
    packages: tuple[str, ...] = ()  # Python distributions shown at view.PACKAGES_MOUNT
    key: str = field(default="", compare=True)  # lets callers keep look-alikes apart

    @property
    def privileged(self) -> bool:
        """True when we are root, so bwrap needs no user namespace."""
        return os.geteuid() == 0

    def guest_path(self, host: str | Path) -> str:
        """Where a host path under the cache, the guest code or a rw bind appears inside."""
        host = str(host)
        if not self.namespaces:
            return host
        pairs = [(str(GUEST_DIR), GUEST_MOUNT), *self.rw]
        if self.cache:
            pairs.append((self.cache, CACHE_MOUNT))
        for outer, inner in pairs:
            if host == outer or host.startswith(outer + os.sep):
                return inner + host[len(outer):]
        return host

    def bwrap_prefix(self) -> list[str]:
        """bwrap and its options, up to (not including) the command."""
        argv = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-uts",
                "--unshare-cgroup-try", "--hostname", "sandbox", "--new-session",
                "--die-with-parent", "--as-pid-1", "--cap-drop", "ALL"]
        if not self.network:
            argv.append("--unshare-net")
        if not self.privileged:
            argv.append("--unshare-user")
        elif self.switch_uid:
            for cap in ROOT_CAPS:
                argv += ["--cap-add", cap]
        parents = self._parents()
        argv += [arg for parent in parents if not _under(parent, RUN_BASE)
                 for arg in ("--perms", "0755", "--dir", parent)]
        argv += ["--ro-bind", "/usr", "/usr"]
        links, dirs = _top_dirs()
        for top, target in links:
            argv += ["--symlink", target, top]
        for top in dirs:
            argv += ["--ro-bind", top, top]
        for path in self._etc():
            argv += ["--ro-bind", path, path]
        argv += ["--proc", "/proc", "--dev", "/dev",
                 "--size", str(self.disk_mb << 20), "--tmpfs", RUN_BASE]
        argv += [arg for parent in parents if _under(parent, RUN_BASE)
                 for arg in ("--perms", "0755", "--dir", parent)]
        for path in self._ro():
            argv += ["--ro-bind", path, path]
        # Installed packages are hidden wherever they are; the allowed ones come back below.
        for path in view.site_dirs(("/usr", *dirs, *self._ro())):
            argv += ["--tmpfs", path, "--remount-ro", path]
        argv += ["--ro-bind", str(GUEST_DIR), GUEST_MOUNT]
        if self.cache:
            argv += ["--ro-bind", self.cache, CACHE_MOUNT]
            for name in compile_cache.PRIVATE:  # builds in progress, Go's cache: other programs' code
                if os.path.isdir(os.path.join(self.cache, name)):
                    inner = f"{CACHE_MOUNT}/{name}"
                    argv += ["--tmpfs", inner, "--remount-ro", inner]
        for host, inner in self._packages():
            argv += ["--ro-bind", host, inner]
        for outer, inner in self.rw:
            argv += ["--bind", outer, inner]
        argv += ["--chdir", RUN_BASE]
        return argv

    def visible(self) -> list[str]:
        """Every path shown inside (their site-packages folders empty): the documented view."""
        links, dirs = _top_dirs()
        shown = ["/usr", *dirs, *(top for top, _ in links), *self._etc(), "/proc", "/dev",
                 RUN_BASE, *self._ro(), GUEST_MOUNT, *(inner for _, inner in self._packages()),
                 *(inner for _, inner in self.rw)]
        return shown + ([CACHE_MOUNT] if self.cache else [])

    def _etc(self) -> list[str]:
        return [path for path in ETC + (ETC_NETWORK if self.network else ())
                if os.path.exists(path) and not _under(path, "/usr")]

    def _ro(self) -> list[str]:
        return [path for path in self.ro if os.path.exists(path) and not _under(path, "/usr")]

    def _packages(self) -> list[tuple[str, str]]:
        """(host, guest) binds of the allowed distributions' top-level files and folders."""
        found = view.package_paths(self.packages, sandbox_python().packages_of)
        return [(path, f"{view.PACKAGES_MOUNT}/{os.path.basename(path)}") for path in found]

    def _parents(self) -> list[str]:
        """Parents of mount points, shallowest first. bwrap would create missing ones 0700
        when run as root, and runs use another uid, so they are created 0755 explicitly."""
        targets = [*ETC, *ETC_NETWORK, *self.ro, GUEST_MOUNT, CACHE_MOUNT,
                   *(inner for _, inner in self.rw), *(inner for _, inner in self._packages())]
        found = {str(parent) for target in targets for parent in Path(target).parents}
        found -= {"/", "/usr", RUN_BASE}
        return sorted((p for p in found if not _under(p, "/usr")), key=lambda p: p.count("/"))

    def supervisor_command(self, python: PythonInfo, base: str, preload: list[str]) -> tuple[
            list[str], dict]:
        """argv that starts a supervisor in this sandbox, and the config it is given."""
        import json  # noqa: PLC0415 - keeps module import light

        config: dict = {"base": base, "sys_path": list(python.sys_path), "preload": preload}
        script = self.guest_path(GUEST_DIR / "supervisor.py")
        if self.namespaces:
            if self.packages:
                config["sys_path"].append(view.PACKAGES_MOUNT)
            protect = [inner for _, inner in self.rw] + list(self.ro)
            config.update(wipe=[RUN_BASE, "/dev/shm"], protect=protect)
            if self.privileged and self.switch_uid:
                config["uid"] = random.randrange(1_000_000, 2_000_000_000)
            argv = self.bwrap_prefix() + [python.executable, *PYTHON_FLAGS, script,
                                          json.dumps(config)]
        else:
            if self.packages:
                paths = view.package_paths(self.packages, python.packages_of)
                config["sys_path"].append(view.package_farm(paths))
            argv = [python.executable, *PYTHON_FLAGS, script, json.dumps(config)]
        return argv, config


@functools.cache
def _top_dirs() -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The top-level system folders shown: ((link, target), ...) and real folders."""
    links, dirs = [], []
    for top in ("/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"):
        if os.path.islink(top):
            links.append((top, os.readlink(top)))
        elif os.path.isdir(top):
            dirs.append(top)
    return tuple(links), tuple(dirs)


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root + "/")
