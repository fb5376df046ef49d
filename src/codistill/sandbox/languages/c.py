"""C: source then tests in one file, gcc (C11 with GNU extensions, -O1, -lm); see native.py."""

from __future__ import annotations

from codistill.sandbox.languages import native
from codistill.sandbox.languages.base import Build, Diagnosis, Launch, Outcome, Where, stamp, tool
from codistill.sandbox.languages.text import (
    BRACE_CODE_START,
    BRACE_PROMPT_RULE,
    C_LIKE_FUNCTION,
    Braces,
    as_written,
    defines_c_like,
    join_preamble,
)
from codistill.sandbox.types import Program

NAME = "c"
ALIASES: tuple[str, ...] = ()
EXTENSIONS = (".c",)
# How gcc's errors map to SODA's fault classes (see codistill.faults.observed_fault).
FAULT_CLASSES = ((r"undeclared|implicit declaration", "name"),
                 (r"incompatible type|invalid operands|conflicting types", "type"),
                 (r"expected|stray", "syntax"))
# How models write it, and how prompts ask for it (stops: MultiPL-E's, as for C++).
DISPLAY_NAME = "C"
FENCE = "c"
FENCE_LABELS = frozenset({"c", "h"})
STOPS = ("\n}", "\n```")
CLOSER = "\n}\n"
CODE_START = BRACE_CODE_START
TEST_CONVENTION = ("Write `#include <assert.h>` (and any headers you need) and an `int main(void)` "
                   "that calls the function in `assert(...)` statements and returns 0.")
DRAFT_PROMPT_RULE = BRACE_PROMPT_RULE
DRAFT_TESTS_RULE = TEST_CONVENTION
BRACES = Braces(C_LIKE_FUNCTION, "return 0;", main=r"\bint\s+main\s*\(", void_stub_empty=True)
defines = defines_c_like
assemble_answer = join_preamble
finish_completion = as_written
FUSION = None  # SandboxFusion has no C runner
MULTIPLE = None  # no MultiPL-E files are read for C (evaluate/benchmarks/multiple.py)

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
