"""JavaScript on node: source then tests in one CommonJS script, run by guest/runner.js."""

from __future__ import annotations

import re

from codistill.sandbox.languages.base import (
    Build,
    Diagnosis,
    Launch,
    Outcome,
    Where,
    combined,
    first_match,
    stamp,
    test_line,
    tool,
)
from codistill.sandbox.languages.fusion import Assembled, Fusion, Reading, join
from codistill.sandbox.languages.text import (
    BRACE_CODE_START,
    BRACE_PROMPT_RULE,
    Braces,
    Multiple,
    as_written,
    join_preamble,
)
from codistill.sandbox.types import Program, Status

NAME = "javascript"
ALIASES = ("js", "node")
EXTENSIONS = (".js", ".cjs")
# How this language's errors map to SODA's fault classes (see codistill.faults.observed_fault).
FAULT_CLASSES = ((r"ReferenceError", "name"), (r"TypeError", "type"), (r"SyntaxError", "syntax"))
# How models write it, and how prompts ask for it (stops: MultiPL-E's).
DISPLAY_NAME = "JavaScript"
FENCE = "javascript"
FENCE_LABELS = frozenset({"javascript", "js", "node", "nodejs", "jsx"})
STOPS = ("\nfunction ", "\n/*", "\n//", "\nconsole.log", "\n```")
CLOSER = ""
CODE_START = BRACE_CODE_START
TEST_CONVENTION = ('Start with `const assert = require("node:assert");` and then call the function '
                   "by name in `assert.deepStrictEqual(actual, expected);` statements.")
DRAFT_PROMPT_RULE = BRACE_PROMPT_RULE
DRAFT_TESTS_RULE = TEST_CONVENTION
FUNCTION = r"\bfunction\s*\*?\s*(\w+)|\b(\w+)\s*=\s*(?:async\s*)?(?:function\b\s*\w*\s*)?(?=\()"
# `=>` may come between the parameters and the body: `f = (a) => {`
BRACES = Braces(FUNCTION, "return undefined;", signature_end=r"[^;{}]*?\{")
assemble_answer = join_preamble
finish_completion = as_written

V8_HEADROOM_MB = 1024  # V8 reserves ~800 MB of address space before the first allocation
FATAL = [
    (r"JavaScript heap out of memory", Status.MEMORY_EXCEEDED,
     "JavaScript heap out of memory"),
    (r"Fatal process out of memory: ?(.*)", Status.MEMORY_EXCEEDED, "out of memory: {}"),
]
STATUSES = {"failed": Status.FAILED, "runtime_error": Status.RUNTIME_ERROR,
            "memory_exceeded": Status.MEMORY_EXCEEDED, "compile_error": Status.COMPILE_ERROR}
REPORTED = frozenset({*STATUSES, "missing_module"})


def node() -> str | None:
    """The node executable, resolved."""
    return tool("node")


def missing() -> str | None:
    """What to install when node is absent."""
    return None if node() else "node (apt-get install nodejs)"


def mounts() -> list[str]:
    """node lives under /usr."""
    return []


def toolchain_id() -> str:
    """node's identity."""
    return stamp(node())


def build(program: Program) -> Build | None:
    """Nothing to compile; the runner checks syntax first."""
    return None


def node_argv(where: Where, script: str, mode: str, *extra: str) -> list[str]:
    """node with a heap cap, running the harness on `script`."""
    return [node() or "node", f"--max-old-space-size={where.limits.memory_mb}",
            "--unhandled-rejections=strict", *extra, f"{where.guest}/runner.js", script, mode]


def launch(program: Program, where: Where) -> Launch:
    """Write source + tests, run them through the harness."""
    mode = "tests" if program.tests else "script"
    return Launch(argv=node_argv(where, "program.js", mode), files={"program.js": combined(program)},
                  address_space_mb=where.limits.memory_mb + V8_HEADROOM_MB, harness=True,
                  env={"NODE_OPTIONS": "", "NODE_DISABLE_COLORS": "1"})


