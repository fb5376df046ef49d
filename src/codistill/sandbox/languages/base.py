"""What every language module provides, and the small records they exchange with the sandbox.

A language module (one per file in this package) defines, with these exact names:

    NAME: str                      canonical name, as in `Program.language`
    EXTENSIONS: tuple[str, ...]    file extensions, for `codistill exec` to guess the language
    missing() -> str | None        None when usable, else what to install
    mounts() -> list[str]          host paths its toolchain needs inside the sandbox (read-only)
    toolchain_id() -> str          changes when the compiler changes (part of the cache key)
    build(program) -> Build|None   how to compile (None: nothing to compile); may raise Rejected
    launch(program, where) -> Launch   how to run it, given where things are inside the sandbox
    diagnose(program, outcome) -> Diagnosis | None   why a run that did not pass failed
    diagnose_compile(program, stderr) -> Diagnosis   why a compile failed

and what everything outside the sandbox reads about it (text.py and fusion.py hold the
records and the pieces several languages share):

    ALIASES: tuple[str, ...]       other names for it (`languages.canonical` accepts them)
    DISPLAY_NAME: str              its name in prose (C++ for cpp)
    FENCE: str                     the label on the fences codistill writes
    FENCE_LABELS: frozenset[str]   fence labels that mean this language in a model's answer
    STOPS: tuple[str, ...]         where a base model's continuation of a prompt ends
    CLOSER: str                    what closes the function again after that cut
    CODE_START: re.Pattern         a line where code starts in an answer without fences
    TEST_CONVENTION: str           how tests are written, phrased for a model writing them
    DRAFT_PROMPT_RULE: str         what a teacher's draft puts under "Prompt"
    DRAFT_TESTS_RULE: str          what it puts under "Tests"
    BRACES: text.Braces | None     how drafts are cut and stubbed (None: not a brace language)
    defines(code, name) -> bool    whether code defines a function `name`
    assemble_answer(prompt, code, entry_point) -> str   a chat answer with the prompt's context
    finish_completion(source) -> str                    a completed prompt, ready to run
    FUSION: fusion.Fusion | None   how SandboxFusion runs it (None: it has no runner for it)
    MULTIPLE: text.Multiple | None how MultiPL-E's files map onto it (None: none are read)

The sandbox does the rest (compiling, caching, isolation, limits, the success signal).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from codistill.sandbox.types import Limits, Program, Status

REQUIRED = ("NAME", "EXTENSIONS", "FAULT_CLASSES", "missing", "mounts", "toolchain_id", "build",
            "launch", "diagnose", "diagnose_compile",
            "ALIASES", "DISPLAY_NAME", "FENCE", "FENCE_LABELS", "STOPS", "CLOSER", "CODE_START",
            "TEST_CONVENTION", "DRAFT_PROMPT_RULE", "DRAFT_TESTS_RULE", "BRACES", "defines",
            "assemble_answer", "finish_completion", "FUSION", "MULTIPLE")


class Rejected(Exception):
    """A program the harness refuses to build (e.g. it names the harness's private symbols)."""


@dataclass
class Build:
    """A compile step: sources written into a fresh build directory, then one command."""

    files: dict[str, str]
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    address_space_mb: int | None = 4096  # None: the compiler manages its own heap (JVM, node)
    go_cache: bool = False  # mount the shared Go build cache read-write
    # A faster way to the same outputs, (build, build_dir, limits, sandbox, compile_cached) ->
    # Compiled, or None to fall back to running `argv` (warm tsc and javac servers).
    # `compile_cached(name, toolchain_id, build)` builds a helper (javac's server) through the
    # same cache; it is passed in because the sandbox's core imports the languages.
    compile: Callable | None = None


@dataclass
class Where:
    """Paths as the program will see them inside the sandbox."""

    artifacts: str | None  # the compiled build directory, read-only
    guest: str  # codistill's guest code (harness runners)
    limits: Limits


@dataclass
class Launch:
    """A run step: files written into the run directory, then a command (or the Python harness)."""

    argv: list[str] | None = None
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    address_space_mb: int | None = None  # None: Limits.memory_mb
    python: dict | None = None  # in-process Python harness spec instead of argv
    harness: bool = False  # the program reports to the sandbox (nonce on fd 3, report on fd 4)


@dataclass
class Outcome:
    """One finished run, as the sandbox saw it."""

    exit_code: int | None  # None when a signal ended it
    signal: str | None
    stdout: str
    stderr: str
    report: tuple[str, dict] | None  # (status, details) signed with the run's nonce
    timed_out: bool
    output_exceeded: str | None
    wall_s: float
    cpu_s: float
    tests_mode: bool


@dataclass
class Diagnosis:
    """A language's reading of a failed run or compile."""

    status: Status
    error_type: str | None = None
    failed_test: str | None = None
    message: str = ""


def combined(program: Program) -> str:
    """Source then tests, one file: the layout of every single-file language."""
    return program.source + "\n" + (program.tests or "")


def first_test_line(program: Program) -> int:
    """1-based line where the tests start in `combined(program)`."""
    return program.source.count("\n") + 2


def line_of(text: str, number: int) -> str | None:
    """Line `number` (1-based) of `text`, stripped; None when out of range."""
    lines = text.splitlines()
    return lines[number - 1].strip() if 0 < number <= len(lines) else None


def test_line(program: Program, number: int | None) -> str | None:
    """The test line at `number` of the combined file, when it lies in the tests."""
    if number is None or not program.tests or number < first_test_line(program):
        return None
    return line_of(combined(program), number)


def signal_name(exit_code: int | None) -> str | None:
    """'SIGSEGV' for a negative exit code, None otherwise."""
    if exit_code is None or exit_code >= 0:
        return None
    try:
        return signal.Signals(-exit_code).name
    except ValueError:
        return f"signal {-exit_code}"


@functools.cache
def tool(name: str, *extra_dirs: str) -> str | None:
    """Resolved absolute path of an executable on PATH (or in `extra_dirs`), else None."""
    found = shutil.which(name) or next(
        (str(Path(d) / name) for d in extra_dirs if (Path(d) / name).is_file()), None)
    return str(Path(found).resolve()) if found else None


def stamp(path: str | None) -> str:
    """A cheap identity of a file: path, size and modification time."""
    if not path:
        return "absent"
    st = os.stat(path)
    return f"{path}:{st.st_size}:{int(st.st_mtime)}"


def first_match(patterns: list[tuple[str, Status, str]], text: str) -> Diagnosis | None:
    """The first (regex, status, message) whose regex matches `text`, as a Diagnosis."""
    for pattern, status, message in patterns:
        found = re.search(pattern, text, re.MULTILINE)
        if found:
            detail = found.group(1) if found.groups() else found.group(0)
            return Diagnosis(status, message=message.format(detail.strip()))
    return None


def compile_message(stderr: str) -> str:
    """The first error line of a compiler's output."""
    for line in stderr.splitlines():
        if "error" in line.lower():
            return line.strip()[:300]
    # Go prints "# <package>" before its errors, which carry no "error" word ("undefined: y").
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line.startswith("#")]
    return (lines or ["compilation failed"])[0][:300]
