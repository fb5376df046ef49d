"""What a language module tells the SandboxFusion backend (sandbox/backends/fusion_*.py).

SandboxFusion runs one file per request, so each language says under which name SandboxFusion
knows it, how its source and tests are put into one file (`assemble`), and how its runtime's
errors read on stderr (`Reading`). The helpers its assemblers share are here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from codistill.sandbox.languages.base import Diagnosis
from codistill.sandbox.types import Program, Status

# (source + tests as one file, the tests' first and last line in it, the end-of-tests marker)
Assembled = tuple[str, tuple[int, int], str | None]


class Unsupported(ValueError):
    """The program cannot be expressed as a SandboxFusion request (the message says why)."""

    def __init__(self, message: str, status: Status = Status.ENVIRONMENT_ERROR) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Reading:
    """How one language's runtime reports trouble on stderr."""

    memory: str  # a pattern meaning the run ran out of memory
    error: str  # the uncaught error's name (group 1) and message (group 2)
    frame: str  # a stack-trace frame: its file (group 1) and line (group 2)
    innermost_last: bool = False  # Python prints the innermost frame, and the error, last
    assertion: str = r"AssertionError"
    kind: str | None = None  # the error_type to report, when the name is not the error's
    tell: bool = False  # a failed test is named by the error's message, not its line
    # a SyntaxError with no frame of the program means the runtime could not load it at all
    unloadable_syntax: bool = False
    # what to read before the generic patterns (stderr -> Diagnosis, or None to go on)
    special: Callable[[str], Diagnosis | None] | None = None


def source_alone(program: Program) -> str:
    """A program without tests runs as written."""
    return program.source


@dataclass(frozen=True)
class Fusion:
    """How SandboxFusion runs one language, and how codistill's compatible server answers for it."""

    names: tuple[str, ...]  # SandboxFusion's `language`: the first is sent, all are served
    compiled: bool  # SandboxFusion answers with a compile_result
    assemble: Callable[[Program, str | None], Assembled]  # program with tests, marker -> file
    reading: Reading
    alone: Callable[[Program], str] = source_alone  # the file for a program without tests
    # codistill's server reports a compile step (None: as `compiled`): true where our own
    # sandbox compiles a language that SandboxFusion runs directly
    served_compiled: bool | None = None

    @property
    def compiles_when_served(self) -> bool:
        """Whether codistill's SandboxFusion-compatible server reports a compile step."""
        return self.compiled if self.served_compiled is None else self.served_compiled


def _lines(text: str) -> int:
    return text.count("\n") + (not text.endswith("\n"))


def join(head: list[str], tests: str, tail: list[str]) -> tuple[str, tuple[int, int]]:
    """Concatenate blocks; the tests' line span in the result."""
    before = "".join(block if block.endswith("\n") else block + "\n" for block in head)
    first = before.count("\n") + 1
    body = tests if tests.endswith("\n") else tests + "\n"
    return before + body + "".join(tail), (first, first + _lines(tests) - 1)


def source_then_tests(program: Program, marker: str | None) -> Assembled:
    """Source then tests, with no marker (a main that may fall off its end cannot be wrapped)."""
    code, span = join([program.source], program.tests or "", [])
    return code, span, None
