"""Rust: source then tests in one file, rustc (edition 2021, debug build: overflow checks on).

With tests, the tests' `fn main` becomes `codistill_tests_main` and a harness `main` calls it
and then reports; a `main` the candidate wrote becomes `codistill_candidate_main`.
std::process::exit inside the candidate therefore never reaches the report.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from pathlib import Path

from codistill.sandbox.languages.base import (
    Build,
    Diagnosis,
    Launch,
    Outcome,
    Rejected,
    Where,
    combined,
    compile_message,
    first_match,
    stamp,
    test_line,
)
from codistill.sandbox.languages.fusion import Assembled, Fusion, Reading, join
from codistill.sandbox.languages.text import (
    BRACE_PROMPT_RULE,
    Braces,
    Multiple,
    as_written,
    closing_brace_moved,
    join_preamble,
)
from codistill.sandbox.types import Program, Status

NAME = "rust"
ALIASES = ("rs",)
EXTENSIONS = (".rs",)
# How rustc's errors map to SODA's fault classes (see codistill.faults.observed_fault).
FAULT_CLASSES = ((r"cannot find (value|function|type|macro)|E0425|E0412|E0433", "name"),
                 (r"mismatched types|E0308|E0277", "type"),
                 (r"expected|unclosed delimiter|unexpected token", "syntax"))
# How models write it, and how prompts ask for it (stops: MultiPL-E's).
DISPLAY_NAME = "Rust"
FENCE = "rust"
FENCE_LABELS = frozenset({"rust", "rs"})
STOPS = ("\n}", "\n```")
CLOSER = "\n}\n"
CODE_START = re.compile(r"^(use |fn |pub |struct |enum |impl |mod |const |static )")
TEST_CONVENTION = ("Write a `fn main()` that calls the function in `assert_eq!(actual, expected);` "
                   "statements.")
DRAFT_PROMPT_RULE = BRACE_PROMPT_RULE
DRAFT_TESTS_RULE = TEST_CONVENTION
BRACES = Braces(r"\bfn\s+(\w+)", "todo!()", main=r"\bfn\s+main\s*\(")
assemble_answer = join_preamble
finish_completion = as_written
# Tests may return () or Result<(), E>; both become pass/fail (an Err is printed, as Rust does).
OUTCOME_TRAIT = """
trait CodistillOutcome { fn codistill_ok(self) -> bool; }
impl CodistillOutcome for () { fn codistill_ok(self) -> bool { true } }
impl<E: std::fmt::Debug> CodistillOutcome for Result<(), E> {
    fn codistill_ok(self) -> bool {
        match self { Ok(()) => true, Err(e) => { eprintln!("Error: {:?}", e); false } }
    }
}
"""
HARNESS = OUTCOME_TRAIT + """fn main() {
    if !codistill_tests_main().codistill_ok() { std::process::exit(1); }
    use std::io::{Read, Write};
    use std::os::unix::io::FromRawFd;
    let mut buffer = [0u8; 256];
    let n = unsafe { std::fs::File::from_raw_fd(3) }.read(&mut buffer).unwrap_or(0);
    let nonce = String::from_utf8_lossy(&buffer[..n]).trim().to_string();
    let line = format!("{} completed {{}}\\n", nonce);
    let _ = unsafe { std::fs::File::from_raw_fd(4) }.write_all(line.as_bytes());
}
"""
_MAIN = re.compile(r"\bfn\s+main\s*\(")


@functools.cache
def rustc() -> str | None:
    """The real rustc in its toolchain's sysroot (not rustup's proxy, which needs $HOME)."""
    # Not resolved: rustup's proxies are links to one binary that dispatches on its name.
    proxy = shutil.which("rustc") or shutil.which("rustc", path=str(Path.home() / ".cargo/bin"))
    if proxy is None:
        return None
    try:
        sysroot = subprocess.run([proxy, "--print", "sysroot"], capture_output=True, text=True,
                                 timeout=60, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    real = Path(sysroot) / "bin" / "rustc"
    return str(real) if real.is_file() else proxy


def missing() -> str | None:
    """What to install when rustc is absent."""
    return None if rustc() else "rustc (apt-get install rustc, or rustup)"


def mounts() -> list[str]:
    """The toolchain's sysroot (under ~/.rustup for rustup installs)."""
    compiler = rustc()
    return [str(Path(compiler).parent.parent)] if compiler else []


def toolchain_id() -> str:
    """rustc's identity."""
    return stamp(rustc())


