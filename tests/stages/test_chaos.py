"""kill -9 anywhere, lose nothing: `codistill run` (a subprocess, scripted teacher, tiny real
student) is SIGKILLed at seeded random moments in every stage and rerun after each kill until it
completes; its run folder then holds exactly the records of a run that was never interrupted.

Where a run is comes from its own progress lines ("cycle-1/teach: resuming", "cycle-1/train: SFT
on 20 rows", "report: ..."). Each stage is aimed at three times: twice its line is awaited, then a
random share of the time the stage took in the uninterrupted run; once the kill comes right after
the attempt saved progress (a batch of records, a training checkpoint), where resuming is hardest
to get right. A kill aimed at a stage the run has already finished goes to the next one.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from tests.stages.helpers_run import SYNTH_RULES, scaled_funcs, teacher_script, write_problems
from tests.tiny import tiny_model_and_tokenizer

SEED = 20260
KILLS_PER_TARGET = 3  # x 9 targets: 27 kills (a kill aimed at a stage already done goes to the next)
# Each target: the progress line that says this attempt has reached it.
TARGETS = {
    "questions": r"cycle-0/questions: (starting|resuming)",
    "eval before": r"cycle-0/eval: (starting|resuming)",
    "teach": r"cycle-1/teach: (starting|resuming)",
    "sft": r"cycle-1/train: SFT on",
    "dpo": r"cycle-1/train: DPO on",
    "examine": r"cycle-1/examine: (starting|resuming)",
    "curriculum": r"cycle-1/curriculum: (starting|resuming)",
    "eval after": r"cycle-1/eval: (starting|resuming)",
    "report": r"report: ",
}
# Fields whose values legitimately depend on the kills; everything else must match exactly.
EXCLUDED = {
    # wall-clock times and rates: a resumed stage spends less (or more) time
    "seconds", "started", "finished", "created", "wall_s", "generation_s", "setup_seconds",
    "train_runtime", "train_samples_per_second", "train_steps_per_second",
    # per-stage cache hits and misses: what a killed attempt generated, its rerun reads back
    "cache",
    # the checkpoint the last training attempt resumed from (checked on its own below)
    "resumed_from",
}
# Compared as present only: images and the HTML report show timings; TRL's model card (README.md)
# lists its tags from a set, in an order that changes from one process to the next.
OPAQUE = (".png", ".html", ".md")
# What each target writes as it goes (relative to the run folder): the second kill follows it.
PROGRESS = {
    "questions": "cycle-0/questions.jsonl", "eval before": "cycle-0/eval/*/samples.jsonl",
    "teach": "cycle-1/teach.jsonl", "sft": "cycle-1/train/sft/checkpoint-*/trainer_state.json",
    "dpo": "cycle-1/train/dpo/checkpoint-*/trainer_state.json", "examine": "cycle-1/examine.jsonl",
    "curriculum": "cycle-1/curriculum.jsonl", "eval after": "cycle-1/eval/*/samples.jsonl",
    "report": "report/*.png",
}
FUNCS = scaled_funcs(40)  # over 32 questions: teach and examine write two batches each


@dataclass
class Attempt:
    """One `codistill run` process, its progress lines read as they come, with their times."""

    config: Path
    home: Path
    proc: subprocess.Popen = field(init=False)
    lines: list[tuple[float, str]] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        env = {**os.environ, "CODISTILL_HOME": str(self.home), "PYTHONUNBUFFERED": "1",
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "COLUMNS": "400"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "codistill.cli", "run", "--config", str(self.config)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append((time.time(), line.rstrip("\n")))

    def at(self) -> str | None:
        """The target whose progress line came last, if any."""
        marks = [name for _, line in self.lines for name, rx in TARGETS.items() if re.match(rx, line)]
        return marks[-1] if marks else None

    def finish(self, timeout: float = 600) -> str:
        """Wait for the process to end by itself; its whole stderr."""
        self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return "\n".join(line for _, line in self.lines)


def _descendants(pid: int) -> set[int]:
    """Every process below `pid` (sandbox supervisors and the programs they run)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    """Those of `pids` still running (zombies are dead)."""
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _kill(attempt: Attempt) -> tuple[str | None, set[int]]:
    """SIGKILL the run; the target it was in, and any of its processes alive 10 s later."""
    children = _descendants(attempt.proc.pid)
    at = attempt.at()
    attempt.proc.send_signal(signal.SIGKILL)
    attempt.proc.wait()
    deadline = time.time() + 10
    while (left := _alive(children)) and time.time() < deadline:
        time.sleep(0.1)
    for pid in left:  # cleaned up here; the test fails on them below
        os.kill(pid, signal.SIGKILL)
    return at, left


