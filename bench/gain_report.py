"""The gain benchmark's report: every train run in one table, what the answers did, the scaling curve."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from rich.console import Console

from codistill.jsonl import iter_json

console = Console(stderr=True)


# What a failed answer did, from its sandbox status: the form (does not compile, crashes, runs
# into a limit) or the logic (runs and returns a wrong value).
KINDS = {"passed": "passed", "failed": "wrong value", "compile_error": "does not compile",
         "runtime_error": "crashes", "timeout": "limit", "memory_exceeded": "limit",
         "output_exceeded": "limit"}


def failure_kinds(samples: Path) -> dict[str, int]:
    """How many HumanEval answers in one samples file passed, returned a wrong value, crashed..."""
    counts = dict.fromkeys(dict.fromkeys(KINDS.values()), 0)
    for _, row in iter_json(samples, skip_bad=True):
        kind = KINDS.get(row.get("status", ""), "other")
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def base_folder(dtype: str) -> str:
    """The untrained student's evaluation folder for the dtype it answered in."""
    return "base" if dtype == "bfloat16" else f"base-{dtype}"


def recipe(r: dict) -> str:
    """One training recipe: the run's tag without its data (rows, answers, sampled) and seed (one curve)."""
    # The tag names every setting (KD's cross-entropy and on-policy share, docstrings, dtype).
    return re.sub(r"-rows\d+|-ans\d+|-sampled\d+|-seed\d+(\.session\d+)?", "", r["file"][:-5])


def _remembered(record: Path, rows: dict[str, str]) -> list[str]:
    """`rows` (key -> table row) merged into the rows `record` kept from earlier reports; saved back.

    A row needs its run's scored answers, and older runs' answers are not all kept (the store
    holds recent ones): their rows come from the record the report wrote while it had them.
    """
    kept = json.loads(record.read_text()) if record.is_file() else {}
    kept |= rows
    record.write_text(json.dumps(kept, indent=1, sort_keys=True) + "\n")
    return [kept[key] for key in sorted(kept)]


def _seed_means(runs: list[dict], out: Path, folder: Path) -> list[str]:
    """Rows for each recipe and data size trained with several seeds: the mean over seeds, paired.

    Each task's pass rate is its mean over the seeds, compared with the untrained student, so
    the p-value and CI are those of the mean, not of one lucky seed. Groups whose answers are
    gone keep the row an earlier report computed (folder/means.json).
    """
    from codistill.evaluate.compare import compare_results
    from codistill.evaluate.results import EvalResult, pool_results

    groups: dict[tuple[str, int], list[dict]] = {}
    for r in runs:
        groups.setdefault((recipe(r), r["sft_rows"]), []).append(r)
    lines = {}
    for (name, rows), mine in sorted(groups.items()):
        folders = [out / "eval" / r["file"][:-5] / "humaneval" for r in mine]
        if len(mine) < 2 or not all((f / "results.json").is_file() for f in folders):
            continue
        base = EvalResult.load(out / "eval" / base_folder(mine[0].get("student_dtype", "bfloat16")) / "humaneval")
        c = compare_results(base, pool_results([EvalResult.load(f) for f in folders], f"{name} mean"))
        each = ", ".join(f"{r['humaneval']['after'] * r['humaneval']['tasks']:.0f}" for r in mine)
        dev = [r.get("dev") or {} for r in mine]
        dev_after = sum(d.get("after", 0) * d.get("tasks", 0) for d in dev) / len(dev)
        lines[f"{name} {rows:06d} {len(mine)}"] = (
            f"| {name} | {rows} | {len(mine)} | {c.pass1_a * c.tasks:.0f} -> {c.pass1_b * c.tasks:.1f}"
            f" ({each}) | {c.wins} / {c.losses} | {c.wilcoxon_p or 1:.3f} "
            f"| [{c.ci_low * 100:+.1f}, {c.ci_high * 100:+.1f}] "
            f"| {dev[0].get('before', 0) * dev[0].get('tasks', 0):.0f} -> {dev_after:.1f}"
            f" of {dev[0].get('tasks', 0)} |")
    rows = _remembered(folder / "means.json", lines)
    head = ["| recipe | rows | seeds | HumanEval before -> after (mean; each) | won / lost | p | 95% CI (pp) "
            "| dev before -> after (mean) |", "|---|---|---|---|---|---|---|---|"]
    return head + rows if rows else []


def passed_tasks(samples: Path) -> set[str]:
    """The tasks whose answer passed, in one samples file."""
    return {row["task_id"] for _, row in iter_json(samples, skip_bad=True) if row.get("status") == "passed"}


