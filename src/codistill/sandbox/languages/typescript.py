"""TypeScript: type-checked and compiled by tsc (source then tests, one file), run like JavaScript."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from codistill.sandbox import supervisor_pool
from codistill.sandbox.compile_cache import Compiled
from codistill.sandbox.isolation import GUEST_DIR, Sandbox
from codistill.sandbox.languages import javascript
from codistill.sandbox.languages.base import (
    Build,
    Diagnosis,
    Launch,
    Outcome,
    Where,
    combined,
    compile_message,
    first_match,
    stamp,
    tool,
)
from codistill.sandbox.languages.fusion import Assembled, Fusion
from codistill.sandbox.languages.text import (
    BRACE_CODE_START,
    BRACE_PROMPT_RULE,
    Braces,
    Multiple,
    as_written,
    join_preamble,
)
from codistill.sandbox.types import Limits, Program, Status

NAME = "typescript"
ALIASES = ("ts",)
EXTENSIONS = (".ts",)
# How tsc's and node's errors map to SODA's fault classes (see codistill.faults.observed_fault).
FAULT_CLASSES = ((r"Cannot find name|TS2304|TS2552|ReferenceError", "name"),
                 (r"is not assignable to|TS2322|TS2345|TS2339|TypeError", "type"),
                 (r"SyntaxError|TS1\d{3}\b|expected", "syntax"))
# How models write it, and how prompts ask for it (stops: MultiPL-E's).
DISPLAY_NAME = "TypeScript"
FENCE = "typescript"
FENCE_LABELS = frozenset({"typescript", "ts", "tsx"})
STOPS = ("\nfunction ", "\n/*", "\n//", "\nclass", "\n```")
CLOSER = ""
CODE_START = BRACE_CODE_START
TEST_CONVENTION = ("Start with `declare var require: any;` and "
                   '`const assert = require("node:assert");` and then call the function by name '
                   "in `assert.deepStrictEqual(actual, expected);`.")
DRAFT_PROMPT_RULE = BRACE_PROMPT_RULE
DRAFT_TESTS_RULE = TEST_CONVENTION
FUNCTION = r"\bfunction\s*\*?\s*(\w+)|\b(\w+)\s*=\s*(?:async\s*)?(?:function\b\s*\w*\s*)?(?=[(<])"
# `=>` may come between the parameters and the body: `f = (a: number): number => {`
BRACES = Braces(FUNCTION, "return undefined as any;", signature_end=r"[^;{}]*?\{")
defines = javascript.defines
assemble_answer = join_preamble
finish_completion = as_written

FLAGS = ["--target", "es2020", "--module", "commonjs", "--skipLibCheck", "--noEmitOnError",
         "--sourceMap", "--pretty", "false", "--newLine", "lf", "--outDir", "out"]


def tsc() -> str | None:
    """tsc's JavaScript entry point (run with node directly, no shell or env lookup)."""
    return tool("tsc")


def missing() -> str | None:
    """What to install when tsc or node is absent."""
    if javascript.node() is None:
        return javascript.missing()
    return None if tsc() else "the TypeScript compiler (apt-get install node-typescript)"


def mounts() -> list[str]:
    """tsc lives under /usr (Debian's node-typescript)."""
    return []


def toolchain_id() -> str:
    """tsc's and node's identities."""
    return stamp(tsc()) + "|" + stamp(javascript.node())


def build(program: Program) -> Build:
    """tsc program.ts -> out/program.js (+ source map, so stack traces name .ts lines)."""
    return Build(files={"program.ts": combined(program)},
                 argv=[javascript.node() or "node", "--max-old-space-size=2048", tsc() or "tsc",
                       *FLAGS, "program.ts"],
                 address_space_mb=None, compile=compile_warm)


class _Server(supervisor_pool.LineProcess):
    """guest/tsc_server.js: tsc kept warm, library declarations parsed once."""

    def __init__(self, sandbox: Sandbox) -> None:
        package = str(Path(tsc() or "tsc").resolve().parent.parent)
        argv = [javascript.node() or "node", "--max-old-space-size=2048",
                sandbox.guest_path(GUEST_DIR / "tsc_server.js"), package]
        if sandbox.namespaces:
            argv = sandbox.bwrap_prefix() + argv
        super().__init__(argv, cwd="/")


def compile_warm(build: Build, work: Path, limits: Limits, sandbox: Sandbox,
                 compile_cached: Callable | None = None) -> Compiled | None:
    """Type-check and emit through a warm tsc (same flags, same diagnostics); None if the
    server cannot be used, so the caller runs the tsc command instead. (tsc's server needs no
    compiled helper, so `compile_cached` goes unused.)"""
    started = time.monotonic()
    try:
        with supervisor_pool.POOL.lease(("tsc", sandbox), lambda: _Server(sandbox)) as server:
            answer = server.request({"args": [*FLAGS, "program.ts"], "files": build.files},
                                    limits.compile_timeout_s)
    except supervisor_pool.SupervisorDied as exc:
        if not exc.timed_out:
            return None
        return Compiled(False, work, "tsc: compile timed out", time.monotonic() - started,
                        cached=False, timed_out=True)
    if answer.get("crashed"):
        return None
    for name, text in answer.get("outputs", {}).items():
        target = (work / name).resolve()
        if target.is_relative_to(work.resolve()):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    return Compiled(bool(answer.get("ok")), work, answer.get("diagnostics", ""),
                    time.monotonic() - started, cached=False)


def launch(program: Program, where: Where) -> Launch:
    """Run the compiled JavaScript through the same harness as JavaScript."""
    mode = "tests" if program.tests else "script"
    argv = javascript.node_argv(where, f"{where.artifacts}/out/program.js", mode,
                                "--enable-source-maps")
    return Launch(argv=argv, address_space_mb=where.limits.memory_mb + javascript.V8_HEADROOM_MB,
                  harness=True, env={"NODE_OPTIONS": "", "NODE_DISABLE_COLORS": "1"})


def diagnose(program: Program, outcome: Outcome) -> Diagnosis | None:
    """Same as JavaScript (source maps give TypeScript line numbers)."""
    return javascript.diagnose(program, outcome)


ENVIRONMENT = [
    (r"error TS2307: Cannot find module '([^.'/][^']*)'", Status.ENVIRONMENT_ERROR,
     "module '{}' is not installed in the sandbox (no third-party packages or type "
     "declarations there)"),
]


def diagnose_compile(program: Program, stderr: str) -> Diagnosis:
    """Type and syntax errors are the program's; a missing third-party module is not."""
    found = first_match(ENVIRONMENT, stderr)
    if found:
        found.error_type = "TS2307"
        return found
    code = re.search(r"error (TS\d+)", stderr)
    return Diagnosis(Status.COMPILE_ERROR, code.group(1) if code else None, None,
                     compile_message(stderr))


# ---------------------------------------------------------------------------------------------
# SandboxFusion and MultiPL-E


def _fusion_file(program: Program, marker: str | None) -> Assembled:
    return javascript.fusion_file(program, marker, typed=True)


# SandboxFusion runs TypeScript directly; codistill's own sandbox type-checks it with tsc first,
# so its compatible server reports that compile step.
FUSION = Fusion(names=("typescript", "ts"), compiled=False, assemble=_fusion_file,
                reading=javascript.READING, served_compiled=True)
MULTIPLE = Multiple(names=("ts",))
