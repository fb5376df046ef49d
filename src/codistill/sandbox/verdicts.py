"""From what the supervisor saw to a Verdict: one order of precedence for every language.

Sandbox faults, then output floods, then time limits, then success (which needs the harness's
signed report when there are tests, and exit status 0), then the language's own reading of the
failure, then generic rules for signals and exit statuses.
"""

from __future__ import annotations

import json
import math

from codistill.sandbox.languages.base import Diagnosis, Outcome, signal_name
from codistill.sandbox.types import Limits, Program, Status, Verdict

EARLY_EXIT = ("the program ended before the tests finished (it exited without the harness's "
              "success signal: os._exit, sys.exit, exit(), System.exit, process.exit, "
              "os.Exit or std::process::exit)")


def outcome_of(raw: dict, tests_mode: bool) -> Outcome:
    """The supervisor's JSON result as an Outcome."""
    code = raw.get("exit")
    report = raw.get("report")
    parsed = None
    if report:
        try:
            details = json.loads(report[1]) if report[1] else {}
        except ValueError:
            details = {}
        parsed = (report[0], details if isinstance(details, dict) else {})
    return Outcome(exit_code=code if code is None or code >= 0 else None,
                   signal=signal_name(code), stdout=raw.get("stdout", ""),
                   stderr=raw.get("stderr", ""), report=parsed,
                   timed_out=bool(raw.get("timed_out")), output_exceeded=raw.get("output_exceeded"),
                   wall_s=float(raw.get("wall", 0.0)), cpu_s=float(raw.get("cpu", 0.0)),
                   tests_mode=tests_mode)


def cpu_limit(limits: Limits) -> int:
    """RLIMIT_CPU in whole seconds: cpu_time_s, or the wall-clock limit plus one second."""
    return max(1, math.ceil(limits.cpu_time_s if limits.cpu_time_s is not None
                            else limits.timeout_s + 1))


def same_output(actual: str, expected: str) -> bool:
    """Equal up to trailing whitespace on each line and trailing blank lines."""
    def norm(text: str) -> list[str]:
        lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
        while lines and not lines[-1]:
            lines.pop()
        return lines
    return norm(actual) == norm(expected)


def judge(program: Program, language, raw: dict, limits: Limits) -> Verdict:  # noqa: ANN001
    """The verdict for one finished run."""
    outcome = outcome_of(raw, bool(program.tests))
    verdict = Verdict(status=Status.FAILED, exit_code=outcome.exit_code, stdout=outcome.stdout,
                      stderr=outcome.stderr, run_s=outcome.wall_s, id=program.id,
                      details={"cpu_s": round(outcome.cpu_s, 4),
                               "stdout_bytes": raw.get("stdout_bytes", 0),
                               "stderr_bytes": raw.get("stderr_bytes", 0)})
    if outcome.signal:
        verdict.details["signal"] = outcome.signal
    if raw.get("forged_reports"):
        verdict.details["forged_reports"] = raw["forged_reports"]
    diagnosis = _decide(program, language, outcome, limits)
    verdict.status = diagnosis.status
    verdict.error_type = diagnosis.error_type
    verdict.failed_test = diagnosis.failed_test
    verdict.message = diagnosis.message
    return verdict


def _decide(program: Program, language, outcome: Outcome, limits: Limits) -> Diagnosis:  # noqa: ANN001
    if outcome.output_exceeded:
        return Diagnosis(Status.OUTPUT_EXCEEDED, "OutputLimit", None,
                         f"{outcome.output_exceeded} went past {limits.max_output_bytes} bytes")
    if outcome.timed_out:
        return Diagnosis(Status.TIMEOUT, "Timeout", None,
                         f"wall-clock limit of {limits.timeout_s:g} s reached")
    cpu = cpu_limit(limits)
    if outcome.signal == "SIGXCPU" or (outcome.signal == "SIGKILL" and outcome.cpu_s >= cpu):
        return Diagnosis(Status.TIMEOUT, "CpuLimit", None, f"CPU-time limit of {cpu} s reached")
    if _completed(program, outcome):
        if program.expected_stdout is not None and not same_output(outcome.stdout,
                                                                   program.expected_stdout):
            return Diagnosis(Status.FAILED, "WrongOutput", None,
                             "stdout differs from the expected output")
        return Diagnosis(Status.PASSED, None, None,
                         "all tests passed" if program.tests else "ran to completion")
    found = language.diagnose(program, outcome)
    if found is not None:
        return found
    return _generic(program, outcome)


def _completed(program: Program, outcome: Outcome) -> bool:
    if outcome.exit_code != 0:
        return False
    if program.tests:
        return outcome.report is not None and outcome.report[0] in ("passed", "completed")
    return outcome.report is None or outcome.report[0] == "completed"


def _generic(program: Program, outcome: Outcome) -> Diagnosis:
    if outcome.signal == "SIGXFSZ":
        return Diagnosis(Status.OUTPUT_EXCEEDED, "FileSizeLimit", None,
                         "wrote a file past the file-size limit")
    if outcome.signal:
        return Diagnosis(Status.RUNTIME_ERROR, outcome.signal, None,
                         f"killed by {outcome.signal}")
    if program.tests and outcome.exit_code == 0:
        return Diagnosis(Status.FAILED, "EarlyExit", None, EARLY_EXIT)
    if program.tests:
        return Diagnosis(Status.FAILED, "ExitStatus", None,
                         f"the tests ended with exit status {outcome.exit_code}")
    return Diagnosis(Status.RUNTIME_ERROR, "ExitStatus", None,
                     f"exit status {outcome.exit_code}")
