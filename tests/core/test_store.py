"""Run store: stages resume after SIGKILL, config changes are refused without --force."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from codistill.stages.stats import (
    CurriculumStats,
    EvalStats,
    ExamineStats,
    StageStats,
    TrainRun,
    TrainStats,
    stats_of,
)
from codistill.store import RunLockedError, RunStore, StaleStageError

WORKER = textwrap.dedent(
    """
    import sys, time
    from codistill.stages.stats import StageStats
    from codistill.store import RunStore
    root, n = sys.argv[1], int(sys.argv[2])
    with RunStore(root, config={"n": n}) as store:
        stage = store.stage("square", cycle=1, depends={"n": n})
        if not stage.done:
            done = stage.done_keys("id")
            with stage.appender() as out, open(f"{root}/computed.log", "a") as log:
                for i in range(n):
                    if i in done:
                        continue
                    log.write(f"{i}\\n"); log.flush()
                    time.sleep(0.03)
                    out.write({"id": i, "value": i * i})
            stage.finish(StageStats(seconds=n))
    """
)


def test_sigkill_then_rerun_resumes_without_recomputing(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    root = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, str(script), str(root), "60"])
    out = root / "cycle-1" / "square.jsonl"
    deadline = time.time() + 30
    while time.time() < deadline and (not out.exists() or out.read_text().count("\n") < 15):
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # Simulate a torn write on top of the kill: half a record at the end.
    with out.open("a") as fh:
        fh.write('{"id": 999, "val')
    subprocess.run([sys.executable, str(script), str(root), "60"], check=True)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == list(range(60))
    computed = (root / "computed.log").read_text().split()
    assert len(computed) <= 61  # at most the one in flight at the kill is redone
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["stages"]["cycle-1/square"]["status"] == "done"
    # A third run does no work at all.
    subprocess.run([sys.executable, str(script), str(root), "60"], check=True)
    assert (root / "computed.log").read_text().split() == computed


def test_changed_config_is_refused_then_forced(tmp_path: Path) -> None:
    with RunStore(tmp_path) as store:
        teach = store.stage("teach", 1, depends={"teach": {"lr": 1}})
        with teach.appender() as out:
            out.write({"id": "a"})
        teach.finish(StageStats())
        train = store.stage("train", 1, depends={"train": 1})
        train.finish(StageStats())
    with RunStore(tmp_path) as store:
        with pytest.raises(StaleStageError) as info:
            store.stage("teach", 1, depends={"teach": {"lr": 2}})
        assert "teach.lr: 1 -> 2" in str(info.value) and "--force" in str(info.value)
    with RunStore(tmp_path, force=True) as store:
        teach = store.stage("teach", 1, depends={"teach": {"lr": 2}})
        assert not teach.done and teach.rows() == []
        assert "cycle-1/train" not in store.stages()  # later stages are redone too


def test_unchanged_config_keeps_done_stage(tmp_path: Path) -> None:
    with RunStore(tmp_path) as store:
        stage = store.stage("eval", 0, depends={"b": ["humaneval"]})
        with stage.appender() as out:
            out.write({"id": "x"})
        stage.finish(EvalStats(pass_at_k={"humaneval": {"pass@1": 0.5}}, model="m"))
    with RunStore(tmp_path) as store:
        stage = store.stage("eval", 0, depends={"b": ["humaneval"]})
        assert stage.done and stage.stats(EvalStats).pass_at_k == {"humaneval": {"pass@1": 0.5}}
        assert stage.done_keys() == {"x"}


def test_stats_are_typed_on_both_sides(tmp_path: Path) -> None:
    # A misspelt field fails where the stage writes it, not as a blank report column later.
    with pytest.raises(ValidationError, match="bucket_size"):
        CurriculumStats(bucket_size={"easy": 1})
    with RunStore(tmp_path) as store:
        stage = store.stage("train", 1)
        with pytest.raises(RuntimeError, match="not finished"):
            stage.stats(TrainStats)
        stage.finish(TrainStats(sft_rows=3, sft=TrainRun(steps=2, loss=0.5)), model=tmp_path / "m")
    with RunStore(tmp_path) as store:
        stage = store.stage("train", 1)
        assert stage.model == tmp_path / "m" and "model_dir" not in stage.entry["stats"]
        assert stage.stats(TrainStats).sft == TrainRun(steps=2, loss=0.5)
        assert stats_of(stage.entry, ExamineStats, loose=True) == ExamineStats()  # nothing of it


def test_manifests_of_older_runs_still_read(tmp_path: Path) -> None:
    # Before typed stats, the model folder was a stats key and the evaluated model `student`.
    old = {"status": "done", "stats": {"seconds": 5, "sft_rows": 2, "model_dir": "/m",
                                       "sft": {"steps": 1, "loss": 1.0, "seconds": 2.0}}}
    assert stats_of(old, TrainStats) == TrainStats(seconds=5, sft_rows=2,
                                                   sft=TrainRun(steps=1, loss=1.0, seconds=2.0))
    with RunStore(tmp_path) as store:
        stage = store.stage("train", 1)
        stage.entry.update(old)
        assert stage.model == Path("/m")
    evaluated = stats_of({"status": "done", "stats": {"pass_at_k": {"h": {"pass@1": 0.5}}, "student": "s"}},
                         EvalStats)
    assert evaluated is not None and evaluated.model == "s"
    coevolved = stats_of({"status": "done", "stats": {"model": "c", "results": {
        "h": {"pass@1": 0.25, "tasks": 4, "passed": 1}}}}, EvalStats)
    assert coevolved == EvalStats(pass_at_k={"h": {"pass@1": 0.25}}, model="c", tasks={"h": 4}, passed={"h": 1})


def test_second_process_on_same_run_is_refused(tmp_path: Path) -> None:
    with RunStore(tmp_path):
        code = f"from codistill.store import RunStore; RunStore({str(tmp_path)!r})"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert proc.returncode != 0 and "RunLockedError" in proc.stderr
    with RunStore(tmp_path):  # released on close
        pass
    assert RunLockedError