def _setup(tmp_path: Path, base: Path) -> Path:
    """A run config under `base`, sharing the inputs in tmp_path/inputs."""
    inputs = tmp_path / "inputs"
    if not inputs.exists():
        inputs.mkdir()
        tiny_model_and_tokenizer(inputs)
        write_problems(inputs / "seeds.jsonl", list(FUNCS), FUNCS)
        write_problems(inputs / "bench.jsonl", [f"add_{k}" for k in range(41, 61)], scaled_funcs(60))
        teacher_script(inputs / "teacher.json", scaled_funcs(60), extra=SYNTH_RULES)
    config = {
        "name": "t", "output_dir": str(base / "runs"), "cache": str(base / "cache.sqlite"),
        "seed": 0, "cycles": 1,
        "models": {"teacher": f"fake:{inputs / 'teacher.json'}", "student": str(inputs / "tiny-model"),
                   "dtype": "float32", "device": "cpu", "batch_size": 8},
        "data": {"seeds": [str(inputs / "seeds.jsonl"), "synth"], "synth_questions": 2},
        "teach": {"sft_share": 0.5, "mutation_share": 1.0},
        "train": {"sft": {"epochs": 1, "batch_size": 2, "max_length": 256},
                  "dpo": {"epochs": 1, "batch_size": 2, "max_length": 256}},
        "examine": {"generation": {"max_new_tokens": 16}, "scorer": "judge"},
        "curriculum": {"new_questions": 3},
        "eval": {"benchmarks": [f"jsonl:{inputs / 'bench.jsonl'}"], "max_new_tokens": 16},
        "sandbox": {"timeout_s": 5, "workers": 2},
    }
    base.mkdir(parents=True, exist_ok=True)
    path = base / "run.yaml"
    path.write_text(f"# codistill run --config {path}\n" + yaml.safe_dump(config))
    return path


def _durations(attempt: Attempt) -> dict[str, float]:
    """Seconds from each target's progress line to the next line of any target (or the end)."""
    marks = [(t, name) for t, line in attempt.lines for name, rx in TARGETS.items() if re.match(rx, line)]
    ends = [t for t, _ in marks[1:]] + [attempt.lines[-1][0]]
    return {name: max(end - t, 0.05) for (t, name), end in zip(marks, ends, strict=True)}


@dataclass
class Chaos:
    """What the kills did: where each landed, what they left running, what the attempts said."""

    landed: list[tuple[str, str | None]] = field(default_factory=list)  # (aimed at, was in)
    leaked: set[int] = field(default_factory=set)
    attempts: int = 0
    log: str = ""


def _written(run: Path, pattern: str, since: float) -> bool:
    """True once a file matching `pattern` was written at or after `since`."""
    for path in run.glob(pattern):
        try:
            if path.stat().st_mtime >= since:
                return True
        except FileNotFoundError:  # an old checkpoint removed as a new one is saved
            continue
    return False


def _aim(attempt: Attempt, name: str, delay: float, run: Path, progress: str | None) -> str:
    """Wait for target `name` (and a file matching `progress` written by this attempt, if given),
    then `delay` s: "kill" when it is time, "passed" when the run is beyond the target, "ended"."""
    order = list(TARGETS)
    later = set(order[order.index(name) + 1 :])
    armed = None
    while attempt.proc.poll() is None:
        at = attempt.at()
        if armed is None and at in later:
            return "passed"
        if armed is None and at == name and (progress is None or _written(run, progress, attempt.started)):
            armed = time.time() + delay  # a kill that lands in a later stage is fine too
        if armed is not None and time.time() >= armed:
            return "kill"
        time.sleep(0.01)
    return "ended"


