"""Python: no compile step; the harness runs in a child forked from the warm supervisor.

Source and tests form one module for line numbers, but the tests execute in their own namespace
with pristine builtins (see guest/pyharness.py). A missing module is an environment problem
when an import statement really failed on a module that is not a near-miss of a standard
module name; a misspelt standard module ("maths", "colections") is the candidate's fault.
"""

from __future__ import annotations

import ast
import difflib
import re
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
from codistill.sandbox.languages.fusion import Assembled, Fusion, Reading, Unsupported, join
from codistill.sandbox.languages.text import Multiple, as_written
from codistill.sandbox.types import Program, Status

NAME = "python"
ALIASES = ("py", "python3")
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
# How models write it, and how prompts ask for it.
DISPLAY_NAME = "Python"
FENCE = "python"
FENCE_LABELS = frozenset({"python", "py", "python3", "py3"})
STOPS = ("\nclass", "\ndef", "\n#", "\nif", "\nprint", "\n```")  # the Codex paper's
CLOSER = ""
CODE_START = re.compile(r"^(def |async def |class |import |from \S+ import |@\w)")
TEST_CONVENTION = ("Write a Python function `def check(candidate):` that calls `candidate(...)` "
                   "(the function under test) in `assert` statements, e.g. "
                   "`assert candidate(2, 3) == 5`.")
DRAFT_PROMPT_RULE = "the new function's signature and a short docstring, with no body"
DRAFT_TESTS_RULE = ("def check(candidate): with 4 to 6 assert lines that call candidate on inputs "
                    "of the new task")
BRACES = None  # Python drafts are cut on the syntax tree (stages/drafts_python.py)
finish_completion = as_written
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


# ---------------------------------------------------------------------------------------------
# Answers as programs (codistill.extract)


def defines(code: str, name: str) -> bool:
    """True when `code` defines `name` as a function or class."""
    n = re.escape(name)
    return re.search(rf"^\s*(async\s+)?(def|class)\s+{n}\s*\(", code, re.MULTILINE) is not None


def python_header(prompt: str, entry_point: str | None) -> str:
    """The prompt's imports, helper functions and constants: everything but the entry function."""
    try:
        tree = ast.parse(prompt + "\n    pass\n")
    except SyntaxError:
        try:
            tree = ast.parse(prompt)
        except SyntaxError:
            return ""
    lines = (prompt + "\n    pass\n").splitlines()
    parts = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == entry_point:
            continue
        if isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant):
            continue  # a module docstring
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        parts.append("\n".join(lines[start - 1 : node.end_lineno]))
    return "\n\n".join(parts) + "\n\n" if parts else ""


def assemble_answer(prompt: str, code: str, entry_point: str | None) -> str:
    """A chat answer's code with the prompt's imports and helpers in front (not when the code
    already starts with the prompt: a body-only answer is stored with the prompt before it)."""
    return python_header(prompt, entry_point) + code if prompt.strip() and not code.startswith(prompt) else code


# ---------------------------------------------------------------------------------------------
# SandboxFusion (sandbox/backends/fusion_*.py) and MultiPL-E (evaluate/benchmarks/multiple.py)

_FUTURE = re.compile(r"^from\s+__future__\s+import[^\n]*$", re.MULTILINE)
_CHECK = re.compile(r"^def\s+check\s*\(", re.MULTILINE)


def _fusion_file(program: Program, marker: str | None) -> Assembled:
    """Source, tests, `check(entry_point)` when the tests define check, then the marker.

    As in the local harness, the candidate module is named `solution` so its `__main__` block
    does not run; `from __future__` lines move to the front.
    """
    tests = program.tests or ""
    if _CHECK.search(tests) and not program.entry_point:
        raise Unsupported("the tests define check(candidate) but the program has no "
                          "entry_point", Status.SANDBOX_ERROR)
    futures = _FUTURE.findall(program.source)
    source = _FUTURE.sub("", program.source)
    rename = ("import sys as _codistill_sys; _codistill_sys.modules['solution'] = "
              "_codistill_sys.modules[__name__]; __name__ = 'solution'")
    tail = [f"check({program.entry_point})\n"] if _CHECK.search(tests) else []
    tail.append(f"__import__('os').write(1, b'\\n{marker}\\n')\n")
    code, span = join([*futures, rename, source], tests, tail)
    return code, span, marker


def _fusion_special(stderr: str) -> Diagnosis | None:
    """A syntax error before anything ran, or an import that failed at an import statement."""
    last = (stderr.strip().splitlines() or [""])[-1]
    syntax = re.match(r"(SyntaxError|IndentationError|TabError): (.*)", last)
    if syntax and "Traceback (most recent call last)" not in stderr:
        return Diagnosis(Status.COMPILE_ERROR, syntax.group(1), None, last[:2000])
    missing = re.match(r"ModuleNotFoundError: No module named '([\w.]+)'", last)
    code = re.findall(r'File "[^"]+", line \d+[^\n]*\n[ \t]*([^\n]*)', stderr)
    if missing and code and code[-1].startswith(("import ", "from ")):
        return Diagnosis(Status.ENVIRONMENT_ERROR, "ModuleNotFoundError", None,
                         f"module {missing.group(1)!r} is not installed on the SandboxFusion "
                         "server")
    return None


FUSION = Fusion(
    names=("python",), compiled=False, assemble=_fusion_file,
    reading=Reading(r"^MemoryError\b", r"^([A-Za-z_][\w.]*)(?::\s*(.*))?$",
                    r'File "([^"]+)", line (\d+)', innermost_last=True, special=_fusion_special))


def _check_entry(prompt: str, tests: str) -> str | None:
    found = re.search(r"^\s+check\((\w+)\)", tests, re.MULTILINE)
    return found.group(1) if found else None


MULTIPLE = Multiple(names=("py",), entry=_check_entry)
