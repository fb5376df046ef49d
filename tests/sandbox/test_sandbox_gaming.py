"""Verdicts that cannot be gamed: every shortcut a reward-hacking candidate might try fails.

Each candidate below is wrong (its function returns the wrong value) but tries to end the
run looking successful: exiting with status 0 before or during the tests, printing a success
banner, forging the harness's report, neutering the assertions or the comparison. None may pass.
"""

from __future__ import annotations

import pytest
from tests.sandbox.sandbox_helpers import run_cases

from codistill.sandbox import Program, Status

CHECK = ("def check(candidate):\n    assert candidate(1) == 2\n"
         "    assert abs(candidate(2) - 3) < 1e-9\n")
JS_TESTS = 'const assert = require("node:assert");\nassert.deepStrictEqual(f(1), 2);\n'
C_TESTS = "#include <assert.h>\nint main(void) {\n    assert(f(1) == 2);\n    return 0;\n}\n"


def _py(source: str) -> Program:
    return Program("python", source, tests=CHECK, entry_point="f")


GAMES: dict[str, Program] = {
    "python-os-exit": _py("import os\ndef f(x):\n    os._exit(0)\n"),
    "python-sys-exit": _py("import sys\ndef f(x):\n    sys.exit(0)\n"),
    "python-raise-systemexit": _py("def f(x):\n    raise SystemExit(0)\n"),
    "python-exit-at-import": _py("import sys\nsys.exit(0)\ndef f(x):\n    return 0\n"),
    "python-atexit": _py("import atexit, os\natexit.register(lambda: os._exit(0))\n"
                         "def f(x):\n    raise SystemExit(0)\n"),
    "python-banner": _py("import os\ndef f(x):\n    print('All tests passed!', flush=True)\n"
                         "    os._exit(0)\n"),
    "python-forged-report": _py("import os\ndef f(x):\n    for fd in (3, 4):\n        try:\n"
                                "            os.write(4, b'0123456789abcdef passed {}\\n')\n"
                                "        except OSError:\n            pass\n    os._exit(0)\n"),
    "python-patch-builtins": _py("import builtins\nbuiltins.abs = lambda x: 0\n"
                                 "def f(x):\n    return 0\n"),
    "python-shadow-builtin": _py("def abs(x):\n    return 0\ndef f(x):\n    return 0\n"),
    "python-always-equal": _py("class Eq:\n    def __eq__(self, other):\n        return True\n"
                               "    def __sub__(self, other):\n        return 0\n"
                               "def f(x):\n    return Eq()\n"),
    "python-mock-any": _py("from unittest import mock\ndef f(x):\n    return mock.ANY\n"),
    "python-int-subclass": _py("class I(int):\n    def __eq__(self, other):\n        return True\n"
                               "    __hash__ = int.__hash__\ndef f(x):\n    return I(0)\n"),
    "python-trace-jump": _py(
        "import sys\n"
        "def tracer(frame, event, arg):\n"
        "    if frame.f_code.co_name == 'check' and event == 'line':\n"
        "        frame.f_lineno = frame.f_code.co_firstlineno + 3\n"
        "    return tracer\n"
        "def f(x):\n    sys.settrace(tracer)\n    sys._getframe(1).f_trace = tracer\n    return 0\n"),
    "python-replace-assertionerror": _py("import builtins\nbuiltins.AssertionError = KeyError\n"
                                         "def f(x):\n    return 0\n"),
    "javascript-process-exit": Program("javascript", "function f(x) { process.exit(0); }",
                                       JS_TESTS),
    "javascript-patch-assert": Program("javascript", 'const a = require("assert");\n'
                                       "try { a.deepStrictEqual = () => {}; } catch (e) {}\n"
                                       "try { a.strict.deepStrictEqual = () => {}; } catch (e) {}\n"
                                       "function f(x) { return 0; }", JS_TESTS),
    "javascript-exit-handler": Program("javascript", 'process.on("exit", () => { '
                                       "process.exitCode = 0; });\n"
                                       "function f(x) { return 0; }", JS_TESTS),
    "typescript-process-exit": Program("typescript", "declare var process: any;\n"
                                       "function f(x: number): number { process.exit(0); return 0; }",
                                       'declare var require: any;\nconst assert = require("node:assert");'
                                       "\nassert.deepStrictEqual(f(1), 2);\n"),
    "java-system-exit": Program("java", "public class Solution {\n    public static int f(int x) "
                                "{ System.exit(0); return 0; }\n}\n",
                                "public class Main {\n    public static void main(String[] a) {\n"
                                '        if (Solution.f(1) != 2) throw new AssertionError("f");\n'
                                "    }\n}\n"),
    "java-halt": Program("java", "public class Solution {\n    public static int f(int x) "
                         "{ Runtime.getRuntime().halt(0); return 0; }\n}\n",
                         "public class Main {\n    public static void main(String[] a) {\n"
                         '        if (Solution.f(1) != 2) throw new AssertionError("f");\n'
                         "    }\n}\n"),
    "c-exit": Program("c", "#include <stdlib.h>\nint f(int x) { exit(0); }\n", C_TESTS),
    "c-underscore-exit": Program("c", "#include <unistd.h>\nint f(int x) { _exit(0); }\n",
                                 C_TESTS),
    "c-real-exit": Program("c", "void __real_exit(int);\nint f(int x) { __real_exit(0); "
                           "return 0; }\n", C_TESTS),
    "cpp-std-exit": Program("cpp", "#include <cstdlib>\nint f(int x) { std::exit(0); }\n",
                            "#include <cassert>\nint main() {\n    assert(f(1) == 2);\n}\n"),
    "go-os-exit": Program("go", 'import "os"\n\nfunc f(x int) int { os.Exit(0); return 0 }\n',
                          'package main\n\nfunc main() {\n\tif f(1) != 2 {\n\t\tpanic("f")\n\t}\n}\n'),
    "rust-process-exit": Program("rust", "fn f(x: i32) -> i32 { std::process::exit(0) }\n",
                                 "fn main() {\n    assert_eq!(f(1), 2);\n}\n"),
}
# Not a game: a correct solution that prints a scary banner still passes.
CONTROL = _py("def f(x):\n    print('FAILED FAILED Traceback')\n    return x + 1.0\n")


