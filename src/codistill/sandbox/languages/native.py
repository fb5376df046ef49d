"""What C and C++ share: the exit-tracking harness, the build line and the diagnosis.

With tests, the program is linked with `-Wl,--wrap=exit`, so every call to exit() made by the
program's own code (the candidate's or the tests') goes through `__wrap_exit`, which marks the
run as ended early. An atexit handler, registered by a constructor before anything else, reports
success only when no such call happened, i.e. when `main` returned. Returning from main reaches
exit() from inside libc, which the wrap does not see. _exit, quick_exit, abort and signals skip
atexit handlers altogether. So tests must end by returning from main, not by calling exit(0).
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
    combined,
    compile_message,
    first_match,
    test_line,
)
from codistill.sandbox.types import Program, Status

HARNESS = r"""
#include <stdlib.h>
#include <unistd.h>
#ifdef __cplusplus
extern "C" {
#endif
void __real_exit(int status) __attribute__((noreturn));
static volatile int codistill_exited_early = 0;
void __wrap_exit(int status) { codistill_exited_early = 1; __real_exit(status); }
static void codistill_report(void) {
    char nonce[128];
    ssize_t n;
    if (codistill_exited_early) return;
    n = read(3, nonce, sizeof nonce);
    while (n > 0 && (nonce[n - 1] == '\n' || nonce[n - 1] == ' ')) n--;
    if (n <= 0) return;
    if (write(4, nonce, (size_t)n) < 0) return;
    if (write(4, " completed {}\n", 14) < 0) return;
}
__attribute__((constructor(101))) static void codistill_install(void) { atexit(codistill_report); }
#ifdef __cplusplus
}
#endif
"""
RESERVED = re.compile(r"__real_|__wrap_|codistill_")


def build(program: Program, compiler: str | None, suffix: str, flags: list[str]) -> Build:
    """One compiler call: program (source + tests) and, with tests, the harness."""
    if program.tests and RESERVED.search(program.source):
        raise Rejected("the program uses a name reserved for the sandbox's harness "
                       "(__real_*, __wrap_*, codistill_*)")
    files = {f"program.{suffix}": combined(program)}
    argv = [compiler or "cc", *flags, "-o", "prog", f"program.{suffix}"]
    if program.tests:
        files[f"codistill_harness.{suffix}"] = HARNESS
        argv += [f"codistill_harness.{suffix}", "-Wl,--wrap=exit"]
    return Build(files=files, argv=argv + ["-lm"], env={"TMPDIR": "."})


def launch(program: Program, where: Where) -> Launch:
    """The binary itself."""
    return Launch(argv=[f"{where.artifacts}/prog"], harness=bool(program.tests))


RUNTIME = [
    (r"std::bad_alloc", Status.MEMORY_EXCEEDED, "out of memory (std::bad_alloc)"),
    (r"terminate called after throwing an instance of '([^']+)'", Status.RUNTIME_ERROR,
     "uncaught exception {}"),
    (r"(stack smashing detected|double free|free\(\): invalid|malloc\(\): corrupted)",
     Status.RUNTIME_ERROR, "memory corruption: {}"),
]


def diagnose(program: Program, outcome: Outcome) -> Diagnosis | None:
    """assert() failures, C++ exceptions and memory exhaustion, from stderr."""
    found = re.search(r"program\.c(?:pp)?:(\d+): [^\n]*?Assertion [`'](.*)' failed", outcome.stderr)
    if found:
        failed = test_line(program, int(found.group(1)))
        # An assert in the tests is a failed test; one inside the candidate is its own crash.
        status = Status.FAILED if failed else Status.RUNTIME_ERROR
        return Diagnosis(status, "AssertionError", found.group(2) if failed else None,
                         f"assertion failed: {found.group(2)}")
    found = first_match(RUNTIME, outcome.stderr)
    if found:
        found.error_type = "bad_alloc" if found.status is Status.MEMORY_EXCEEDED else \
            (outcome.signal or "exception")
        return found
    return None


ENVIRONMENT = [
    (r"fatal error: ([\w./+-]+): No such file or directory", Status.ENVIRONMENT_ERROR,
     "header {} is not installed in the sandbox (no third-party libraries there)"),
    (r"cannot find -l(\w+)", Status.ENVIRONMENT_ERROR,
     "library {} is not installed in the sandbox"),
]


def diagnose_compile(program: Program, stderr: str) -> Diagnosis:
    """Compiler errors are the program's, except headers and libraries that are not installed."""
    found = re.search(r"#include\s*\"", program.source)
    env = first_match(ENVIRONMENT, stderr)
    if env and not found:
        env.error_type = "missing_dependency"
        return env
    return Diagnosis(Status.COMPILE_ERROR, "compile", None, compile_message(stderr))
