"""A full disk and a read-only run folder stop `codistill run` with one line naming the path, and
lose nothing already written. The disks are real: a small tmpfs and a read-only bind mount (tests
run as root, where chmod would not stop a write); without permission to mount, the tests skip.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from tests.stages.helpers_run import teacher_script, write_problems
from tests.tiny import tiny_model_and_tokenizer


@contextmanager
def mounted(*commands: list[str], at: Path) -> Iterator[None]:
    """Run mount commands for `at` (skipping the test if mounting is not permitted); unmount after."""
    for command in commands:
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            subprocess.run(["umount", "-l", str(at)], capture_output=True)
            pytest.skip(f"cannot mount here ({done.stderr.strip()}): needs root with CAP_SYS_ADMIN")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(at)], check=True)


def _config(tmp_path: Path, runs: Path, cache: Path) -> Path:
    """A run that evaluates the tiny student once (no cycles) on 20 scripted tasks."""
    if not (tmp_path / "tiny-model").exists():
        tiny_model_and_tokenizer(tmp_path)
    names = [f"add_{k}" for k in range(1, 21)]
    funcs = {n: (f"return x + {k}", f"return x - {k}", f"assert candidate(1) == {1 + k}")
             for k, n in enumerate(names, start=1)}
    bench = write_problems(tmp_path / "bench.jsonl", names, funcs)
    config = {"name": "t", "output_dir": str(runs), "cache": str(cache), "cycles": 0,
              "models": {"teacher": f"fake:{teacher_script(tmp_path / 'teacher.json', funcs)}",
                         "student": str(tmp_path / "tiny-model"), "dtype": "float32",
                         "device": "cpu"},
              "eval": {"benchmarks": [f"jsonl:{bench}"], "max_new_tokens": 16},
              "sandbox": {"timeout_s": 5, "workers": 2}}
    path = tmp_path / "run.yaml"
    path.write_text(f"# codistill run --config {path}\n" + yaml.safe_dump(config))
    return path


def _run(config: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "codistill.cli", "run", "--config", str(config)],
                          capture_output=True, text=True, env=env, timeout=600)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The one user-facing error line; fails on a traceback or on more than one error line."""
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr[-3000:]
    return errors[0]


def test_read_only_run_folder(tmp_path: Path) -> None:
    config = _config(tmp_path, tmp_path / "runs", tmp_path / "cache.sqlite")
    first = _run(config)
    assert first.returncode == 0, first.stderr[-3000:]
    run = tmp_path / "runs" / "t"
    before = _files(run)
    with mounted(["mount", "--bind", str(run), str(run)],
                 ["mount", "-o", "remount,bind,ro", str(run)], at=run):
        line = _error_line(_run(config))
    assert f"cannot write {run}/" in line and "Read-only file system" in line, line
    assert _files(run) == before  # not a byte changed


# Free space left on the disk, and whether the request cache shares it: the disk then fills in a
# different place (the cache, a samples line, results.json, the stage's record, the manifest).
@pytest.mark.parametrize(("free_kb", "cache_on_disk"), [(96, True), (8, False), (16, False), (24, False)])
def test_full_disk(tmp_path: Path, free_kb: int, cache_on_disk: bool) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    cache = (disk if cache_on_disk else tmp_path) / "cache.sqlite"
    config = _config(tmp_path, disk / "runs", cache)
    with mounted(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(disk)], at=disk):
        stat = os.statvfs(disk)
        (disk / "filler").write_bytes(bytes(stat.f_bavail * stat.f_frsize - free_kb * 1024))
        line = _error_line(_run(config))
        assert f"{disk}/" in line, line  # the file it could not write, on the full disk
        assert "No space left on device" in line or "disk is full" in line, line
        run = disk / "runs" / "t"
        assert not list(run.rglob("*.tmp")), "a failed write left its temporary file"
        kept = {rel: data for rel, data in _files(run).items() if rel.endswith(".jsonl")}
        for rel, data in kept.items():  # every line written is whole: no torn record
            assert data.endswith(b"\n") or not data, rel
            assert all(json.loads(row) for row in data.decode().splitlines()), rel
        with sqlite3.connect(cache) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

        (disk / "filler").unlink()  # space again: the same command finishes the run
        again = _run(config)
        assert again.returncode == 0, again.stderr[-3000:]
        for rel, data in kept.items():  # and every record written before the disk filled is kept
            final = (run / rel).read_bytes().decode().splitlines()
            assert all(row in final for row in data.decode().splitlines()), rel
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["stages"]["cycle-0/eval"]["status"] == "done"
