"""Run untrusted, model-written code and judge it: `execute(program, limits) -> Verdict`.

    from codistill.sandbox import execute, Program
    verdict = execute(Program("python", "def f(x):\n    return x + 1\n",
                              tests="def check(c):\n    assert c(1) == 2\n", entry_point="f"))
    verdict.status  # Status.PASSED

`execute_many` streams verdicts as programs finish, `run_all` returns them in input order,
`reference_limits` derives a time limit from a reference solution's runtime, and
`languages.available()` says which toolchains are usable. docs/sandbox.md explains the test
conventions per language, what the isolation covers and what it does not.
"""

from __future__ import annotations

from codistill.sandbox import languages
from codistill.sandbox.backends.local import Backend, LocalBackend
from codistill.sandbox.batch import execute_many, run_all, use_backend
from codistill.sandbox.core import check_limits, run_program
from codistill.sandbox.timing import reference_limits
from codistill.sandbox.types import Limits, Program, Status, Verdict

__all__ = ["Backend", "Limits", "LocalBackend", "Program", "Status", "Verdict", "execute", "use_backend",
           "execute_many", "languages", "reference_limits", "run_all"]


def execute(program: Program, limits: Limits | None = None) -> Verdict:
    """Run one program in the sandbox and judge it; failures of the program are data."""
    limits = limits or Limits()
    check_limits(limits)
    return run_program(program, limits)
