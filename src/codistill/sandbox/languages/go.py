"""Go: the source as solution.go and the tests as tests.go, both package main, built together.

With tests, the tests' `func main()` becomes `codistillTestsMain` and a harness `main` calls it
and then reports; a `main` the candidate wrote becomes `codistillCandidateMain` (unused, which
Go allows for functions). os.Exit inside the candidate therefore never reaches the report.
Builds share one Go build cache (written only by the compiler, never by programs).
"""

from __future__ import annotations

import re

from codistill.sandbox.languages.base import (
    Build,
    Diagnosis,
    Launch,
    Outcome,
    Rejected,
    Where,
    compile_message,
    first_match,
    line_of,
    stamp,
    tool,
)
from codistill.sandbox.types import Program, Status

NAME = "go"
EXTENSIONS = (".go",)
# How the Go compiler's errors map to SODA's fault classes (codistill.faults.observed_fault).
FAULT_CLASSES = ((r"undefined: ", "name"),
                 (r"cannot use|mismatched types|invalid operation", "type"),
                 (r"syntax error", "syntax"))
GO_HEADROOM_MB = 768  # the Go runtime reserves ~700 MB of address space at start
HARNESS = """package main

import "os"

func main() {
	codistillTestsMain()
	buffer := make([]byte, 256)
	n, _ := os.NewFile(3, "nonce").Read(buffer)
	nonce := string(buffer[:n])
	for len(nonce) > 0 && (nonce[len(nonce)-1] == '\\n' || nonce[len(nonce)-1] == ' ') {
		nonce = nonce[:len(nonce)-1]
	}
	os.NewFile(4, "report").Write([]byte(nonce + " completed {}\\n"))
}
"""
_MAIN = re.compile(r"^func\s+main\s*\(\s*\)", re.MULTILINE)
_PACKAGE = re.compile(r"^\s*package\s+\w+", re.MULTILINE)


def go() -> str | None:
    """The go command, resolved."""
    return tool("go")


def missing() -> str | None:
    """What to install when Go is absent."""
    return None if go() else "Go (apt-get install golang-go)"


def mounts() -> list[str]:
    """GOROOT lives under /usr/lib/go-*."""
    return []


def toolchain_id() -> str:
    """The go command's identity."""
    return stamp(go())


def as_main_package(text: str) -> str:
    """`text` as package main (a missing or different package clause is replaced)."""
    if _PACKAGE.search(text):
        return _PACKAGE.sub("package main", text, count=1)
    return "package main\n" + text


def build(program: Program) -> Build:
    """go build -o prog solution.go [tests.go codistill_harness.go] (no -trimpath: it rebuilds std)."""
    source = as_main_package(program.source)
    files = {"solution.go": source}
    if program.tests:
        if "codistill" in program.source.lower():
            raise Rejected("the program uses a name reserved for the sandbox's harness "
                           "(codistill*)")
        files["solution.go"] = _MAIN.sub("func codistillCandidateMain()", source)
        files["tests.go"] = _MAIN.sub("func codistillTestsMain()", as_main_package(program.tests))
        files["codistill_harness.go"] = HARNESS
    env = {"GOPATH": "/tmp/gopath", "GOFLAGS": "-buildvcs=false", "GO111MODULE": "off",
           "CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOTELEMETRY": "off", "HOME": "/tmp"}
    return Build(files=files, argv=[go() or "go", "build", "-o", "prog", *files],
                 env=env, go_cache=True)


def launch(program: Program, where: Where) -> Launch:
    """Run the binary; GOMEMLIMIT makes the collector work to stay under the memory limit."""
    return Launch(argv=[f"{where.artifacts}/prog"], harness=bool(program.tests),
                  address_space_mb=where.limits.memory_mb + GO_HEADROOM_MB,
                  env={"GOMEMLIMIT": f"{where.limits.memory_mb}MiB", "GOTRACEBACK": "single"})


RUNTIME = [
    (r"(?:fatal error: )?runtime: out of memory|out of memory allocating", Status.MEMORY_EXCEEDED,
     "out of memory"),
    (r"goroutine stack exceeds", Status.RUNTIME_ERROR, "stack overflow"),
    (r"fatal error: (all goroutines are asleep - deadlock!)", Status.RUNTIME_ERROR, "{}"),
    (r"fatal error: (.*)", Status.RUNTIME_ERROR, "fatal error: {}"),
]


def diagnose(program: Program, outcome: Outcome) -> Diagnosis | None:
    """A panic raised in tests.go is a failed test; one raised in solution.go is a crash."""
    fatal = first_match(RUNTIME, outcome.stderr)
    if fatal:
        fatal.error_type = "out of memory" if fatal.status is Status.MEMORY_EXCEEDED else "fatal"
        return fatal
    found = re.search(r"^panic: (.*)", outcome.stderr, re.MULTILINE)
    if not found:
        return None
    message = found.group(1).strip()
    frames = re.findall(r"^\s+\S*?(solution|tests)\.go:(\d+)", outcome.stderr, re.MULTILINE)
    in_tests = bool(frames) and frames[0][0] == "tests"
    error_type = "runtime error" if message.startswith("runtime error") else "panic"
    if program.tests and in_tests:
        failed = line_of(program.tests, int(frames[0][1]) - _offset(program))
        return Diagnosis(Status.FAILED, error_type, message or failed, f"panic: {message}")
    return Diagnosis(Status.RUNTIME_ERROR, error_type, None, f"panic: {message}")


def _offset(program: Program) -> int:
    """Lines added in front of the tests by `as_main_package`."""
    return 0 if _PACKAGE.search(program.tests or "") else 1


ENVIRONMENT = [
    (r"(?:cannot find package|package) \"?([\w./-]+\.[\w./-]+)\"? (?:is not in (?:GOROOT|std)|"
     r"in any of)", Status.ENVIRONMENT_ERROR,
     "package {} is not available in the sandbox (no third-party modules there)"),
    (r"no required module provides package ([\w./-]+)", Status.ENVIRONMENT_ERROR,
     "package {} is not available in the sandbox (no third-party modules there)"),
]


def diagnose_compile(program: Program, stderr: str) -> Diagnosis:
    """Compile errors are the program's, except third-party packages."""
    found = first_match(ENVIRONMENT, stderr)
    if found:
        found.error_type = "missing_package"
        return found
    return Diagnosis(Status.COMPILE_ERROR, "go build", None, compile_message(stderr))
