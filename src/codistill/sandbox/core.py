"""One program through the sandbox: pick its language, compile (cached), run, judge."""

from __future__ import annotations

import functools
import logging
import math
import time
import traceback
from pathlib import Path
from types import ModuleType

from codistill.sandbox import compile_cache, isolation, languages, supervisor_pool, view
from codistill.sandbox.languages.base import Build, Launch, Rejected, Where
from codistill.sandbox.types import Limits, Program, Status, Verdict
from codistill.sandbox.verdicts import cpu_limit, judge

log = logging.getLogger("codistill.sandbox")

GO_CACHE_MOUNT = "/codistill/gocache"
COMPILE_DISK_MB = 512
COMPILE_OUTPUT = 256 * 1024
GRACE_S = 30.0  # how much longer than a job's own limit the host waits for its supervisor


def check_limits(limits: Limits) -> None:
    """Raise ValueError naming the field when a limit makes no sense."""
    positive = ("timeout_s", "compile_timeout_s", "memory_mb", "max_processes", "max_file_mb",
                "max_open_files", "max_output_bytes", "max_disk_mb")
    for name in positive:
        if not getattr(limits, name) > 0:
            raise ValueError(f"Limits.{name} must be positive, got {getattr(limits, name)!r}")
    if limits.cpu_time_s is not None and not limits.cpu_time_s > 0:
        raise ValueError(f"Limits.cpu_time_s must be positive or None, got {limits.cpu_time_s!r}")
    isolation.requested_mode(limits)


@functools.cache
def toolchain_mounts() -> tuple[str, ...]:
    """Host paths every sandbox shows read-only: Python's standard library, usable toolchains."""
    found = list(isolation.sandbox_python().roots)
    for module in languages.REGISTRY.values():
        if module.missing() is None:
            found += module.mounts()
    return tuple(dict.fromkeys(found))


def run_program(program: Program, limits: Limits) -> Verdict:
    """Execute one program; any failure, ours included, comes back as a Verdict."""
    try:
        return _run(program, limits)
    except Exception as exc:  # noqa: BLE001 - a sandbox bug must not sink a whole batch
        log.debug("sandbox error", exc_info=True)
        return Verdict(Status.SANDBOX_ERROR, id=program.id,
                       message=f"codistill could not run the program: {exc.__class__.__name__}: "
                               f"{exc}", details={"traceback": traceback.format_exc()[-2000:]})


def _run(program: Program, limits: Limits) -> Verdict:
    name = languages.canonical(program.language)
    if name is None:
        return Verdict(Status.ENVIRONMENT_ERROR, id=program.id, error_type="UnknownLanguage",
                       message=f"unknown language {program.language!r}; known: "
                               f"{', '.join(languages.REGISTRY)}")
    language = languages.REGISTRY[name]
    absent = language.missing()
    if absent:
        return Verdict(Status.ENVIRONMENT_ERROR, id=program.id, error_type="MissingToolchain",
                       message=f"the {name} toolchain is not installed here: install {absent} "
                               "(scripts/setup-toolchains.sh does it on Debian)",
                       details={"missing_toolchain": absent})
    namespaces, problem = isolation.use_namespaces(limits)
    if problem:
        return Verdict(Status.ENVIRONMENT_ERROR, id=program.id, error_type="NoIsolation",
                       message=problem, details={"missing_toolchain": "bubblewrap"})
    verdict = _run_in(program, name, language, limits, namespaces)
    verdict.unisolated = not namespaces
    return verdict


def run_sandbox(limits: Limits, namespaces: bool, packages: tuple[str, ...] = ()
                ) -> isolation.Sandbox:
    """The sandbox that runs programs (not compiles) under `limits`, allowing `packages` too.

    Programs with the same extra packages share warm supervisors; others get their own.
    """
    return isolation.Sandbox(namespaces=namespaces, network=limits.network,
                             disk_mb=limits.max_disk_mb, ro=toolchain_mounts(),
                             cache=str(compile_cache.ensure_root()), packages=view.allowed(packages))


