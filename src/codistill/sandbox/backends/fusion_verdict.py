"""A SandboxFusion /run_code answer as our Verdict, with the same order of precedence as verdicts.py.

What the server reports is an exit status and the output, so the statuses are read from them:
the compile step, time limits, the end-of-tests marker, then each language's stderr (memory
exhaustion, an assertion, where the exception was raised: in the tests is `failed`, in the
candidate `runtime_error`), then signals and exit statuses.
"""

from __future__ import annotations

import re
import signal as signals

from codistill.sandbox import languages
from codistill.sandbox.backends.fusion_request import Request
from codistill.sandbox.languages.base import Diagnosis
from codistill.sandbox.types import Program, Status, Verdict
from codistill.sandbox.verdicts import same_output

# frames in the runtime, the standard library or the sandbox's own runner, not the program
_EXTERNAL = re.compile(r"^node:|runner\.js$|/lib/python3|<frozen|/src/runtime/|/rustc/")
EARLY = "the program ended before the tests finished (exit status 0 without the end-of-tests marker)"


def to_verdict(request: Request, program: Program, answer: dict, url: str) -> Verdict:
    """Our verdict for SandboxFusion's `answer` to `request`."""
    compiled = answer.get("compile_result") or None
    ran = answer.get("run_result") or None
    compile_s = float((compiled or {}).get("execution_time") or 0.0)
    base = {"id": program.id, "compile_s": compile_s, "details": {"remote": url}}
    if answer.get("status") == "SandboxError" or "Error" in (_status(compiled), _status(ran)):
        reason = answer.get("message") or (ran or compiled or {}).get("stderr") or "no message"
        return Verdict(Status.SANDBOX_ERROR, **base,
                       message=f"SandboxFusion at {url} could not run it: {reason}"[:2000])
    if compiled is not None and _status(compiled) == "TimeLimitExceeded":
        return Verdict(Status.TIMEOUT, **base, error_type="CompileTimeout",
                       message=f"compiling took longer than {request.body['compile_timeout']:g} s")
    if compiled is not None and compiled.get("return_code") not in (0, None):
        text = ((compiled.get("stderr") or "") + "\n" + (compiled.get("stdout") or "")).strip()
        found = languages.get(request.language).diagnose_compile(program, text)
        return Verdict(found.status, **base, error_type=found.error_type, stderr=text,
                       message=found.message)
    if ran is None:
        return Verdict(Status.SANDBOX_ERROR, **base,
                       message=f"SandboxFusion at {url} answered without a run result "
                               f"(status {answer.get('status')!r})")
    stdout, stderr, done = _unmark(ran.get("stdout") or "", ran.get("stderr") or "",
                                   request.marker)
    code = ran.get("return_code")
    verdict = Verdict(Status.FAILED, **base, exit_code=code, stdout=stdout, stderr=stderr,
                      run_s=float(ran.get("execution_time") or 0.0))
    if _status(ran) == "TimeLimitExceeded":
        limit = request.body["run_timeout"]
        return _set(verdict, Diagnosis(Status.TIMEOUT, "Timeout", None,
                                       f"wall-clock limit of {limit:g} s reached"))
    return _set(verdict, _decide(request, program, code, stdout, stderr, done))


def _status(result: dict | None) -> str | None:
    return (result or {}).get("status")


def _set(verdict: Verdict, found: Diagnosis) -> Verdict:
    verdict.status, verdict.error_type = found.status, found.error_type
    verdict.failed_test, verdict.message = found.failed_test, found.message
    return verdict


def _unmark(stdout: str, stderr: str, marker: str | None) -> tuple[str, str, bool]:
    """Output without the marker line, and whether the marker was printed."""
    if marker is None:
        return stdout, stderr, True
    line = re.compile(rf"\n?{re.escape(marker)}\n?")
    done = marker in stdout or marker in stderr
    return line.sub("", stdout, count=1), line.sub("", stderr, count=1), done


def _decide(request: Request, program: Program, code: int | None, stdout: str, stderr: str,
            done: bool) -> Diagnosis:
    if code is None:
        return Diagnosis(Status.SANDBOX_ERROR, None, None, "SandboxFusion reported no exit status")
    if code == 0:
        if program.tests and not done:
            return Diagnosis(Status.FAILED, "EarlyExit", None, EARLY)
        if program.tests is None and program.expected_stdout is not None \
                and not same_output(stdout, program.expected_stdout):
            return Diagnosis(Status.FAILED, "WrongOutput", None,
                             "stdout differs from expected_stdout")
        return Diagnosis(Status.PASSED, None, None, "")
    found = _read_stderr(request, program, stderr)
    if found is not None:
        return found
    sig = _signal(code)
    if sig == "SIGXCPU":  # a CPU-time limit on the server's side
        return Diagnosis(Status.TIMEOUT, "Timeout", None, "killed by SIGXCPU (CPU-time limit)")
    if sig == "SIGXFSZ":
        return Diagnosis(Status.OUTPUT_EXCEEDED, "FileSizeLimit", None, "killed by SIGXFSZ")
    if sig:
        return Diagnosis(Status.RUNTIME_ERROR, sig, None, f"killed by {sig}")
    if program.tests:
        return Diagnosis(Status.FAILED, None, None, f"the tests exited with status {code}")
    return Diagnosis(Status.RUNTIME_ERROR, None, None, f"exit status {code}")


def _signal(code: int) -> str | None:
    """The signal that ended the run: -N from a direct child, 128+N through a shell."""
    number = -code if code < 0 else code - 128 if 128 < code < 160 else 0
    try:
        return signals.Signals(number).name if number else None
    except ValueError:
        return f"signal {number}"


def _read_stderr(request: Request, program: Program, stderr: str) -> Diagnosis | None:
    """The language's reading of a failed run: memory, syntax, missing modules, exceptions."""
    fusion = languages.get(request.language).FUSION
    reading = fusion.reading
    if re.search(reading.memory, stderr, re.MULTILINE):
        return Diagnosis(Status.MEMORY_EXCEEDED, "OutOfMemory", None, "ran out of memory")
    if reading.special is not None:
        found = reading.special(stderr)
        if found is not None:
            return found
    lines = [line for line in stderr.splitlines() if line.strip()]
    text = lines[-1] if reading.innermost_last and lines else stderr  # the error is printed last
    error = re.search(reading.error, text, re.MULTILINE)
    if error is None:
        return None
    kind = reading.kind or error.group(1).rsplit(".", 1)[-1]
    said = (error.group(2) or "").strip()
    message = f"{error.group(1)}: {said}".rstrip(": ")[:2000]
    frames = [int(n) for file, n in re.findall(reading.frame, stderr, re.MULTILINE)
              if not _EXTERNAL.search(file)]
    line = (frames[-1] if reading.innermost_last else frames[0]) if frames else None
    if kind == "SyntaxError" and reading.unloadable_syntax and line is None:
        return Diagnosis(Status.COMPILE_ERROR, kind, None, message)  # node could not load it
    start, end = request.tests or (0, -1)
    in_tests = line is not None and start <= line <= end
    failed = _line(program.tests or "", line - start + 1) if in_tests and line else None
    asserted = re.fullmatch(reading.assertion, error.group(1)) is not None
    if program.tests and (in_tests or (line is None and asserted)):
        return Diagnosis(Status.FAILED, kind, (said if reading.tell else None) or failed or
                         message, message)
    return Diagnosis(Status.RUNTIME_ERROR, kind, None, message)


def _line(code: str, number: int | None) -> str | None:
    lines = code.splitlines()
    return lines[number - 1].strip() if number and 0 < number <= len(lines) else None


