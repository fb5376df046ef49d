"""Each language: passes, fails, compile errors, runtime errors, timeouts, environment errors.

All cases run as one concurrent batch (compiles are the slow part); each test then checks one
case's verdict.
"""

from __future__ import annotations

import pytest
from tests.sandbox.sandbox_helpers import run_cases

from codistill.sandbox import Program, Status

P, F, C, T, R, E = (Status.PASSED, Status.FAILED, Status.COMPILE_ERROR, Status.TIMEOUT,
                    Status.RUNTIME_ERROR, Status.ENVIRONMENT_ERROR)

PY_TESTS = "def check(candidate):\n    assert candidate(1) == 2\n    assert candidate(5) == 6\n"
JS_TESTS = 'const assert = require("node:assert");\nassert.deepStrictEqual(f(1), 2);\n'
TS_TESTS = 'declare var require: any;\nconst assert = require("node:assert");\n' \
           "assert.deepStrictEqual(f(1), 2);\n"
JAVA_TESTS = ("public class Main {\n    public static void main(String[] a) {\n"
              '        if (Solution.f(1) != 2) throw new AssertionError("f(1) != 2");\n    }\n}\n')
C_TESTS = "#include <assert.h>\nint main(void) {\n    assert(f(1) == 2);\n    return 0;\n}\n"
CPP_TESTS = "#include <cassert>\nint main() {\n    assert(f(1) == 2);\n}\n"
GO_TESTS = 'package main\n\nfunc main() {\n\tif f(1) != 2 {\n\t\tpanic("f(1) != 2")\n\t}\n}\n'
RUST_TESTS = "fn main() {\n    assert_eq!(f(1), 2);\n}\n"


def _py(source: str, tests: str | None = PY_TESTS, **kw: object) -> Program:
    return Program("python", source, tests=tests, entry_point="f" if tests == PY_TESTS else None,
                   **kw)