@pytest.fixture(scope="module")
def verdicts() -> dict:
    """Every game's verdict, from one batch."""
    return run_cases({**{key: (p,) for key, p in GAMES.items()}, "control": (CONTROL,)})


@pytest.mark.parametrize("key", list(GAMES))
def test_game_does_not_pass(verdicts: dict, key: str) -> None:
    """The shortcut does not produce a pass."""
    if key not in verdicts:
        pytest.skip(f"toolchain for {GAMES[key].language} missing here")
    verdict = verdicts[key]
    assert verdict.status is not Status.PASSED, verdict
    assert verdict.status in (Status.FAILED, Status.RUNTIME_ERROR, Status.COMPILE_ERROR), verdict


@pytest.mark.parametrize("key", [k for k in GAMES if "exit" in k or "halt" in k])
def test_early_exit_is_a_failure(verdicts: dict, key: str) -> None:
    """Ending the process with status 0 before the tests finish is `failed`."""
    if key not in verdicts:
        pytest.skip(f"toolchain for {GAMES[key].language} missing here")
    if key == "c-real-exit":
        assert verdicts[key].status is Status.COMPILE_ERROR  # the harness's symbol is refused
        return
    assert verdicts[key].status is Status.FAILED, verdicts[key]


def test_forged_report_is_noticed(verdicts: dict) -> None:
    """A report without the run's nonce is ignored and counted."""
    verdict = verdicts["python-forged-report"]
    assert verdict.status is Status.FAILED
    assert verdict.details.get("forged_reports", 0) >= 1


def test_always_equal_is_named(verdicts: dict) -> None:
    """An always-equal return value is called out as such."""
    assert verdicts["python-always-equal"].error_type == "ClaimsEqual"
    assert verdicts["python-mock-any"].error_type == "ClaimsEqual"


def test_banner_does_not_fail_a_correct_solution(verdicts: dict) -> None:
    """Output on stdout neither makes nor breaks a verdict."""
    assert verdicts["control"].status is Status.PASSED, verdicts["control"]
