"""The whole gain experiment in one command: questions, answers, the untrained student, seeds, report.

    python bench/gain.py all [--pool 384 496 240] [--seeds 0 1 2] [--jobs 2]

Every step is one of gain.py's own phases, run as a child process with its own log under
OUT/logs/, `--jobs` at a time, each with its share of the cores, and a step that runs alone gets
every core. (Training the student on a 2-core Xeon: 20 s a step on one thread, 10 s on two, so two
one-thread seeds do the work of one two-thread seed; what decides is memory, about 11-13 GB a
seed.) Every phase resumes (request cache, appended question files, training checkpoints), so
rerunning the same command after a kill, or on the next machine after `restore`, redoes nothing
that is finished.
The experiment ends with the seeds' figures and their mean, paired with the untrained student.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

console = Console(stderr=True)
HERE = Path(__file__).resolve().parent
HEARTBEAT_S = 600  # how often a long stage says where each of its steps is


@dataclass(frozen=True)
class Step:
    """One phase of gain.py, run as a child process."""

    name: str
    argv: tuple[str, ...]


def _recipe_flags(args: argparse.Namespace) -> list[str]:
    """The training settings `all` was given, passed on unchanged to every seed's train phase."""
    return ["--arm", args.arm, "--rows", str(args.rows), "--lr", f"{args.lr:g}",
            "--epochs", f"{args.epochs:g}", "--batch", str(args.batch), "--accum", str(args.accum),
            "--answers", str(args.answers), "--sampled", str(args.sampled),
            "--freeze", str(args.freeze), "--student-dtype", args.student_dtype,
            "--on-policy", f"{args.on_policy:g}", "--max-completion", str(args.max_completion),
            "--ce", f"{args.ce:g}", "--dpo-lr", f"{args.dpo_lr:g}",
            "--docstrings" if args.docstrings else "--no-docstrings"]


def plan(args: argparse.Namespace) -> list[tuple[str, list[Step]]]:
    """The experiment's stages in order; the steps inside a stage are independent of each other."""
    out = ["--out", args.out, "--device", args.device]
    stages = [("questions", [Step(f"data-{s}", ("data", "--data-seed", str(s), "--slots", str(slots),
                                                "--chunk", str(args.chunk), *out))
                             for s, slots in enumerate(args.pool)])]
    # The untrained student's evaluation needs only the dev questions, so it runs beside the
    # teacher's extra answers.
    middle = [Step("base", ("base", "--student-dtype", args.student_dtype, *out))]
    if args.answers > 1:
        middle.insert(0, Step("answers", ("answers", "--answers", str(args.answers), *out)))
    stages.append(("answers and untrained student", middle))
    stages.append(("training seeds", [Step(f"train-seed{s}", ("train", "--seed", str(s), *_recipe_flags(args),
                                                              *out))
                                      for s in args.seeds]))
    return stages


def _tail(log: Path, lines: int = 1) -> str:
    """The last non-empty lines of a log (what a step said last)."""
    if not log.is_file():
        return ""
    text = log.read_text(errors="replace").replace("\r", "\n")
    return "\n".join([line for line in text.splitlines() if line.strip()][-lines:])