CASES: dict[str, tuple[Program, Status, str | None]] = {
    # (program, expected status, a text the failed_test or message must contain)
    "python-pass": (_py("def f(x):\n    return x + 1\n"), P, None),
    "python-fail": (_py("def f(x):\n    return 2\n"), F, "assert candidate(5) == 6"),
    "python-compile": (_py("def f(x)\n    return x\n"), C, "SyntaxError"),
    "python-runtime": (_py("def f(x):\n    return x / 0\n"), R, "ZeroDivisionError"),
    "python-timeout": (_py("def f(x):\n    while True:\n        pass\n"), T, None),
    "python-asserts": (_py("def f(x):\n    return x + 1\n", "assert f(1) == 2\n"), P, None),
    "python-stdio": (_py("print(int(input()) * 2)", None, stdin="21\n", expected_stdout="42\n"),
                     P, None),
    "python-stdio-wrong": (_py("print(int(input()) * 3)", None, stdin="21\n",
                               expected_stdout="42"), F, "expected output"),
    "python-script-exit": (_py("import sys\nsys.exit(3)\n", None), R, "status 3"),
    "python-exit-builtin": (_py("print('done')\nexit()\nprint('not reached')\n", None,
                                expected_stdout="done\n"), P, None),
    "python-third-party": (_py("import numpyy_is_not_installed\ndef f(x):\n    return x\n"), E,
                           "numpyy_is_not_installed"),
    "python-stdlib-typo": (_py("import maths\ndef f(x):\n    return x\n"), R, "math"),
    "python-fake-module-error": (_py("def f(x):\n    raise ModuleNotFoundError('x', name='pandas')\n"),
                                 R, "itself"),
    "python-no-entry": (_py("def g(x):\n    return x + 1\n"), R, "entry point"),
    "javascript-pass": (Program("javascript", "function f(x) { return x + 1; }", JS_TESTS), P, None),
    "javascript-fail": (Program("javascript", "function f(x) { return x; }", JS_TESTS), F,
                        "assert.deepStrictEqual(f(1), 2)"),
    "javascript-compile": (Program("javascript", "function f(x) { return x + ; }", JS_TESTS), C,
                           "SyntaxError"),
    "javascript-runtime": (Program("javascript", "function f(x) { return x.a.b; }", JS_TESTS), R,
                           "TypeError"),
    "javascript-timeout": (Program("javascript", "function f(x) { while (true) {} }", JS_TESTS),
                           T, None),
    "javascript-missing-module": (Program("javascript", 'const _ = require("lodash");\n'
                                          "function f(x) { return x + 1; }", JS_TESTS), E, "lodash"),
    "javascript-stdio": (Program("javascript", 'const n = parseInt(require("fs").readFileSync(0, '
                                 '"utf8"));\nconsole.log(n * 2);', stdin="21\n",
                                 expected_stdout="42\n"), P, None),
    "typescript-pass": (Program("typescript", "function f(x: number): number { return x + 1; }",
                                TS_TESTS), P, None),
    "typescript-fail": (Program("typescript", "function f(x: number): number { return x; }",
                                TS_TESTS), F, "assert.deepStrictEqual(f(1), 2)"),
    "typescript-type-error": (Program("typescript", 'function f(x: number): number { return "a"; }',
                                      TS_TESTS), C, "TS2322"),
    "java-pass": (Program("java", "public class Solution {\n    public static int f(int x) "
                          "{ return x + 1; }\n}\n", JAVA_TESTS), P, None),
    "java-fail": (Program("java", "public class Solution {\n    public static int f(int x) "
                          "{ return x; }\n}\n", JAVA_TESTS), F, "f(1) != 2"),
    "java-compile": (Program("java", "public class Solution {\n    public static int f(int x) "
                             "{ return x + ; }\n}\n", JAVA_TESTS), C, "error"),
    "java-runtime": (Program("java", "public class Solution {\n    public static int f(int x) "
                             "{ return x / 0; }\n}\n", JAVA_TESTS), R, "ArithmeticException"),
    "java-timeout": (Program("java", "public class Solution {\n    public static int f(int x) "
                             "{ while (true) {} }\n}\n", JAVA_TESTS), T, None),
    "java-named-class": (Program("java", "package a.b;\nimport java.util.*;\n"
                                 "public class Adder {\n    public static int f(int x) { return x + 1; }"
                                 "\n}\npublic class Extra {}\n",
                                 JAVA_TESTS.replace("Solution.f", "Adder.f")), P, None),
    "java-third-party": (Program("java", "import org.apache.commons.lang3.StringUtils;\n"
                                 "public class Solution {\n    public static int f(int x) "
                                 "{ return x + 1; }\n}\n", JAVA_TESTS), E, "org.apache"),
    "java-stdio": (Program("java", "import java.util.*;\npublic class Main {\n    public static void"
                           " main(String[] a) {\n        Scanner s = new Scanner(System.in);\n"
                           "        System.out.println(s.nextInt() * 2);\n    }\n}\n",
                           stdin="21\n", expected_stdout="42\n"), P, None),
    "c-pass": (Program("c", "int f(int x) { return x + 1; }\n", C_TESTS), P, None),
    "c-fail": (Program("c", "int f(int x) { return x; }\n", C_TESTS), F, "f(1) == 2"),
    "c-compile": (Program("c", "int f(int x) { return x + ; }\n", C_TESTS), C, "error"),
    "c-segfault": (Program("c", "int f(int x) { int *p = 0; return *p + x; }\n", C_TESTS), R,
                   "SIGSEGV"),
    "c-timeout": (Program("c", "int f(int x) { for (;;) {} return x; }\n", C_TESTS), T, None),
    "c-missing-header": (Program("c", "#include <nosuchlib_xyz.h>\n"
                                 "int f(int x) { return x + 1; }\n", C_TESTS), E,
                         "nosuchlib_xyz.h"),
    "c-stdio": (Program("c", '#include <stdio.h>\nint main(void) { int n; scanf("%d", &n); '
                        'printf("%d\\n", n * 2); return 0; }\n', stdin="21\n",
                        expected_stdout="42\n"), P, None),
    "cpp-pass": (Program("cpp", "int f(int x) { return x + 1; }\n", CPP_TESTS), P, None),
    "cpp-fail": (Program("cpp", "int f(int x) { return x; }\n", CPP_TESTS), F, "f(1) == 2"),
    "cpp-compile": (Program("cpp", "int f(int x) { return x + ; }\n", CPP_TESTS), C, "error"),
    "cpp-exception": (Program("cpp", "#include <stdexcept>\nint f(int x) { throw "
                              "std::runtime_error(\"boom\"); }\n", CPP_TESTS), R, "runtime_error"),
    "cpp-timeout": (Program("cpp", "int f(int x) { for (;;) {} return x; }\n", CPP_TESTS), T, None),
    "go-pass": (Program("go", "package main\n\nfunc f(x int) int { return x + 1 }\n", GO_TESTS), P,
                None),
    "go-fail": (Program("go", "func f(x int) int { return x }\n", GO_TESTS), F, "f(1) != 2"),
    "go-compile": (Program("go", "func f(x int) int { return x + }\n", GO_TESTS), C, "syntax"),
    "go-runtime": (Program("go", "func f(x int) int { a := []int{}; return a[x] }\n", GO_TESTS), R,
                   "index out of range"),
    "go-timeout": (Program("go", "func f(x int) int { for {} }\n", GO_TESTS), T, None),
    "go-third-party": (Program("go", 'import "github.com/google/uuid"\n\nfunc f(x int) int '
                               "{ _ = uuid.New(); return x + 1 }\n", GO_TESTS), E, "github.com"),
    "rust-pass": (Program("rust", "fn f(x: i32) -> i32 { x + 1 }\n", RUST_TESTS), P, None),
    "rust-fail": (Program("rust", "fn f(x: i32) -> i32 { x }\n", RUST_TESTS), F,
                  "assert_eq!(f(1), 2);"),
    "rust-compile": (Program("rust", "fn f(x: i32) -> i32 { x + }\n", RUST_TESTS), C, "error"),
    "rust-runtime": (Program("rust", "fn f(x: i32) -> i32 { let v: Vec<i32> = vec![]; "
                             "v[x as usize] }\n", RUST_TESTS), R, "index out of bounds"),
    "rust-timeout": (Program("rust", "fn f(x: i32) -> i32 { loop {} }\n", RUST_TESTS), T, None),
    "rust-third-party": (Program("rust", "use rand::Rng;\nfn f(x: i32) -> i32 { x + 1 }\n",
                                 RUST_TESTS), E, "rand"),
}


