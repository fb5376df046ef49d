"""`codistill exec`, run as a real subprocess: output, --json, and exit statuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _exec(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "codistill.cli", "exec", *args],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))


@pytest.fixture
def humaneval_like(tmp_path: Path) -> tuple[Path, Path]:
    """A solution file and a HumanEval-style tests file."""
    source = tmp_path / "add.py"
    source.write_text("def add(a, b):\n    return a + b\n")
    tests = tmp_path / "tests.py"
    tests.write_text("def check(candidate):\n    assert candidate(1, 2) == 3\n")
    return source, tests


def test_json_verdict_for_a_passing_program(humaneval_like: tuple[Path, Path]) -> None:
    """--json prints the verdict; exit status 0."""
    source, tests = humaneval_like
    done = _exec(str(source), "--tests", str(tests), "--entry-point", "add", "--json")
    assert done.returncode == 0, done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["status"] == "passed" and verdict["id"] == "add.py"


def test_a_failing_program_still_exits_zero(humaneval_like: tuple[Path, Path]) -> None:
    """The program's failure is the output, not codistill's."""
    source, tests = humaneval_like
    source.write_text("def add(a, b):\n    return a - b\n")
    done = _exec(str(source), "--language", "python", "--tests", str(tests),
                 "--entry-point", "add")
    assert done.returncode == 0
    assert "failed" in done.stdout and "assert candidate(1, 2) == 3" in done.stdout


def test_limits_and_stdin_are_applied(tmp_path: Path) -> None:
    """--timeout, --memory-mb and --stdin reach the run."""
    source = tmp_path / "loop.py"
    source.write_text("import sys\nprint(sys.stdin.read().upper(), flush=True)\nwhile True:\n    pass\n")
    given = tmp_path / "in.txt"
    given.write_text("hello")
    done = _exec(str(source), "--stdin", str(given), "--timeout", "1", "--memory-mb", "300",
                 "--json")
    verdict = json.loads(done.stdout)
    assert done.returncode == 0 and verdict["status"] == "timeout"
    assert verdict["stdout"] == "HELLO\n" and verdict["run_s"] < 3


def test_other_languages_by_extension(tmp_path: Path) -> None:
    """The language is guessed from the extension."""
    source = tmp_path / "hello.js"
    source.write_text('console.log("hi")')
    done = _exec(str(source), "--json")
    assert json.loads(done.stdout)["stdout"] == "hi\n"


def test_bad_input_exits_two(tmp_path: Path) -> None:
    """A missing file or an unknown language is a usage error (2) with a clear message."""
    missing = _exec(str(tmp_path / "nope.py"))
    assert missing.returncode == 2 and missing.stderr.startswith("error: cannot read the program file")
    assert missing.stderr.count("\n") == 1 and "Traceback" not in missing.stderr
    source = tmp_path / "prog.xyz"
    source.write_text("x")
    unknown = _exec(str(source))
    assert unknown.returncode == 2 and "--language" in unknown.stderr
