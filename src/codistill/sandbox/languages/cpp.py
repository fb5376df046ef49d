"""C++: source then tests in one file, g++ (C++17, -O1); see native.py."""

from __future__ import annotations

from codistill.sandbox.languages import native
from codistill.sandbox.languages.base import Build, Diagnosis, Launch, Outcome, Where, stamp, tool
from codistill.sandbox.languages.fusion import Fusion, Reading, source_then_tests
from codistill.sandbox.languages.text import (
    BRACE_CODE_START,
    BRACE_PROMPT_RULE,
    C_LIKE_FUNCTION,
    Braces,
    Multiple,
    as_written,
    closing_brace_moved,
    defines_c_like,
    join_preamble,
)
from codistill.sandbox.types import Program

NAME = "cpp"
ALIASES = ("c++", "cxx")
EXTENSIONS = (".cpp", ".cc", ".cxx")
# How g++'s errors map to SODA's fault classes (see codistill.faults.observed_fault).
FAULT_CLASSES = ((r"was not declared|undeclared", "name"),
                 (r"invalid conversion|cannot convert|conversion from|no match for|invalid operands",
                  "type"),
                 (r"expected|stray", "syntax"))
# How models write it, and how prompts ask for it (stops: MultiPL-E's).
DISPLAY_NAME = "C++"
FENCE = "cpp"
FENCE_LABELS = frozenset({"cpp", "c++", "cxx", "cc", "hpp"})
STOPS = ("\n}", "\n```")
CLOSER = "\n}\n"
CODE_START = BRACE_CODE_START
TEST_CONVENTION = ("Write `#include <cassert>` (and any headers you need) and an `int main()` that "
                   "calls the function in `assert(...)` statements and returns 0.")
DRAFT_PROMPT_RULE = BRACE_PROMPT_RULE
DRAFT_TESTS_RULE = TEST_CONVENTION
BRACES = Braces(C_LIKE_FUNCTION, "return {};", main=r"\bint\s+main\s*\(", void_stub_empty=True)
defines = defines_c_like
assemble_answer = join_preamble
finish_completion = as_written
# SandboxFusion: no end-of-tests marker (a C++ main may fall off its end, so it cannot be wrapped)
FUSION = Fusion(names=("cpp",), compiled=True, assemble=source_then_tests,
                reading=Reading(r"std::bad_alloc", r"(Assertion) [`'](.*)' failed",
                                r"(\S+\.(?:cpp|cc|c)):(\d+):", assertion="Assertion",
                                kind="AssertionError", tell=True))
# MultiPL-E's tests open by closing the function: that `}` ends the candidate instead
MULTIPLE = Multiple(names=("cpp",), convert=closing_brace_moved)

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
