"""The gain experiment's one command: its stages, how it runs phases side by side, its last lines."""

import gzip
import json
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from gain import build_parser  # noqa: E402
from gain_experiment import Step, plan, run_steps, summary_lines  # noqa: E402
from gain_store import POOL, STORE  # noqa: E402

from codistill.evaluate.results import EvalResult, TaskResult  # noqa: E402


def test_plan_writes_questions_then_answers_beside_the_base_then_the_seeds(tmp_path: Path) -> None:
    args = build_parser().parse_args(["all", "--out", str(tmp_path), "--seeds", "0", "1", "--lr", "1e-4",
                                      "--arm", "kd", "--ce", "0.5"])
    stages = plan(args)
    assert [(title, [s.name for s in steps]) for title, steps in stages] == [
        ("questions", [f"data-{seed}" for seed in range(len(POOL))]),
        ("answers and untrained student", ["answers", "base"]),
        ("training seeds", ["train-seed0", "train-seed1"])]
    # Every step is a command line gain.py itself accepts, with the settings `all` was given.
    data = build_parser().parse_args(stages[0][1][1].argv)
    assert (data.phase, data.data_seed, data.slots, data.out) == ("data", 1, 496, str(tmp_path))
    train = build_parser().parse_args(stages[2][1][1].argv)
    assert (train.phase, train.seed, train.lr, train.answers, train.docstrings, train.freeze, train.arm,
            train.ce) == ("train", 1, 1e-4, 4, False, 15, "kd", 0.5)
    one = plan(build_parser().parse_args(["all", "--answers", "1", "--pool", "64"]))
    assert [s.name for s in one[0][1]] == ["data-0"]
    assert [s.name for s in one[1][1]] == ["base"]  # no sampled answers to collect


def test_the_default_pool_is_the_committed_stores() -> None:
    """`all` on a machine without the store must rebuild the questions the results were trained on."""
    root = Path(__file__).resolve().parents[2]
    files = sorted((root / STORE).glob("questions-[0-9]*.jsonl.gz"), key=lambda p: int(p.name.split("-")[1].split(".")[0]))
    assert tuple(len(gzip.open(f).read().splitlines()) for f in files) == POOL


def _script(tmp_path: Path) -> Path:
    """A child that reports its thread setting and arguments, sleeps or fails when told to."""
    script = tmp_path / "child.py"
    script.write_text(
        "import os, sys, time\n"
        "print(os.environ['OMP_NUM_THREADS'], sys.argv[1:], flush=True)\n"
        "if sys.argv[1] == 'sleep':\n"
        "    open(sys.argv[2], 'w').write(str(os.getpid()))\n"
        "    time.sleep(60)\n"
        "if sys.argv[1] == 'fail':\n"
        "    print('error: --rows must be positive', flush=True)\n"
        "    sys.exit(3)\n")
    return script


def test_steps_side_by_side_share_the_cores_and_each_has_its_log(tmp_path: Path) -> None:
    script, logs = _script(tmp_path), tmp_path / "logs"
    seconds = run_steps([Step("a", ("ok", "1")), Step("b", ("ok", "2"))], jobs=2, logs=logs, cores=2,
                        script=script, poll_s=0.05)
    assert set(seconds) == {"a", "b"}
    assert (logs / "a.log").read_text() == "1 ['ok', '1']\n"
    assert (logs / "b.log").read_text() == "1 ['ok', '2']\n"
    run_steps([Step("alone", ("ok",))], jobs=2, logs=logs, cores=2, script=script, poll_s=0.05)
    assert (logs / "alone.log").read_text().startswith("2 ")  # a step alone gets every core


def test_a_failed_step_stops_the_others_and_shows_its_error(tmp_path: Path) -> None:
    script, pid_file = _script(tmp_path), tmp_path / "pid"
    started = time.monotonic()
    with pytest.raises(SystemExit, match=r"(?s)bad failed \(exit 3\).*--rows must be positive.*rerun"):
        run_steps([Step("slow", ("sleep", str(pid_file))), Step("bad", ("fail",))], jobs=2,
                  logs=tmp_path / "logs", cores=2, script=script, poll_s=0.05)
    assert time.monotonic() - started < 30  # the sleeping step was ended, not waited for
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        import os

        os.kill(pid, 0)


def _eval(folder: Path, passed: set[int]) -> None:
    tasks = [TaskResult(f"t{i}", 1, int(i in passed), ["passed" if i in passed else "failed"]) for i in range(4)]
    EvalResult("humaneval", "m", 1, {"pass@1": len(passed) / 4}, tasks, {}).save(folder)


def test_the_summary_gives_each_seed_and_their_mean_paired_with_the_untrained_student(tmp_path: Path) -> None:
    _eval(tmp_path / "eval" / "base-float32" / "humaneval", {0})
    for seed, passed in ((0, {0, 1}), (1, {1, 2})):
        tag = f"sft-seed{seed}-float32"
        _eval(tmp_path / "eval" / tag / "humaneval", passed)
        (tmp_path / "results").mkdir(exist_ok=True)
        (tmp_path / "results" / f"{tag}.json").write_text(json.dumps({
            "seed": seed, "sft_rows": 10, "questions": 5, "student_dtype": "float32",
            "humaneval": {"before": 0.25, "after": 0.5, "won": 1 + seed, "lost": seed, "p": 0.5, "tasks": 4},
            "dev": {"before": 0.0, "after": 0.5, "tasks": 2}}))
    text = summary_lines(tmp_path, ["sft-seed0-float32", "sft-seed1-float32"],
                         {"questions": {"wall": 7}, "training seeds": {"wall": 9}})
    assert "seed 1: HumanEval 1 -> 2/4 (won 2, lost 1" in text
    assert "dev 0 -> 1/2" in text
    # Each task's rate averaged over the seeds: t1 1.0 and t2 0.5 gained, t0 1.0 -> 0.5 lost.
    assert "mean: HumanEval 1 -> 2.0/4 (won 2, lost 1" in text
    assert "questions 7, training seeds 9" in text