def _run_in(program: Program, name: str, language: ModuleType, limits: Limits,
            namespaces: bool) -> Verdict:
    try:
        build = language.build(program)
    except Rejected as exc:
        return Verdict(Status.COMPILE_ERROR, id=program.id, error_type="Rejected",
                       message=str(exc))
    artifacts, compile_s, cached = None, 0.0, False
    if build is not None:
        started = time.monotonic()
        done = compile_cached(name, language.toolchain_id(), build, limits, namespaces)
        compile_s, cached = time.monotonic() - started, done.cached
        if done.timed_out:
            return Verdict(Status.TIMEOUT, id=program.id, error_type="CompileTimeout",
                           compile_s=compile_s, stderr=done.stderr,
                           message=f"compiling took longer than {limits.compile_timeout_s:g} s")
        if not done.ok:
            found = language.diagnose_compile(program, done.stderr)
            return Verdict(found.status, id=program.id, error_type=found.error_type,
                           message=found.message, stderr=done.stderr, compile_s=compile_s,
                           details={"cached": cached})
        artifacts = done.directory
    sandbox = run_sandbox(limits, namespaces, program.packages)
    where = Where(artifacts=sandbox.guest_path(artifacts) if artifacts else None,
                  guest=sandbox.guest_path(isolation.GUEST_DIR), limits=limits)
    job = _job(language.launch(program, where), program, limits)
    try:
        with supervisor_pool.POOL.lease(sandbox) as supervisor:
            raw = supervisor.run(job, limits.timeout_s + GRACE_S)
    except supervisor_pool.SupervisorDied as exc:
        status = Status.SANDBOX_ERROR if namespaces else Status.RUNTIME_ERROR
        return Verdict(status, id=program.id, error_type="SupervisorDied", compile_s=compile_s,
                       message=f"the sandbox's supervisor died during the run: {exc}"[:1000])
    if raw.get("error"):
        return Verdict(Status.SANDBOX_ERROR, id=program.id, compile_s=compile_s,
                       message=f"the supervisor could not run the job: {raw['error']}")
    verdict = judge(program, language, raw, limits)
    verdict.compile_s = compile_s
    verdict.details.update(cached=cached, isolation="namespaces" if namespaces else "none")
    return verdict


def _job(launch: Launch, program: Program, limits: Limits) -> dict:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           **launch.env}
    memory = launch.address_space_mb or limits.memory_mb
    return {"kind": "python" if launch.python else "exec", "argv": launch.argv, "env": env,
            "files": launch.files, "stdin": program.stdin, "harness": launch.harness,
            "python": launch.python, "timeout": limits.timeout_s, "cpu": cpu_limit(limits),
            "as": memory << 20, "nproc": limits.max_processes,
            "fsize": limits.max_file_mb << 20, "nofile": limits.max_open_files,
            "out": limits.max_output_bytes}


def compile_cached(name: str, toolchain: str, build: Build, limits: Limits,
                   namespaces: bool) -> compile_cache.Compiled:
    """The build's outputs from the cache, compiling them first if needed."""
    key = compile_cache.key_of(name, toolchain, build.files, build.argv, build.env,
                               build.address_space_mb)
    return compile_cache.compiled(name, key, build.files,
                                  lambda work: _compile(build, work, limits, namespaces))


def _compile(build: Build, work: Path, limits: Limits, namespaces: bool) -> compile_cache.Compiled:
    """Run one compile in a warm compile sandbox whose only writable places are the cache's
    build area (each build has its own directory there) and the shared Go build cache."""
    if build.compile is not None:
        plain = isolation.Sandbox(namespaces=namespaces, disk_mb=COMPILE_DISK_MB,
                                  ro=toolchain_mounts(), switch_uid=False)
        done = build.compile(build, work, limits, plain,
                             lambda name, toolchain, helper: compile_cached(
                                 name, toolchain, helper, limits, namespaces))
        if done is not None:
            return done
    area = str(work.parent)
    go_cache = compile_cache.root() / "go-build"
    go_cache.mkdir(parents=True, exist_ok=True)
    go_guest = GO_CACHE_MOUNT if namespaces else str(go_cache)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           "HOME": str(work), "TMPDIR": str(work), **build.env}
    if build.go_cache:
        env["GOCACHE"] = go_guest
    sandbox = isolation.Sandbox(namespaces=namespaces, disk_mb=COMPILE_DISK_MB,
                                ro=toolchain_mounts(), rw=((area, area), (str(go_cache), go_guest)),
                                switch_uid=False)
    job = {"kind": "exec", "argv": build.argv, "env": env, "workdir": str(work),
           "files": {}, "stdin": None, "harness": False,
           "timeout": limits.compile_timeout_s, "cpu": math.ceil(limits.compile_timeout_s) + 1,
           "as": build.address_space_mb << 20 if build.address_space_mb else None,
           "nproc": None, "fsize": 512 << 20, "nofile": 4096, "out": COMPILE_OUTPUT}
    with supervisor_pool.POOL.lease(sandbox) as supervisor:
        raw = supervisor.run(job, limits.compile_timeout_s + GRACE_S)
    if raw.get("error"):
        raise RuntimeError(f"the compile supervisor failed: {raw['error']}")
    text = (raw.get("stderr", "") + "\n" + raw.get("stdout", "")).strip()
    return compile_cache.Compiled(ok=raw.get("exit") == 0 and not raw.get("timed_out")
                                  and not raw.get("output_exceeded"),
                                  directory=work, stderr=text, seconds=float(raw.get("wall", 0.0)),
                                  cached=False, timed_out=bool(raw.get("timed_out")))
