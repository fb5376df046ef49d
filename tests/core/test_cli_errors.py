"""Bad input to any command: exit 2 and one `error:` line on stderr that says what to change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codistill.cli import main

CUT_SHORT = '{"task_id": "HumanEval/0", "completion": "    return 1"\n'  # a line missing its "}"


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Real input files of every kind, good and bad, in a fresh working folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cut.jsonl").write_text(CUT_SHORT)
    (tmp_path / "binary.jsonl").write_bytes(b"\xff\xfe\x00\x01")
    good = {"task_id": "HumanEval/0", "completion": "    return 1"}
    (tmp_path / "good.jsonl").write_text(json.dumps(good) + "\n")
    (tmp_path / "nokey.jsonl").write_text(json.dumps({"task_id": "HumanEval/0"}) + "\n")
    (tmp_path / "prog.py").write_text("print(1)\n")
    (tmp_path / "prog.xyz").write_text("x\n")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "results.json").write_text("[1, 2]\n")
    (tmp_path / "sft.jsonl").write_text(json.dumps({"prompt": [{"role": "user", "content": "q"}]}) + "\n")
    (tmp_path / "teacher.json").write_text(json.dumps({"default": "ok"}))
    return tmp_path


# (argv, what the one line must say). Each names the flag, file or key to change.
CASES = [
    (["eval", "--samples", "missing.jsonl", "--benchmark", "humaneval"], "missing.jsonl does not exist"),
    (["eval", "--samples", "cut.jsonl", "--benchmark", "humaneval"], "cut.jsonl:1: not valid JSON"),
    (["eval", "--samples", "nokey.jsonl", "--benchmark", "humaneval"], 'needs "task_id" and "completion"'),
    (["eval", "--samples", "binary.jsonl", "--benchmark", "humaneval"], "binary.jsonl: not UTF-8 text"),
    (["eval", "--samples", "cut.jsonl", "--benchmark", "humaneval", "--n", "0"], "change --n"),
    (["eval", "--samples", "cut.jsonl", "--benchmark", "humaneval", "--n", "4", "--temperature", "0"],
     "eval.temperature > 0"),
    (["eval", "--samples", "cut.jsonl", "--benchmark", "humaneval", "--sandbox", "docker"],
     "unknown sandbox backend 'docker'"),
    (["eval", "--samples", "good.jsonl", "--benchmark", "humanevl"], "did you mean 'humaneval'?"),
    (["compare", "missing", "a"], "missing: no results.json here"),
    (["compare", "a", "a"], "a/results.json: not a codistill results file"),
    (["compare", "a", "a", "--confidence", "2"], "--confidence must be between 0 and 1"),
    (["decontam", "missing.jsonl"], "missing.jsonl: no such file"),
    (["decontam", "cut.jsonl"], "cut.jsonl:1: not valid JSON"),
    (["decontam", "cut.jsonl", "--threshold", "0"], "--threshold must be in (0, 1]"),
    (["exec", "missing.py"], "cannot read the program file 'missing.py'"),
    (["exec", "prog.xyz"], "pass --language, one of"),
    (["exec", "prog.py", "--timeout", "0"], "--timeout and --memory-mb must be positive"),
    (["exec", "prog.py", "--tests", "missing.py"], "give --tests a readable"),
    (["models", "prepare", "gpt5"], "unknown embedded model 'gpt5'"),
    (["models", "serve", "fake:teacher.json", "--inject-failures", "x:y"], "--inject-failures"),
    (["train", "--output", "out", "--sft", "missing.jsonl"], "missing.jsonl: no such file"),
    (["train", "--output", "out", "--sft", "sft.jsonl"], "sft.jsonl: row 1: missing 'completion'"),
    (["train", "--output", "out", "--sft", "sft.jsonl", "--max-steps", "0"], "--max-steps must be >= 1"),
    (["config", "--set", "eval.n=0", "--set", "eval.top_p=2"], "eval.n: Input should be greater"),
    (["run", "--config", "missing.yaml"], "config file missing.yaml does not exist"),
    (["report", "nope"], "no run folder 'nope'"),
]


@pytest.mark.parametrize(("argv", "says"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_input_is_one_error_line_and_exit_2(files: Path, capsys: pytest.CaptureFixture,
                                                argv: list[str], says: str) -> None:
    assert main(argv) == 2  # an uncaught exception (a traceback) would fail here instead
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert says in err


def test_a_bad_file_in_a_real_process_prints_no_traceback(files: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-m", "codistill.cli", "compare", "a", "a"], cwd=files,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("error: a/results.json: not a codistill results file")
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert "give a results.json written by `codistill eval`" in done.stderr  # the hint