def diagnose(program: Program, outcome: Outcome) -> Diagnosis | None:
    """The harness's report, else node's fatal messages on stderr."""
    if outcome.report is not None and outcome.report[0] in REPORTED:
        return from_report(program, outcome.report, line_map=True)
    fatal = first_match(FATAL, outcome.stderr)
    if fatal:
        fatal.error_type = "OutOfMemory"
        return fatal
    return from_stderr(program, outcome)


def from_report(program: Program, report: tuple[str, dict], line_map: bool) -> Diagnosis:
    """Turn runner.js's report into a Diagnosis (shared with TypeScript)."""
    token, info = report
    error_type, message = info.get("error_type"), info.get("message", "")
    line = info.get("line") if line_map else None
    if token == "missing_module":
        name = re.search(r"Cannot find module '([^']+)'", message)
        module = name.group(1) if name else "?"
        if module.startswith((".", "/")):
            return Diagnosis(Status.RUNTIME_ERROR, error_type, None, message[:300])
        return Diagnosis(Status.ENVIRONMENT_ERROR, error_type, None,
                         f"module {module!r} is not installed in the sandbox (node has no "
                         "third-party packages there)")
    status = STATUSES[token]
    failed = test_line(program, line) if line else None
    if status is Status.FAILED and line and failed is None and program.tests:
        status = Status.RUNTIME_ERROR  # an assert inside the candidate, not in the tests
    return Diagnosis(status, error_type, failed, f"{error_type}: {message}"[:2000])


def from_stderr(program: Program, outcome: Outcome) -> Diagnosis | None:
    """An error thrown after loading (a timer, a rejected promise): node printed it."""
    found = re.search(r"^(\w*Error)(?: \[(\w+)\])?: (.*)$", outcome.stderr, re.MULTILINE)
    if not found:
        return None
    name, code, message = found.groups()
    status = Status.FAILED if (name == "AssertionError" or code == "ERR_ASSERTION") \
        else Status.RUNTIME_ERROR
    where = re.search(r"program\.(?:js|ts):(\d+)", outcome.stderr)
    failed = test_line(program, int(where.group(1))) if where else None
    return Diagnosis(status, name, failed, f"{name}: {message}"[:2000])


def diagnose_compile(program: Program, stderr: str) -> Diagnosis:
    """Never called: syntax errors are reported by the runner."""
    return Diagnosis(Status.COMPILE_ERROR, message=stderr[:300])


# ---------------------------------------------------------------------------------------------
# Answers as programs (codistill.extract), SandboxFusion and MultiPL-E


def defines(code: str, name: str) -> bool:
    """True when `code` defines `name`: a function declaration or a function bound to a name."""
    n = re.escape(name)
    return re.search(rf"(function\s*\*?\s*{n}\s*[(<]|\b{n}\s*=\s*(async\s*)?(function|\(|\w+\s*=>)"
                     rf"|^\s*(export\s+)?(const|let|var)\s+{n}\b)", code, re.MULTILINE) is not None


def fusion_file(program: Program, marker: str | None, typed: bool = False) -> Assembled:
    """Source then tests in one script; the marker is written when node is about to exit by
    emptying its event loop (not on process.exit or an uncaught error), as runner.js reports."""
    process = "(globalThis as any).process" if typed else "globalThis.process"
    done = (f"{process}.once('beforeExit', () => {{ {process}.stdout.write("
            f"'\\n{marker}\\n'); }});\n")
    code, span = join([program.source], program.tests or "", [done])
    return code, span, marker


FRAME = r"^\s+at .*?\(?([^\s(]+\.(?:js|ts)):(\d+):\d+"
READING = Reading(r"heap out of memory|Array buffer allocation failed",
                  r"^(\w*Error)(?: \[\w+\])?: (.*)$", FRAME, unloadable_syntax=True)
FUSION = Fusion(names=("nodejs", "js"), compiled=False, assemble=fusion_file, reading=READING)
MULTIPLE = Multiple(names=("js",))
