"""The run report is rebuilt from a run folder: plots and tables from the manifest's stats."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from codistill.report import build_report
from codistill.stages.stats import (
    CurriculumStats,
    EvalStats,
    ExamineStats,
    TeachStats,
    TrainRun,
    TrainStats,
)
from codistill.store import RunStore


def _fake_run(root: Path) -> None:
    with RunStore(root, config={"name": "t", "cycles": 1, "models": {"teacher": "T", "student": "S"},
                                "curriculum": {"strategy": "soda"}}) as store:
        store.stage("eval", 0).finish(EvalStats(seconds=12.0, pass_at_k={"humaneval": {"pass@1": 0.125}}))
        store.stage("teach", 1).finish(TeachStats(seconds=300.0, teacher_tokens=9000,
                                                  counts={"questions_kept": 40, "questions_dropped": 8},
                                                  fault_types={"logic": 30, "name": 5}))
        store.stage("train", 1).finish(TrainStats(seconds=200.0, sft_rows=32, dpo_rows=12,
                                                  sft=TrainRun(steps=8, loss=0.9, seconds=150.0),
                                                  dpo=TrainRun(steps=3, loss=0.69, seconds=50.0)),
                                       model=root / "cycle-1" / "train" / "model")
        store.stage("examine", 1).finish(ExamineStats(seconds=80.0, counts={"passed": 20, "failed": 28}))
        store.stage("curriculum", 1).finish(CurriculumStats(seconds=90.0, counts={"kept": 10, "duplicate": 2},
                                                            bucket_sizes={"easy": 10, "medium": 10, "hard": 28}))
        store.stage("eval", 1).finish(EvalStats(seconds=12.0, pass_at_k={"humaneval": {"pass@1": 0.175}}))


def test_report_has_every_section(tmp_path: Path) -> None:
    _fake_run(tmp_path)
    html = build_report(tmp_path).read_text()
    for text in ("pass@1 per cycle", "12.5%", "17.5%", "Difficulty buckets", "Fault types",
                 "questions_dropped", "duplicate", "Training", "0.690", "Time and tokens",
                 "9,000", "teacher T"):
        assert text in html, text
    assert html.count("data:image/png;base64,") == 4
    assert (tmp_path / "report" / "pass1.png").stat().st_size > 1000


def test_report_command(tmp_path: Path) -> None:
    _fake_run(tmp_path / "runs" / "t")
    proc = subprocess.run([sys.executable, "-m", "codistill.cli", "report", "t", "--runs",
                           str(tmp_path / "runs")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("report.html")
    # Two runs given as paths: the comparison page lands beside them, not in the working folder.
    _fake_run(tmp_path / "elsewhere" / "u")
    both = subprocess.run([sys.executable, "-m", "codistill.cli", "report", str(tmp_path / "runs" / "t"),
                           str(tmp_path / "elsewhere" / "u")], capture_output=True, text=True,
                          cwd=tmp_path / "elsewhere")
    assert both.returncode == 0, both.stderr
    assert (tmp_path / "runs" / "compare-t-vs-u.html").is_file()
    assert not (tmp_path / "elsewhere" / "runs").exists()
    bad = subprocess.run([sys.executable, "-m", "codistill.cli", "report", "nope", "--runs",
                          str(tmp_path)], capture_output=True, text=True)
    assert bad.returncode == 2 and "no run folder 'nope'" in bad.stderr


def test_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a codistill run folder"):
        build_report(tmp_path)


def test_two_runs_are_compared(tmp_path: Path) -> None:
    from codistill.evaluate.results import build_result
    from codistill.records import Sample
    from codistill.report.compare_runs import build_comparison

    for name, passed in (("soda", [True, False, False, True]), ("akd", [True, True, False, True])):
        root = tmp_path / name
        _fake_run(root)
        result = build_result("humaneval", name, [f"t{i}" for i in range(4)],
                              [Sample(task_id=f"t{i}", completion="", passed=p, status="passed" if p else "failed")
                               for i, p in enumerate(passed)], ks=(1,))
        result.save(root / "cycle-1" / "eval" / "humaneval")
    page = build_comparison([tmp_path / "soda", tmp_path / "akd"], tmp_path / "cmp.html").read_text()
    assert "akd vs soda" in page and "+25.0 pp" in page and "1/0/3" in page
    assert "9,000" in page  # teacher budget of each run is shown
