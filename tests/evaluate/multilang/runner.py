"""Run translated programs: through codistill.sandbox once it exists, else a scratch runner.

The scratch runner follows docs/sandbox.md (how each language's source and tests are put
together and built) with plain subprocesses; it is not isolated and exists only so the
translations can be validated before the real sandbox lands.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

_GO_CACHE = Path(tempfile.gettempdir()) / "codistill-multilang-gocache"


@dataclass
class Outcome:
    """Whether the tests ran to completion, and what was printed when they did not."""

    passed: bool
    status: str
    detail: str = ""


def real_sandbox():
    """codistill.sandbox's batch runner, or None while it does not exist yet."""
    try:
        from codistill.sandbox import Limits, Program, run_all
    except ImportError:
        return None
    return run_all, Program, Limits


def run_programs(programs: list[tuple[str, str, str]], timeout: float = 60.0) -> list[Outcome]:
    """Run (language, source, tests) triples; the real sandbox when available."""
    sandbox = real_sandbox()
    if sandbox is not None:
        run_all, program_type, limits_type = sandbox
        items = [program_type(language=lang, source=src, tests=tst, id=str(i))
                 for i, (lang, src, tst) in enumerate(programs)]
        verdicts = run_all(items, limits_type(timeout_s=timeout))
        return [Outcome(v.passed, v.status.value, v.message + "\n" + v.stderr[-2000:])
                for v in verdicts]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda p: _scratch(*p, timeout), programs))


def _step(cmd: list[str], cwd: Path, timeout: float, env: dict | None = None) -> tuple[int, str]:
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **(env or {})})
    except subprocess.TimeoutExpired:
        return -1, "timeout"
    return done.returncode, (done.stdout + done.stderr)[-4000:]


def _scratch(language: str, source: str, tests: str, timeout: float) -> Outcome:
    work = Path(tempfile.mkdtemp(prefix=f"multilang-{language}-"))
    try:
        build, run = _commands(language, source, tests, work)
        for cmd, env in build:
            code, out = _step(cmd, work, 120.0, env)
            if code != 0:
                return Outcome(False, "compile_error", out)
        code, out = _step(run[0], work, timeout, run[1])
        if code == -1:
            return Outcome(False, "timeout", out)
        return Outcome(code == 0, "passed" if code == 0 else "failed", out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _commands(language: str, source: str, tests: str, work: Path):
    """(build steps, run step) for one language, each a (command, extra environment)."""
    if language == "javascript":
        (work / "main.js").write_text(source + "\n" + tests)
        return [], (["node", "main.js"], None)
    if language == "typescript":
        (work / "main.ts").write_text(source + "\n" + tests)
        return ([(["tsc", "--strict", "--target", "es2020", "--outDir", "out", "main.ts"], None)],
                (["node", "out/main.js"], None))
    if language == "java":
        (work / "Solution.java").write_text(source)
        (work / "Main.java").write_text(tests)
        return ([(["javac", "-nowarn", "Solution.java", "Main.java"], None)],
                (["java", "-ea", "-Xss64m", "Main"], None))
    if language == "c":
        (work / "main.c").write_text(source + "\n" + tests)
        return ([(["gcc", "-std=c11", "-O1", "main.c", "-o", "main", "-lm"], None)],
                (["./main"], None))
    if language == "cpp":
        (work / "main.cpp").write_text(source + "\n" + tests)
        return ([(["g++", "-std=c++17", "-O1", "main.cpp", "-o", "main"], None)], (["./main"], None))
    if language == "go":
        if not source.lstrip().startswith("package "):
            source = "package main\n\n" + source
        (work / "solution.go").write_text(source)
        (work / "main_test_harness.go").write_text(tests)
        env = {"GOCACHE": str(_GO_CACHE), "GO111MODULE": "off", "GOPATH": str(work / "gopath"),
               "HOME": str(work)}
        return ([(["go", "build", "-o", "main", "solution.go", "main_test_harness.go"], env)],
                (["./main"], None))
    raise ValueError(f"no scratch runner for {language}")
