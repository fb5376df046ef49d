"""Two `codistill eval` processes at once on one request cache (and one compile cache) give the
results of one after the other, and leave both caches whole.

The scripted model answers every other HumanEval task with its reference solution and everything
else with prose, so results mix passes and failures; the C tasks' programs fail to compile and the
compile cache stores those failures, written by both processes at once.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from codistill.commands.eval import slug
from codistill.evaluate import load_benchmark

LIMIT = 40
BENCHMARKS = "humaneval,humaneval-c"
TIMINGS = {"seconds", "wall_s", "generation_s", "results"}  # wall-clock times, and where it wrote


def _model(path: Path) -> Path:
    rules = [{"match": f"def {p.entry_point}(", "reply": f"```python\n{p.reference}```"}
             for p in load_benchmark("humaneval", limit=LIMIT)[::2]]
    path.write_text(json.dumps({"name": "half-right", "rules": rules,
                                "default": "I would rather not write this one."}))
    return path


def _start(model: Path, out: Path | None, home: Path, cwd: Path) -> subprocess.Popen[str]:
    args = ["eval", "--model", f"fake:{model}", "--benchmark", BENCHMARKS, "--limit", str(LIMIT),
            "--json", "--no-plot", "--workers", "2"]
    env = {**os.environ, "CODISTILL_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "codistill.cli", *args,
                             *(["--output", str(out)] if out else [])],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _finish(proc: subprocess.Popen[str]) -> tuple[dict, str]:
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr[-3000:]
    return _drop(json.loads(stdout)), stderr


def _drop(value: object) -> object:
    if isinstance(value, dict):
        return {k: _drop(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [_drop(v) for v in value]
    return value


def _samples(folder: Path) -> dict[str, list[dict]]:
    """Each benchmark's scored samples, in file order, without their timings."""
    return {sub.name: [_drop(json.loads(line)) for line in (sub / "samples.jsonl").read_text().splitlines()]
            for sub in sorted(folder.iterdir()) if sub.is_dir()}


def _requests(home: Path) -> dict[str, object]:
    """The request cache's rows, after SQLite's integrity check (it must still be in WAL mode)."""
    with sqlite3.connect(home / "requests.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        return {k: _drop(json.loads(v)) for k, v in db.execute("SELECT key, value FROM generations")}


def _compiles(home: Path) -> dict[str, dict]:
    """The compile cache's entries: every one complete, none left half-built."""
    root = home / "sandbox-cache"
    assert not list(root.glob("tmp/*"))
    return {entry.name: _drop(json.loads((entry / "result.json").read_text()))
            for entry in root.glob("*/*/*") if entry.is_dir()}


def test_two_evals_at_once_equal_two_in_a_row(tmp_path: Path) -> None:
    model = _model(tmp_path / "model.json")
    # One after the other: the second finds every answer in the cache.
    seq = tmp_path / "seq"
    first, _ = _finish(_start(model, seq / "a", seq / "home", tmp_path))
    second, _ = _finish(_start(model, seq / "b", seq / "home", tmp_path))
    # At once, on one cache, into separate folders: both generate and write the caches together.
    con = tmp_path / "con"
    both = [_start(model, con / name, con / "home", tmp_path) for name in ("a", "b")]
    results = [_finish(p)[0] for p in both]

    assert first == second == results[0] == results[1]
    passed = first["evaluations"][0]["passed_tasks"]
    assert 0 < passed < LIMIT  # a mix: the comparison is not between two all-fail runs
    assert _samples(seq / "a") == _samples(seq / "b") == _samples(con / "a") == _samples(con / "b")
    assert _requests(seq / "home") == _requests(con / "home")
    compiled = _compiles(con / "home")
    assert compiled and compiled == _compiles(seq / "home")


def test_two_evals_into_one_folder_take_turns(tmp_path: Path) -> None:
    model = _model(tmp_path / "model.json")
    home = tmp_path / "home"
    both = [_start(model, None, home, tmp_path) for _ in range(2)]  # the same default folder
    (one, err_one), (two, err_two) = (_finish(p) for p in both)
    assert one == two
    assert "waiting for another codistill process" in err_one + err_two
    for bench, rows in _samples(tmp_path / "evals" / slug(f"fake:{model}")).items():
        keys = [(r["task_id"], r["index"]) for r in rows]
        assert len(keys) == len(set(keys)) == LIMIT, bench  # each sample written once
