"""C: source then tests in one file, gcc (C11 with GNU extensions, -O1, -lm); see native.py."""

from __future__ import annotations

from codistill.sandbox.languages import native
from codistill.sandbox.languages.base import Build, Diagnosis, Launch, Outcome, Where, stamp, tool
from codistill.sandbox.types import Program

NAME = "c"
EXTENSIONS = (".c",)
# How gcc's errors map to SODA's fault classes (see codistill.faults.observed_fault).
FAULT_CLASSES = ((r"undeclared|implicit declaration", "name"),
                 (r"incompatible type|invalid operands|conflicting types", "type"),
                 (r"expected|stray", "syntax"))
FLAGS = ["-std=gnu11", "-O1", "-pipe", "-w"]


def gcc() -> str | None:
    """gcc, resolved."""
    return tool("gcc")


def missing() -> str | None:
    """What to install when gcc is absent."""
    return None if gcc() else "gcc (apt-get install gcc)"


def mounts() -> list[str]:
    """gcc lives under /usr."""
    return []


def toolchain_id() -> str:
    """gcc's identity."""
    return stamp(gcc())


def build(program: Program) -> Build:
    """gcc program.c [codistill_harness.c -Wl,--wrap=exit] -lm."""
    return native.build(program, gcc(), "c", FLAGS)


def launch(program: Program, where: Where) -> Launch:
    """Run the binary."""
    return native.launch(program, where)


def diagnose(program: Program, outcome: Outcome) -> Diagnosis | None:
    """assert() failures and the like."""
    return native.diagnose(program, outcome)


def diagnose_compile(program: Program, stderr: str) -> Diagnosis:
    """gcc's errors."""
    return native.diagnose_compile(program, stderr)