def _failure_table(runs: list[dict], out: Path, folder: Path) -> list[str]:
    """Rows of what the answers did before and after each run, and how they sit with the teacher's.

    Built from each run's samples while they are kept; earlier rows come from folder/answers.json.
    """
    kinds = list(dict.fromkeys(KINDS.values()))
    teacher_file = out / "eval" / "teacher-greedy" / "humaneval" / "samples.jsonl"
    teacher = passed_tasks(teacher_file) if teacher_file.is_file() else None
    befores = [(f"before training ({dtype})", out / "eval" / base_folder(dtype) / "humaneval" / "samples.jsonl")
               for dtype in sorted({r.get("student_dtype", "bfloat16") for r in runs})]
    lines = {}
    for name, path in befores + [
            (r["file"][:-5], out / "eval" / r["file"][:-5] / "humaneval" / "samples.jsonl") for r in runs]:
        if path.is_file():
            counts, passed = failure_kinds(path), passed_tasks(path)
            # Whether the student learns beyond its teacher, and how much of the teacher it still misses.
            versus = ([f"{len(passed & teacher)} of {len(passed)}", str(len(teacher - passed))]
                      if teacher is not None else ["-", "-"])
            lines[name] = f"| {name} | " + " | ".join([*(str(counts[k]) for k in kinds), *versus]) + " |"
    rows = _remembered(folder / "answers.json", lines)
    head = ["| run | " + " | ".join(kinds) + " | passed the teacher passes too | the teacher's passes "
            "still failed |", "|---|" + "---|" * (len(kinds) + 2)]
    return head + rows if rows else []


def phase_report(args: argparse.Namespace) -> None:
    """One table of every train run's figures, and the data-scaling curve (rows -> pass@1) per arm."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    folder = Path(args.results or Path(args.out) / "results")
    found = (json.loads(p.read_text()) | {"file": p.name} for p in folder.glob("*.json"))
    # Dev-only runs choose settings and unfinished ones have no result: neither is a point here.
    runs = sorted((r for r in found if "humaneval" in r), key=lambda r: (r["arm"], r["sft_rows"], r["seed"]))
    if not runs:
        raise SystemExit(f"no train results with HumanEval figures in {folder}")
    lines = ["| run | rows | HumanEval before -> after | won / lost | p | 95% CI (pp) | dev before -> after |",
             "|---|---|---|---|---|---|---|"]
    for r in runs:
        h, d = r["humaneval"], r.get("dev") or {}
        lines.append(f"| {r['file'][:-5]} | {r['sft_rows']} | {h['before'] * h['tasks']:.0f} -> {h['after'] * h['tasks']:.0f} "
                     f"| {h['won']} / {h['lost']} | {h['p']:.2f} | [{h['ci'][0] * 100:+.1f}, {h['ci'][1] * 100:+.1f}] "
                     f"| {d.get('before', 0) * d.get('tasks', 0):.0f} -> {d.get('after', 0) * d.get('tasks', 0):.0f}"
                     f" of {d.get('tasks', 0)} |")
    means = _seed_means(runs, Path(args.out), folder)
    if means:  # the bar is on the mean over training seeds
        lines += ["", "Mean over training seeds (each task's pass rate averaged over the seeds, paired "
                  "with the untrained student):", "", *means]
    failures = _failure_table(runs, Path(args.out), folder)
    if failures:  # what the student still gets wrong: form (compile, crash) or logic (wrong value)
        lines += ["", "HumanEval answers by what they did (164 each):", "", *failures]
    (folder / "summary.md").write_text("\n".join(lines) + "\n")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    base = runs[0]["humaneval"]["before"]
    for name in sorted({recipe(r) for r in runs}):
        mine = [r for r in runs if recipe(r) == name]
        xs = sorted({r["sft_rows"] for r in mine})
        mean = [sum(r["humaneval"]["after"] for r in mine if r["sft_rows"] == x) * 100
                / sum(r["sft_rows"] == x for r in mine) for x in xs]
        line, = axes[0].plot([0, *xs], [base * 100, *mean], "-", label=name)
        axes[0].plot([r["sft_rows"] for r in mine], [r["humaneval"]["after"] * 100 for r in mine], "o",
                     color=line.get_color())
        axes[1].plot([r["sft_rows"] for r in mine], [r.get("dev", {}).get("after", 0) * 100 for r in mine],
                     "o", color=line.get_color(), label=name)
    axes[0].set(xlabel="training rows (teacher answers)", ylabel="HumanEval pass@1 (%), all 164",
                title="data scaling (0 = the untrained student)")
    axes[1].set(xlabel="training rows", ylabel="dev pass@1 (%)",
                title="held-out dev questions (the set grows with the data)")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(folder / "curve.png", dpi=110)
    console.print("\n".join(lines), highlight=False)
    console.print(f"wrote {folder / 'summary.md'} and {folder / 'curve.png'}", highlight=False)