def run_steps(steps: list[Step], jobs: int, logs: Path, cores: int | None = None,
              script: Path = HERE / "gain.py", poll_s: float = 2.0) -> dict[str, float]:
    """Run the steps, `jobs` at a time, each with its share of the cores; seconds per step.

    A failed step stops the others (they resume on the next run) and ends the experiment with
    the step's log and its last lines, so the error is on screen, not only in a file.
    """
    logs.mkdir(parents=True, exist_ok=True)
    cores = cores or os.cpu_count() or 1
    pending, running, seconds = list(steps), {}, {}
    last_beat = time.monotonic()
    try:
        while pending or running:
            while pending and len(running) < jobs:
                step = pending.pop(0)
                # A step's share of the cores counts the steps it will run beside (a seed whose
                # model is already trained ends in a minute; the last one left gets every core).
                threads = max(1, cores // min(jobs, len(pending) + len(running) + 1))
                log = logs / f"{step.name}.log"
                env = os.environ | {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
                with log.open("a") as fh:
                    proc = subprocess.Popen([sys.executable, str(script), *step.argv], stdout=fh,
                                            stderr=subprocess.STDOUT, env=env)
                running[step.name] = (proc, time.monotonic(), log)
                console.print(f"  {step.name}: started, {threads} thread(s), log {log}", highlight=False)
            time.sleep(poll_s)
            for name, (proc, started, log) in list(running.items()):
                if proc.poll() is None:
                    continue
                del running[name]
                seconds[name] = round(time.monotonic() - started)
                if proc.returncode != 0:
                    raise SystemExit(f"{name} failed (exit {proc.returncode}); its log {log} ends:\n"
                                     f"{_tail(log, 12)}\nfix that and rerun the same command: "
                                     "finished work is kept")
                console.print(f"  {name}: done in {seconds[name]} s", highlight=False)
            if running and time.monotonic() - last_beat > HEARTBEAT_S:
                last_beat = time.monotonic()
                for name, (_, started, log) in running.items():
                    console.print(f"  {name} ({time.monotonic() - started:.0f} s): {_tail(log)[-100:]}",
                                  highlight=False)
    finally:
        for proc, _, _ in running.values():  # a failure or Ctrl-C: no orphan keeps a core busy
            proc.terminate()
            proc.wait()
    return seconds


def phase_all(args: argparse.Namespace, tag_of) -> None:
    """Run every stage in order, then print the seeds' results and their mean (paired)."""
    out = Path(args.out)
    record = out / "experiment.json"
    timings: dict[str, dict[str, float]] = {}
    for title, steps in plan(args):
        console.print(f"[bold]{title}[/]: {', '.join(s.name for s in steps)}", highlight=False)
        started = time.perf_counter()
        timings[title] = run_steps(steps, args.jobs, out / "logs") | {
            "wall": round(time.perf_counter() - started)}
        record.write_text(json.dumps({"argv": sys.argv[1:], "seconds": timings}, indent=1))
    tags = [tag_of(argparse.Namespace(**vars(args) | {"seed": s})) for s in args.seeds]
    console.print(summary_lines(out, tags, timings), highlight=False)


def summary_lines(out: Path, tags: list[str], timings: dict[str, dict[str, float]]) -> str:
    """The experiment's result in a few lines: each seed, their mean paired with the untrained student."""
    from gain_report import base_folder

    from codistill.evaluate.compare import compare_results
    from codistill.evaluate.results import EvalResult, pool_results

    runs = [json.loads((out / "results" / f"{tag}.json").read_text()) for tag in tags]
    he = [r["humaneval"] for r in runs]
    lines = [f"[bold]{tags[0].rsplit('-seed', 1)[0]}[/]: {runs[0]['sft_rows']} rows on "
             f"{runs[0]['questions']} teacher questions, {len(tags)} seed(s)"]
    lines += [f"  seed {r['seed']}: HumanEval {h['before'] * h['tasks']:.0f} -> {h['after'] * h['tasks']:.0f}"
              f"/{h['tasks']} "
              f"(won {h['won']}, lost {h['lost']}, p {h['p']:.3g}); dev {r['dev']['before'] * r['dev']['tasks']:.0f}"
              f" -> {r['dev']['after'] * r['dev']['tasks']:.0f}/{r['dev']['tasks']}" for r, h in zip(runs, he, strict=True)]
    if len(tags) > 1:
        base = EvalResult.load(out / "eval" / base_folder(runs[0]["student_dtype"]) / "humaneval")
        pooled = pool_results([EvalResult.load(out / "eval" / t / "humaneval") for t in tags], "mean")
        c = compare_results(base, pooled)
        lines.append(f"  mean: HumanEval {c.pass1_a * c.tasks:.0f} -> {c.pass1_b * c.tasks:.1f}/{c.tasks} "
                     f"(won {c.wins}, "
                     f"lost {c.losses}, Wilcoxon p {c.wilcoxon_p or 1:.3g}, 95% CI "
                     f"[{c.ci_low * 100:+.1f}, {c.ci_high * 100:+.1f}] pp)")
    lines.append("  wall s per stage: " + ", ".join(f"{k} {v['wall']}" for k, v in timings.items()))
    return "\n".join(lines)