def build(program: Program) -> Build:
    """rustc main.rs, with the harness main when there are tests."""
    text = combined(program)
    if program.tests:
        if "codistill" in program.source.lower():
            raise Rejected("the program uses a name reserved for the sandbox's harness "
                           "(codistill*)")
        source = _MAIN.sub("fn codistill_candidate_main(", program.source)
        text = source + "\n" + _MAIN.sub("fn codistill_tests_main(", program.tests) + HARNESS
    argv = [rustc() or "rustc", "--edition", "2021", "-C", "debuginfo=0", "-A", "warnings",
            "-o", "prog", "main.rs"]
    return Build(files={"main.rs": text}, argv=argv, env={"TMPDIR": "."})


def launch(program: Program, where: Where) -> Launch:
    """Run the binary."""
    return Launch(argv=[f"{where.artifacts}/prog"], harness=bool(program.tests),
                  env={"RUST_BACKTRACE": "0"})


RUNTIME = [
    (r"memory allocation of (\d+ bytes) failed", Status.MEMORY_EXCEEDED,
     "memory allocation of {} failed"),
    (r"thread '[^']*' has overflowed its stack", Status.RUNTIME_ERROR, "stack overflow"),
]


def diagnose(program: Program, outcome: Outcome) -> Diagnosis | None:
    """A panic in the tests is a failed test; one in the candidate is a crash."""
    fatal = first_match(RUNTIME, outcome.stderr)
    if fatal:
        fatal.error_type = "alloc" if fatal.status is Status.MEMORY_EXCEEDED else "stack overflow"
        return fatal
    new = re.search(r"panicked at [^\n]*?main\.rs:(\d+):\d+:\n(.*)", outcome.stderr)
    old = re.search(r"panicked at '(.*)', [^\n]*?main\.rs:(\d+)", outcome.stderr)
    if not (new or old):
        return None
    line, message = (int(new.group(1)), new.group(2)) if new else (int(old.group(2)),
                                                                   old.group(1))
    failed = test_line(program, line)
    status = Status.FAILED if failed else Status.RUNTIME_ERROR
    return Diagnosis(status, "panic", failed, f"panicked: {message.strip()}"[:2000])


ENVIRONMENT = [
    (pattern, Status.ENVIRONMENT_ERROR,
     "crate {} is not available in the sandbox (plain rustc, no third-party crates)")
    for pattern in (r"can't find crate for `(\w+)`", r"missing a crate named `(\w+)`",
                    r"maybe a missing crate `(\w+)`", r"unlinked crate `(\w+)`")
]


def diagnose_compile(program: Program, stderr: str) -> Diagnosis:
    """rustc's errors are the program's, except crates that are not installed."""
    found = first_match(ENVIRONMENT, stderr)
    if found:
        found.error_type = "missing_crate"
        return found
    code = re.search(r"error\[(E\d+)\]", stderr)
    return Diagnosis(Status.COMPILE_ERROR, code.group(1) if code else "rustc", None,
                     compile_message(stderr))


# ---------------------------------------------------------------------------------------------
# Answers as programs (codistill.extract), SandboxFusion and MultiPL-E


def defines(code: str, name: str) -> bool:
    """True when `code` defines a function `name`."""
    return re.search(rf"\bfn\s+{re.escape(name)}\s*[(<]", code) is not None


_FUSION_DONE = OUTCOME_TRAIT + """fn main() {
    if !codistill_tests_main().codistill_ok() { std::process::exit(1); }
    println!("MARKER");
}
"""


def _fusion_file(program: Program, marker: str | None) -> Assembled:
    """Source then tests, both mains renamed, and a main that runs the tests, then the marker."""
    source = _MAIN.sub("fn codistill_candidate_main(", program.source)
    tests = _MAIN.sub("fn codistill_tests_main(", program.tests or "")
    code, span = join([source], tests, [_FUSION_DONE.replace("MARKER", marker or "")])
    return code, span, marker


FUSION = Fusion(names=("rust",), compiled=True, assemble=_fusion_file,
                reading=Reading(r"memory allocation of \d+ bytes failed",
                                r"(panicked) at [^\n]*?:\d+:\d+:?\n?(.*)",
                                r"panicked at [^\n]*?(\S+\.rs):(\d+):\d+", assertion="^$",
                                kind="panic"))
# MultiPL-E's tests open by closing the function: that `}` ends the candidate instead
MULTIPLE = Multiple(names=("rs",), convert=closing_brace_moved)
