"""The sandbox's vocabulary: what a program is, what limits it runs under, what came of it."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field, replace
from typing import Any


class Status(enum.StrEnum):
    """Every way a run can end; the only statuses any stage ever sees (str() is the value)."""

    PASSED = "passed"
    FAILED = "failed"  # ran, but a test failed or the tests did not run to completion
    COMPILE_ERROR = "compile_error"
    RUNTIME_ERROR = "runtime_error"  # crashed outside a test assertion (exception, signal)
    TIMEOUT = "timeout"
    MEMORY_EXCEEDED = "memory_exceeded"
    OUTPUT_EXCEEDED = "output_exceeded"
    ENVIRONMENT_ERROR = "environment_error"  # not the program's fault: missing toolchain/module
    SANDBOX_ERROR = "sandbox_error"  # codistill itself could not run it
    SKIPPED = "skipped"  # deliberately not run (execution feedback ablated); never a verdict's

    @property
    def is_fault(self) -> bool:
        """True when the program itself is to blame (not the environment or the sandbox)."""
        return self not in (Status.PASSED, Status.SKIPPED) and not self.is_environment

    @property
    def is_environment(self) -> bool:
        """True when the run says nothing about the program: a missing toolchain or module, or
        a sandbox that could not run it. The one place this is decided."""
        return self in (Status.ENVIRONMENT_ERROR, Status.SANDBOX_ERROR)


@dataclass(frozen=True)
class Limits:
    """Resource limits for one run; every field has a safe default."""

    timeout_s: float = 10.0  # wall-clock limit of the run step (compile has its own)
    compile_timeout_s: float = 60.0
    cpu_time_s: float | None = None  # defaults to timeout_s + 1
    memory_mb: int = 1024  # address space / cgroup memory of the run
    max_processes: int = 64
    max_file_mb: int = 16  # largest file the program may write
    max_open_files: int = 256
    max_output_bytes: int = 64 * 1024  # stdout and stderr each; more is `output_exceeded`
    network: bool = False
    max_disk_mb: int = 64  # scratch space of the run directory (a size-capped tmpfs)
    isolation: str = "auto"  # "auto" | "namespaces" | "none"; see docs/sandbox.md
    # With "auto" where namespaces are missing: run unisolated instead of refusing.
    allow_unisolated: bool = False


@dataclass(frozen=True)
class Program:
    """One piece of untrusted code to run, with optional tests or stdin/stdout checks.

    `tests` is test code in the same language (see docs/sandbox.md for each language's
    convention); for Python it may define HumanEval's `check(candidate)`, which is then called
    with `entry_point`. With `expected_stdout`, the program passes when its stdout matches.
    """

    language: str
    source: str
    tests: str | None = None
    entry_point: str | None = None
    stdin: str | None = None
    expected_stdout: str | None = None
    id: str = ""  # caller's key, copied to the verdict so results join back
    # Python distributions this program may import beyond sandbox.view.DEFAULT_PACKAGES
    # (with their requirements), e.g. ("pandas",) for a question about pandas.
    packages: tuple[str, ...] = ()

    def with_(self, **changes: Any) -> Program:
        """A copy with some fields changed."""
        return replace(self, **changes)


@dataclass
class Verdict:
    """What happened when a program ran. Failures of untrusted code are data, never exceptions."""

    status: Status
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    failed_test: str | None = None  # the failing assertion or test, when known
    error_type: str | None = None  # e.g. "AssertionError", "ZeroDivisionError", "SIGSEGV"
    message: str = ""  # one human line: why this status
    compile_s: float = 0.0
    run_s: float = 0.0
    id: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    unisolated: bool = False  # ran without namespaces: it could read the host's files

    @property
    def passed(self) -> bool:
        """True when the tests really ran to completion and all passed."""
        return self.status is Status.PASSED

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        """Inverse of `to_dict`."""
        return cls(**{**data, "status": Status(data["status"])})
