"""Helpers shared by the sandbox tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codistill.sandbox import Limits, Program, languages, run_all

FAST = Limits(timeout_s=3.0)


def need(language: str) -> None:
    """Skip (with the install hint) when a toolchain is missing; CI installs them all."""
    missing = languages.get(language).missing()
    if missing:
        pytest.skip(f"{language} toolchain missing here: install {missing}")


def usable(cases: dict) -> dict:
    """The cases whose language has a toolchain here (a batch runs only those)."""
    ready = {name for name, missing in languages.available().items() if missing is None}
    return {key: case for key, case in cases.items() if case[0].language in ready}


def run_cases(cases: dict, limits: Limits = FAST) -> dict:
    """Run {key: (program, ...)} as one concurrent batch; {key: verdict}."""
    ready = usable(cases)
    verdicts = run_all([case[0] for case in ready.values()], limits, workers=2)
    return dict(zip(ready, verdicts, strict=True))


def py(source: str, tests: str | None = None, entry: str | None = None, **kw: object) -> Program:
    """A Python program."""
    return Program("python", source, tests=tests, entry_point=entry, **kw)


def host_processes_with(token: str) -> list[int]:
    """Host pids whose command line contains `token` (to find escaped daemons)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
        except OSError:
            continue
        if token.encode() in cmdline:
            found.append(int(name))
    return found
