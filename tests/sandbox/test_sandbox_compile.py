"""Compile steps: cached by content, safe under concurrency, time-limited; TypeScript kept warm."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.sandbox.sandbox_helpers import need

from codistill.sandbox import Limits, Program, Status, execute, run_all, supervisor_pool
from codistill.sandbox.languages import java, typescript

C_TESTS = "#include <assert.h>\nint main(void) { assert(f(2) == 4); return 0; }\n"
TS_TESTS = ('declare var require: any;\nconst assert = require("node:assert");\n'
            "assert.deepStrictEqual(f(2), 4);\n")


def _entries(cache: Path, language: str) -> list[Path]:
    return [p for p in (cache / language).glob("*/*") if p.is_dir()]


def test_identical_programs_compile_once(sandbox_cache: Path) -> None:
    """Concurrent copies of one program share a single compile and cache entry."""
    need("c")
    source = "int f(int x) { return x * 2; } /* compile-once */\n"
    before = len(_entries(sandbox_cache, "c"))
    verdicts = run_all([Program("c", source, C_TESTS) for _ in range(6)], workers=3)
    assert all(v.passed for v in verdicts)
    assert len(_entries(sandbox_cache, "c")) == before + 1
    assert sum(not v.details["cached"] for v in verdicts) == 1


def test_compile_errors_are_cached_too() -> None:
    """A broken program is not compiled twice."""
    need("c")
    program = Program("c", "int f(int x) { return x * ; } /* broken-twice */\n", C_TESTS)
    first, second = execute(program), execute(program)
    assert first.status is second.status is Status.COMPILE_ERROR
    assert second.details["cached"] is True and second.message == first.message


def test_compile_time_limit() -> None:
    """A compile that outlives compile_timeout_s is a timeout, and is not cached."""
    need("c")
    program = Program("c", "int f(int x) { return x * 2; } /* slow-compile */\n", C_TESTS)
    verdict = execute(program, Limits(compile_timeout_s=0.01))
    assert verdict.status is Status.TIMEOUT and verdict.error_type == "CompileTimeout"
    assert execute(program).passed


def test_typescript_falls_back_to_the_tsc_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the warm compile server cannot start, the tsc command gives the same verdicts."""
    need("typescript")

    def broken(sandbox: object) -> None:
        raise supervisor_pool.SupervisorDied("compile server unavailable")

    monkeypatch.setattr(typescript, "_Server", broken)
    good = execute(Program("typescript", "function f(x: number): number { return 2 * x; } "
                           "// fallback-good\n", TS_TESTS))
    bad = execute(Program("typescript", "function f(x: number): number { return 'no'; } "
                          "// fallback-bad\n", TS_TESTS))
    assert good.passed, good
    assert bad.status is Status.COMPILE_ERROR and "TS2322" in bad.message


JAVA_TESTS = ("public class Main {\n    public static void main(String[] a) {\n"
              '        if (Solution.f(2) != 4) throw new AssertionError("f(2)");\n    }\n}\n')


def test_java_falls_back_to_the_javac_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the warm javac cannot start, the javac command gives the same verdicts."""
    need("java")

    def broken(sandbox: object, classes: str) -> None:
        raise supervisor_pool.SupervisorDied("compile server unavailable")

    monkeypatch.setattr(java, "_Server", broken)
    good = execute(Program("java", "public class Solution { public static int f(int x) "
                           "{ return 2 * x; } } // fallback-good\n", JAVA_TESTS))
    bad = execute(Program("java", "public class Solution { public static int f(int x) "
                          "{ return 2 * ; } } // fallback-bad\n", JAVA_TESTS))
    assert good.passed, good
    assert bad.status is Status.COMPILE_ERROR and "error" in bad.message


def test_warm_and_cold_javac_agree() -> None:
    """The warm server's verdicts match javac's on the same inner-class-using program."""
    need("java")
    source = ("import java.util.*;\npublic class Solution {\n    static class Box { int v; }\n"
              "    public static int f(int x) { Box b = new Box(); b.v = x; "
              "List<Integer> l = new ArrayList<>(List.of(b.v, b.v)); return l.get(0) + l.get(1); }\n}\n")
    assert execute(Program("java", source, JAVA_TESTS)).passed
