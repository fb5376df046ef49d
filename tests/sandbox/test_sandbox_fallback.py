"""Without namespaces: weaker isolation, still correct verdicts, a loud warning, no orphans.

Forced with Limits(isolation="none") or $CODISTILL_SANDBOX_ISOLATION=none; "auto" falls back
where bubblewrap is missing or refused (simulated here) only when the user opted in with
$CODISTILL_SANDBOX_ALLOW_UNISOLATED=1 or Limits(allow_unisolated=True): without that it refuses
(test_sandbox_view.py).
"""

from __future__ import annotations

import logging
import time
import uuid

import pytest
from tests.sandbox.sandbox_helpers import host_processes_with, need, py

from codistill.sandbox import Limits, Program, Status, execute, isolation

NONE = Limits(timeout_s=2.0, isolation="none")
CHECK = "def check(candidate):\n    assert candidate(1) == 2\n"


@pytest.fixture
def fresh_warning() -> None:
    """Let the one-time warning fire again."""
    isolation._warned.clear()


def test_warns_once_and_says_what_is_lost(fresh_warning: None,
                                          caplog: pytest.LogCaptureFixture) -> None:
    """The first unisolated run logs a warning naming what is lost; later ones stay quiet."""
    with caplog.at_level(logging.WARNING, logger="codistill.sandbox"):
        execute(py("print(1)"), NONE)
        execute(py("print(2)"), NONE)
    warnings = [r for r in caplog.records if "WITHOUT NAMESPACE ISOLATION" in r.getMessage()]
    assert len(warnings) == 1
    assert "no network isolation" in warnings[0].getMessage()
    assert "home directory" in warnings[0].getMessage()


def test_verdicts_are_the_same(fresh_warning: None) -> None:
    """Pass and fail are judged exactly as with namespaces."""
    good = execute(Program("python", "def f(x):\n    return x + 1\n", CHECK, "f"), NONE)
    bad = execute(Program("python", "def f(x):\n    return x\n", CHECK, "f"), NONE)
    assert good.status is Status.PASSED and good.details["isolation"] == "none"
    assert good.unisolated and bad.unisolated
    assert bad.status is Status.FAILED and bad.failed_test == "assert candidate(1) == 2"


def test_compiled_languages_work(fresh_warning: None) -> None:
    """Compile and run without bubblewrap too."""
    need("c")
    tests = "#include <assert.h>\nint main(void) { assert(f(1) == 2); return 0; }\n"
    assert execute(Program("c", "int f(int x) { return x + 1; }\n", tests), NONE).passed
    early = execute(Program("c", "#include <stdlib.h>\nint f(int x) { exit(0); }\n", tests), NONE)
    assert early.status is Status.FAILED


def test_early_exit_still_fails(fresh_warning: None) -> None:
    """The success signal does not depend on namespaces."""
    verdict = execute(Program("python", "import os\ndef f(x):\n    os._exit(0)\n", CHECK, "f"),
                      NONE)
    assert verdict.status is Status.FAILED


def test_timeout_kills_the_whole_tree(fresh_warning: None) -> None:
    """A daemon that left the run's session is found and killed anyway."""
    token = f"1000.{uuid.uuid4().int % 10 ** 9}"
    verdict = execute(py("import os, time\nif os.fork() == 0:\n    os.setsid()\n"
                         "    if os.fork() == 0:\n"
                         f"        os.execv('/bin/sleep', ['sleep', '{token}'])\n"
                         "    os._exit(0)\ntime.sleep(60)\n"), NONE)
    assert verdict.status is Status.TIMEOUT
    time.sleep(0.2)
    assert host_processes_with(token) == []


def test_environment_is_scrubbed(fresh_warning: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets in our environment are not passed on."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fallback-secret")
    verdict = execute(py("import os\nprint(dict(os.environ))\n"), NONE)
    assert verdict.passed and "sk-fallback-secret" not in verdict.stdout


def test_memory_and_output_limits_hold(fresh_warning: None) -> None:
    """rlimits and output caps need no namespaces."""
    memory = execute(py("x = bytearray(3 * 2 ** 30)\n"), Limits(memory_mb=256, isolation="none"))
    flood = execute(py("while True:\n    print('y' * 100)\n"),
                    Limits(max_output_bytes=5000, isolation="none"))
    assert memory.status is Status.MEMORY_EXCEEDED
    assert flood.status is Status.OUTPUT_EXCEEDED


def test_environment_variable_forces_the_fallback(fresh_warning: None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """$CODISTILL_SANDBOX_ISOLATION=none applies when Limits leaves it on auto."""
    monkeypatch.setenv("CODISTILL_SANDBOX_ISOLATION", "none")
    assert execute(py("print(1)"), Limits()).details["isolation"] == "none"


def test_auto_falls_back_when_allowed_and_namespaces_are_refused(
        fresh_warning: None, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """On a kernel that refuses namespaces, auto mode with the opt-in runs and warns why."""
    monkeypatch.setattr(isolation, "namespaces_problem", lambda: "bwrap: No permissions")
    monkeypatch.setenv(isolation.ENV_ALLOW, "1")
    with caplog.at_level(logging.WARNING, logger="codistill.sandbox"):
        verdict = execute(py("print(1)"), Limits(isolation="auto"))
    assert verdict.passed and verdict.details["isolation"] == "none" and verdict.unisolated
    assert "bwrap: No permissions" in caplog.text


def test_demanding_namespaces_without_them_is_an_environment_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """isolation='namespaces' never silently degrades."""
    monkeypatch.setattr(isolation, "namespaces_problem", lambda: "bubblewrap is not installed")
    verdict = execute(py("print(1)"), Limits(isolation="namespaces"))
    assert verdict.status is Status.ENVIRONMENT_ERROR and "bubblewrap" in verdict.message


def test_a_bad_isolation_value_is_refused() -> None:
    """A typo in the isolation mode names the choices."""
    with pytest.raises(ValueError, match="isolation must be one of"):
        execute(py("print(1)"), Limits(isolation="sandboxed"))