@pytest.fixture(scope="module")
def verdicts() -> dict:
    """Every case's verdict, from one batch."""
    return run_cases({key: (case[0],) for key, case in CASES.items()})


@pytest.mark.parametrize("key", list(CASES))
def test_status(verdicts: dict, key: str) -> None:
    """The verdict's status is the expected one."""
    if key not in verdicts:
        pytest.skip(f"toolchain for {CASES[key][0].language} missing here")
    verdict = verdicts[key]
    assert verdict.status is CASES[key][1], (verdict.status, verdict.message, verdict.stderr[-800:])


@pytest.mark.parametrize("key", [key for key, case in CASES.items() if case[2]])
def test_explains(verdicts: dict, key: str) -> None:
    """The verdict names the failing test or the error it met."""
    if key not in verdicts:
        pytest.skip(f"toolchain for {CASES[key][0].language} missing here")
    verdict = verdicts[key]
    said = " ".join(filter(None, [verdict.failed_test, verdict.message, verdict.error_type]))
    assert CASES[key][2] in said, said


def test_failed_test_is_the_test_line(verdicts: dict) -> None:
    """A failing Python assertion is reported as the test's line, not the candidate's."""
    assert verdicts["python-fail"].failed_test == "assert candidate(5) == 6"


def test_timeouts_respect_the_limit(verdicts: dict) -> None:
    """Timed-out runs were stopped close to the 3 s limit."""
    for key, verdict in verdicts.items():
        if CASES[key][1] is Status.TIMEOUT:
            assert 2.5 < verdict.run_s < 6.0, (key, verdict.run_s)


def test_compiles_are_cached(verdicts: dict) -> None:
    """Running a compiled program again reuses its artifacts."""
    from codistill.sandbox import execute

    program = CASES["c-pass"][0]
    if "c-pass" not in verdicts:
        pytest.skip("no C toolchain")
    again = execute(program)
    assert again.passed and again.details["cached"] is True
