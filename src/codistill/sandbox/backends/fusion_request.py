"""Our Program as one SandboxFusion /run_code request: source and tests assembled into one file.

SandboxFusion runs a single file per request (Java always as Main.java, run by `java -ea Main`),
so each language's source and tests are put together the way docs/sandbox.md describes (its
module's `FUSION.assemble`), and, where the language allows a wrapper, the tests are followed
by a random marker printed only when they ran to completion: a run that exits 0 early
(sys.exit, os.Exit, process.exit) then still fails. C has no SandboxFusion runner, and C and
C++ get no marker (see docs/sandbox.md).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from codistill.sandbox import languages
from codistill.sandbox.languages.fusion import Unsupported
from codistill.sandbox.types import Limits, Program

__all__ = ["Request", "Unsupported", "runnable", "to_request"]


@dataclass(frozen=True)
class Request:
    """The JSON body for /run_code and what is needed to read its answer."""

    body: dict
    language: str  # codistill's name
    tests: tuple[int, int] | None  # first and last line of the tests in body["code"]
    marker: str | None  # printed once the tests finished; None where none is added


def runnable() -> list[str]:
    """The languages SandboxFusion has a runner for, by codistill's names."""
    return sorted(name for name, module in languages.REGISTRY.items() if module.FUSION)


def to_request(program: Program, limits: Limits) -> Request:
    """The request for `program`; Unsupported when SandboxFusion cannot run it."""
    name = languages.canonical(program.language)
    if name is None:
        raise Unsupported(f"unknown language {program.language!r}; known: "
                          f"{', '.join(languages.REGISTRY)}")
    fusion = languages.REGISTRY[name].FUSION
    if fusion is None:
        raise Unsupported(f"SandboxFusion has no {name} runner (it runs "
                          f"{', '.join(runnable())}); run {name} programs on the local or "
                          "Ray backend")
    marker = f"codistill-tests-done-{secrets.token_hex(12)}" if program.tests else None
    if program.tests:
        code, tests, marker = fusion.assemble(program, marker)
    else:
        code, tests, marker = fusion.alone(program), None, None
    body = {"code": code, "language": fusion.names[0], "compile_timeout": limits.compile_timeout_s,
            "run_timeout": limits.timeout_s, "memory_limit_MB": limits.memory_mb,
            "stdin": program.stdin or "", "files": {}, "fetch_files": []}
    return Request(body, name, tests, marker)
