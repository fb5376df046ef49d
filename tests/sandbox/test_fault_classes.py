"""Observed fault classes from real verdicts: each language module's diagnostics map to SODA's
taxonomy (name, type, syntax; logic = a failed test; timeout), and what fits none is "other"."""

from __future__ import annotations

import pytest
from tests.sandbox.sandbox_helpers import run_cases
from tests.sandbox.test_sandbox_languages import (
    C_TESTS,
    CPP_TESTS,
    GO_TESTS,
    JAVA_TESTS,
    RUST_TESTS,
)

from codistill.faults import observed_fault
from codistill.sandbox import Limits, Program

PY_TESTS = "def check(candidate):\n    assert candidate(1) == 2\n"
JS_TESTS = "const assert = require('assert');\nassert.deepStrictEqual(f(1), 2);\n"
TS_TESTS = "if (f(1) !== 2) { throw new Error('f(1) != 2'); }\n"


def java(body: str) -> str:
    return "public class Solution {\n    public static int f(int x) {\n        " + body + "\n    }\n}\n"


CASES = {
    # key: (program, observed class)
    "python-name": (Program("python", "def f(x):\n    return y + 1\n", PY_TESTS, entry_point="f"), "name"),
    "python-type": (Program("python", "def f(x):\n    return 'a' + x\n", PY_TESTS, entry_point="f"), "type"),
    "python-syntax": (Program("python", "def f(x)\n    return x\n", PY_TESTS, entry_point="f"), "syntax"),
    "python-logic": (Program("python", "def f(x):\n    return x\n", PY_TESTS, entry_point="f"), "logic"),
    "python-other": (Program("python", "def f(x):\n    return [][x]\n", PY_TESTS, entry_point="f"), "other"),
    "python-timeout": (Program("python", "def f(x):\n    while True:\n        pass\n", PY_TESTS,
                               entry_point="f"), "timeout"),
    "javascript-name": (Program("javascript", "function f(x) { return y + 1; }", JS_TESTS), "name"),
    "javascript-type": (Program("javascript", "function f(x) { return null.a; }", JS_TESTS), "type"),
    "javascript-syntax": (Program("javascript", "function f(x) { return x + ; }", JS_TESTS), "syntax"),
    "typescript-name": (Program("typescript", "function f(x: number): number { return y + 1; }",
                                TS_TESTS), "name"),
    "typescript-type": (Program("typescript", 'function f(x: number): number { return "a"; }',
                                TS_TESTS), "type"),
    "java-name": (Program("java", java("return y + 1;"), JAVA_TESTS), "name"),
    "java-type": (Program("java", java('return "a";'), JAVA_TESTS), "type"),
    "java-syntax": (Program("java", java("return x +;"), JAVA_TESTS), "syntax"),
    "c-name": (Program("c", "int f(int x) { return y + 1; }\n", C_TESTS), "name"),
    "c-syntax": (Program("c", "int f(int x) { return x + ; }\n", C_TESTS), "syntax"),
    "cpp-name": (Program("cpp", "int f(int x) { return y + 1; }\n", CPP_TESTS), "name"),
    "cpp-type": (Program("cpp", '#include <string>\nint f(int x) { std::string s = x; return 1; }\n',
                         CPP_TESTS), "type"),
    "go-name": (Program("go", "func f(x int) int { return y + 1 }\n", GO_TESTS), "name"),
    "go-type": (Program("go", 'func f(x int) int { return "a" }\n', GO_TESTS), "type"),
    "go-syntax": (Program("go", "func f(x int) int { return x + }\n", GO_TESTS), "syntax"),
    "rust-name": (Program("rust", "fn f(x: i32) -> i32 { y + 1 }\n", RUST_TESTS), "name"),
    "rust-type": (Program("rust", 'fn f(x: i32) -> i32 { "a" }\n', RUST_TESTS), "type"),
    "rust-syntax": (Program("rust", "fn f(x: i32) -> i32 { x + }\n", RUST_TESTS), "syntax"),
}


@pytest.fixture(scope="module")
def verdicts() -> dict:
    return run_cases({key: (case[0],) for key, case in CASES.items()}, Limits(timeout_s=3.0))


@pytest.mark.parametrize("key", list(CASES))
def test_each_language_maps_its_diagnostics_to_the_taxonomy(key: str, verdicts: dict) -> None:
    if key not in verdicts:
        pytest.skip(f"no {CASES[key][0].language} toolchain here")
    verdict, (program, expected) = verdicts[key], CASES[key]
    got = observed_fault(verdict.status.value, verdict.error_type, verdict.message, program.language)
    assert got == expected, (verdict.status, verdict.error_type, verdict.message)


def test_no_fault_for_a_pass_or_an_environment_problem() -> None:
    assert observed_fault("passed", None, "", "python") == ""
    assert observed_fault("environment_error", "ModuleNotFoundError", "no numpyy", "python") == ""
    assert observed_fault("memory_exceeded", None, "", "c") == "other"
