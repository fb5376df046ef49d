"""C++: source then tests in one file, g++ (C++17, -O1); see native.py."""

from __future__ import annotations

from codistill.sandbox.languages import native
from codistill.sandbox.languages.base import Build, Diagnosis, Launch, Outcome, Where, stamp, tool
from codistill.sandbox.types import Program

NAME = "cpp"
EXTENSIONS = (".cpp", ".cc", ".cxx")
# How g++'s errors map to SODA's fault classes (see codistill.faults.observed_fault).
FAULT_CLASSES = ((r"was not declared|undeclared", "name"),
                 (r"invalid conversion|cannot convert|conversion from|no match for|invalid operands",
                  "type"),
                 (r"expected|stray", "syntax"))
FLAGS = ["-std=c++17", "-O1", "-pipe", "-w"]


def gxx() -> str | None:
    """g++, resolved."""
    return tool("g++")


def missing() -> str | None:
    """What to install when g++ is absent."""
    return None if gxx() else "g++ (apt-get install g++)"


def mounts() -> list[str]:
    """g++ lives under /usr."""
    return []


def toolchain_id() -> str:
    """g++'s identity."""
    return stamp(gxx())


def build(program: Program) -> Build:
    """g++ program.cpp [codistill_harness.cpp -Wl,--wrap=exit] -lm."""
    return native.build(program, gxx(), "cpp", FLAGS)


def launch(program: Program, where: Where) -> Launch:
    """Run the binary."""
    return native.launch(program, where)


def diagnose(program: Program, outcome: Outcome) -> Diagnosis | None:
    """assert() failures, uncaught exceptions, std::bad_alloc."""
    return native.diagnose(program, outcome)


def diagnose_compile(program: Program, stderr: str) -> Diagnosis:
    """g++'s errors."""
    return native.diagnose_compile(program, stderr)
