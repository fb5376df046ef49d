"""Python: no compile step; the harness runs in a child forked from the warm supervisor.

Source and tests form one module for line numbers, but the tests execute in their own namespace
with pristine builtins (see guest/pyharness.py). A missing module is an environment problem
when an import statement really failed on a module that is not a near-miss of a standard
module name; a misspelt standard module ("maths", "colections") is the candidate's fault.
"""

from __future__ import annotations

import difflib
import sys

from codistill.sandbox import view
from codistill.sandbox.isolation import sandbox_python
from codistill.sandbox.languages.base import (
    Build,
    Diagnosis,
    Launch,
    Outcome,
    Where,
    combined,
    stamp,
    test_line,
)
from codistill.sandbox.types import Program, Status

NAME = "python"
EXTENSIONS = (".py",)
# How this language's errors map to SODA's fault classes (regex over "ErrorType: message"); a
# failed assertion is "logic", a time-out "timeout", anything unmatched "other" (codistill.faults).
FAULT_CLASSES = ((r"^(NameError|UnboundLocalError)\b", "name"), (r"^TypeError\b", "type"),
                 (r"^(SyntaxError|IndentationError|TabError)\b", "syntax"))
# Third-party packages so common that a miss is never a typo of a standard module.
KNOWN_PACKAGES = frozenset({
    "numpy", "pandas", "scipy", "sklearn", "sympy", "requests", "torch", "matplotlib", "networkx",
    "regex", "yaml", "bs4", "lxml", "PIL", "cv2", "numba", "pytest", "dateutil", "pytz", "tqdm",
    "attr", "attrs", "pydantic", "sortedcontainers", "more_itertools", "toolz", "joblib",
})
STATUSES = {"failed": Status.FAILED, "runtime_error": Status.RUNTIME_ERROR,
            "memory_exceeded": Status.MEMORY_EXCEEDED, "output_exceeded": Status.OUTPUT_EXCEEDED,
            "compile_error": Status.COMPILE_ERROR, "exit": Status.RUNTIME_ERROR,
            "bad_program": Status.SANDBOX_ERROR}


def missing() -> str | None:
    """The sandbox's Python is this interpreter (or $CODISTILL_SANDBOX_PYTHON): always there."""
    return None


def mounts() -> list[str]:
    """The interpreter's own prefixes are always mounted; nothing more."""
    return []


def toolchain_id() -> str:
    """Python compiles nothing, but the id still names the interpreter."""
    return stamp(sandbox_python().executable)


def build(program: Program) -> Build | None:
    """Nothing to compile: the harness compiles in the sandbox and reports syntax errors."""
    return None


def launch(program: Program, where: Where) -> Launch:
    """Run the in-process harness on source + tests."""
    spec = {"file": "solution.py", "source": program.source, "tests": program.tests,
            "entry_point": program.entry_point, "script": program.tests is None}
    return Launch(files={"solution.py": combined(program)}, python=spec, harness=True,
                  env={"PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8"})


def diagnose(program: Program, outcome: Outcome) -> Diagnosis | None:
    """Read the harness's signed report."""
    if outcome.report is None:
        return None
    token, info = outcome.report
    error_type = info.get("error_type")
    message = info.get("message", "")
    failed = test_line(program, info.get("test_line"))
    if token == "missing_module":
        return _missing_module(info)
    if token == "exit":
        return Diagnosis(Status.RUNTIME_ERROR, "SystemExit", failed,
                         f"the program exited with status {outcome.exit_code}")
    if token == "compile_error":
        where = info.get("where", "source")
        return Diagnosis(Status.COMPILE_ERROR, error_type, None,
                         f"{error_type} in the {where} (line {info.get('line')}): {message}")
    status = STATUSES.get(token)
    if status is None:
        return None
    if status is Status.FAILED and error_type == "ClaimsEqual":
        message = ("a candidate function returned an object that claims to equal anything "
                   "(an always-equal object); this is not a pass")
    elif status is Status.FAILED and not message:
        message = f"test failed: {failed}" if failed else "a test failed"
    return Diagnosis(status, error_type, failed, f"{error_type}: {message}" if error_type
                     and not message.startswith(str(error_type)) else message)


def _missing_module(info: dict) -> Diagnosis:
    name = str(info.get("module", "?"))
    if not info.get("genuine"):
        return Diagnosis(Status.RUNTIME_ERROR, "ModuleNotFoundError", None,
                         f"the program raised ModuleNotFoundError for {name!r} itself")
    if info.get("stdlib"):
        return Diagnosis(Status.ENVIRONMENT_ERROR, "ModuleNotFoundError", None,
                         f"standard module {name!r} is missing from the sandbox's Python build")
    near = difflib.get_close_matches(name, sorted(sys.stdlib_module_names), n=1, cutoff=0.8)
    if near and name not in KNOWN_PACKAGES:
        return Diagnosis(Status.RUNTIME_ERROR, "ModuleNotFoundError", None,
                         f"no module named {name!r} (did you mean the standard {near[0]!r}?)")
    return Diagnosis(Status.ENVIRONMENT_ERROR, "ModuleNotFoundError", None,
                     f"third-party module {name!r} is not available in the sandbox: programs "
                     f"see only {', '.join(view.DEFAULT_PACKAGES)} and what they declare in "
                     "Program.packages, if installed for the sandbox's Python "
                     f"({sandbox_python().packages_of or sys.executable})")


def diagnose_compile(program: Program, stderr: str) -> Diagnosis:
    """Never called: Python has no separate compile step."""
    return Diagnosis(Status.COMPILE_ERROR, message=stderr[:300])