def _chaos(config: Path, home: Path, run: Path, durations: dict[str, float]) -> Chaos:
    """Kill the run again and again, in target order, then let it complete."""
    rng = random.Random(SEED)
    order = list(TARGETS)
    plan = deque((name, k) for name in order for k in range(KILLS_PER_TARGET))
    out = Chaos()
    while True:
        attempt = Attempt(config, home)
        out.attempts += 1
        killed = False
        while plan and not killed and attempt.proc.poll() is None:
            name, k = plan[0]
            # The first kill comes early in the stage, so it lands there despite the machine's load;
            # the second right after this attempt saved progress (so SFT and DPO must resume).
            progress = PROGRESS[name] if k == 1 else None
            share = rng.uniform(0.0, 0.3) if k == 0 else rng.uniform(0.05, 0.9)
            delay = rng.uniform(0.0, 0.1) if progress else share * durations[name]
            outcome = _aim(attempt, name, delay, run, progress)
            if outcome in ("kill", "passed"):
                plan.popleft()
            if outcome == "passed" and name != order[-1]:  # the kill goes to the stage the run is in
                plan.appendleft((order[order.index(name) + 1], KILLS_PER_TARGET - 1))
            if outcome == "kill":
                at, left = _kill(attempt)
                out.landed.append((name, at))
                out.leaked |= left
                killed = True
        out.log += attempt.finish() + "\n"
        if not killed:
            assert attempt.proc.returncode == 0, out.log[-3000:]
            return out
        assert out.attempts < 80, "the run never completed"


def _normalize(value: object, base: str) -> object:
    """The value with kill-dependent fields dropped and this run's folder written as <base>."""
    if isinstance(value, dict):
        return {k: _normalize(v, base) for k, v in value.items() if k not in EXCLUDED}
    if isinstance(value, list):
        return [_normalize(v, base) for v in value]
    if isinstance(value, str):
        return value.replace(base, "<base>")
    return value


def _snapshot(base: Path) -> dict[str, object]:
    """Every file of the run folder: JSONL as its list of records, JSON as a value, others as
    bytes (OPAQUE ones only as present)."""
    run = base / "runs" / "t"
    out: dict[str, object] = {}
    for path in sorted(p for p in run.rglob("*") if p.is_file()):
        rel = str(path.relative_to(run))
        if path.suffix == ".jsonl":
            # In order: training rows are built in the order the records were written.
            out[rel] = [_normalize(json.loads(line), str(base)) for line in path.read_text().splitlines()]
        elif path.suffix == ".json":
            out[rel] = _normalize(json.loads(path.read_text()), str(base))
        elif path.suffix in OPAQUE:
            out[rel] = "present"
        else:
            out[rel] = path.read_bytes()
    return out


def _cache(base: Path) -> dict[str, object]:
    """The request cache's rows (generation times dropped), after SQLite's integrity check."""
    with sqlite3.connect(base / "cache.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute("SELECT key, value FROM generations").fetchall()
    return {key: _normalize(json.loads(value), str(base)) for key, value in rows}


@pytest.mark.slow
def test_killed_anywhere_a_run_loses_nothing(tmp_path: Path) -> None:
    started = time.monotonic()
    ref_config = _setup(tmp_path, tmp_path / "ref")
    reference = Attempt(ref_config, tmp_path / "ref" / "home")
    log = reference.finish()
    assert reference.proc.returncode == 0, log[-3000:]
    durations = _durations(reference)
    assert set(durations) == set(TARGETS), durations  # every target's line was printed

    base = tmp_path / "chaos"
    config = _setup(tmp_path, base)
    chaos = _chaos(config, base / "home", base / "runs" / "t", durations)
    kills = len(chaos.landed)
    within = {aimed for aimed, at in chaos.landed if aimed == at}
    print(f"chaos: {kills} kills in {chaos.attempts} attempts, {time.monotonic() - started:.0f} s; "
          f"landed in {sorted({at for _, at in chaos.landed if at})}")
    assert kills >= 20, chaos.landed
    assert within == set(TARGETS), f"no kill landed in {set(TARGETS) - within}: {chaos.landed}"
    assert not chaos.leaked, f"processes outlived the killed run: {chaos.leaked}"

    # The records, stats and models of the run that was killed are those of the one that was not.
    ref, got = _snapshot(tmp_path / "ref"), _snapshot(base)
    assert sorted(got) == sorted(ref), set(got) ^ set(ref)
    for rel in ref:
        assert got[rel] == ref[rel], f"{rel} differs from the uninterrupted run's"
    assert _cache(base) == _cache(tmp_path / "ref")  # no request lost, none answered twice

    # Training resumed from its last checkpoint, not from step 0, and logged every step once.
    for phase in ("sft", "dpo"):
        result = json.loads((base / "runs/t/cycle-1/train" / phase / "train-result.json").read_text())
        step = int(Path(result["resumed_from"]).name.split("-")[1])
        assert 0 < step < result["steps"], result["resumed_from"]
        logged = [h["step"] for h in result["log_history"] if "loss" in h]
        assert logged == list(range(1, result["steps"] + 1))
        assert re.search(rf"{phase.upper()} finished after {result['steps']} steps, resumed from "
                         rf"checkpoint-{step}", chaos.log)  # what the run said when it resumed
