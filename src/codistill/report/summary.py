"""The few lines a run ends with: did the student get better, how sure are we, whose data was it.

Built from the run folder alone (manifest + evaluation folders), so the report and `codistill
run` say the same thing, and a finished or interrupted run can be summarised again at any time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from codistill.report.run import by_cycle, load_manifest
from codistill.stages.stats import EvalStats, stats_of

# More than this share of training rows not written by the teacher is reported as a warning.
MAX_OTHER_SHARE = 0.2


@dataclass
class Step:
    """pass@1 of the student on one benchmark between two evaluations, with paired statistics."""

    benchmark: str
    cycle_a: int
    cycle_b: int
    pass1_a: float
    pass1_b: float
    tasks: int
    won: int
    lost: int
    p: float | None
    ci: tuple[float, float]

    def line(self) -> str:
        """One readable line."""
        p = "n/a (no task changed)" if self.p is None else f"{self.p:.3g}"
        return (f"{self.benchmark} pass@1 cycle {self.cycle_a} -> {self.cycle_b}: "
                f"{100 * self.pass1_a:.1f}% -> {100 * self.pass1_b:.1f}% on {self.tasks} tasks "
                f"({100 * (self.pass1_b - self.pass1_a):+.1f} pp; won {self.won}, lost {self.lost}; "
                f"Wilcoxon p {p}; 95% CI [{100 * self.ci[0]:+.1f}, {100 * self.ci[1]:+.1f}] pp)")


@dataclass
class DataShare:
    """Whose solutions one cycle trained on, and how often the teacher solved its questions."""

    cycle: int
    questions: int = 0
    teacher_solved: int = 0
    teacher_rows: int = 0
    other_rows: int = 0
    other_origins: dict[str, int] = field(default_factory=dict)

    @property
    def teacher_share(self) -> float:
        """Share of the kept correct solutions that the teacher wrote."""
        total = self.teacher_rows + self.other_rows
        return self.teacher_rows / total if total else 0.0

    def lines(self) -> list[str]:
        """The cycle's data lines, with a warning when the data is mostly not the teacher's."""
        rate = self.teacher_solved / self.questions if self.questions else 0.0
        out = [f"cycle {self.cycle} data: the teacher solved {self.teacher_solved}/{self.questions} "
               f"questions ({100 * rate:.0f}%); {self.teacher_rows} of "
               f"{self.teacher_rows + self.other_rows} training solutions are the teacher's "
               f"({100 * self.teacher_share:.0f}%)"]
        if self.teacher_rows + self.other_rows and 1 - self.teacher_share > MAX_OTHER_SHARE:
            origins = ", ".join(f"{k} {v}" for k, v in sorted(self.other_origins.items()))
            out.append(f"WARNING: cycle {self.cycle} trained mostly on data that is not the "
                       f"teacher's ({origins}): this is not distillation; set "
                       "teach.reference_fallback: false")
        return out


def data_share(cycle: int, teach_rows: list[dict[str, Any]]) -> DataShare:
    """Count the teach stage's records of one cycle (raw JSON rows of Taught)."""
    share = DataShare(cycle=cycle)
    for row in teach_rows:
        share.questions += 1
        correct = [s for s in row.get("solutions", []) if s.get("kind") == "correct"]
        share.teacher_solved += any(s.get("kept") and s.get("origin") == "teacher" for s in correct)
        if not row.get("kept"):
            continue
        used = next((s for s in correct if s.get("kept")), None)
        if used is None:
            continue
        if used.get("origin") == "teacher":
            share.teacher_rows += 1
        else:
            share.other_rows += 1
            origin = used.get("origin", "?")
            share.other_origins[origin] = share.other_origins.get(origin, 0) + 1
    return share


def _eval_dirs(root: Path, cycle: int, entry: dict[str, Any]) -> dict[str, Path]:
    stats = stats_of(entry, EvalStats)
    benches = stats.pass_at_k.keys() if stats else ()
    return {b: root / f"cycle-{cycle}" / "eval" / b.replace(":", "_") for b in benches}


def steps(root: Path) -> list[Step]:
    """Paired comparisons: each cycle against the one before, and the last against cycle 0."""
    from codistill.evaluate.compare import compare_results

    cycles = by_cycle(load_manifest(root))
    evals = {c: _eval_dirs(root, c, s["eval"]) for c, s in cycles.items()
             if s.get("eval", {}).get("status") == "done"}
    order = sorted(evals)
    pairs = list(zip(order, order[1:], strict=False))
    if len(order) > 2:
        pairs.append((order[0], order[-1]))
    out = []
    for a, b in pairs:
        for bench, dir_a in evals[a].items():
            dir_b = evals[b].get(bench)
            if dir_b is None or not (dir_a / "results.json").is_file() or not (
                    dir_b / "results.json").is_file():
                continue
            c = compare_results(dir_a, dir_b)
            out.append(Step(bench, a, b, c.pass1_a, c.pass1_b, c.tasks, c.wins, c.losses,
                            c.wilcoxon_p, (c.ci_low, c.ci_high)))
    return out


def data_shares(root: Path) -> list[DataShare]:
    """Whose data each finished teach stage produced."""
    from codistill.jsonl import iter_json

    shares = []
    for cycle in sorted(by_cycle(load_manifest(root))):
        path = root / f"cycle-{cycle}" / "teach.jsonl"
        if path.is_file():
            shares.append(data_share(cycle, [row for _, row in iter_json(path, skip_bad=True)]))
    return shares


def unisolated_samples(root: Path) -> int:
    """Evaluation samples of this run that ran without namespace isolation."""
    from codistill.evaluate.results import EvalResult

    return sum(EvalResult.load(path).unisolated for path in root.glob("cycle-*/eval/*/results.json"))


def summary_lines(root: str | Path) -> list[str]:
    """What a run prints when it ends: pass@1 before and after, paired statistics, data origin."""
    root = Path(root)
    lines = [s.line() for s in steps(root)]
    for share in data_shares(root):
        lines += share.lines()
    if unisolated := unisolated_samples(root):
        lines.append(f"WARNING: {unisolated} evaluation samples ran without namespace isolation "
                     "(sandbox.allow_unisolated or isolation none): a program could read the host")
    if skipped := not_decontaminated(root):
        lines.append("WARNING: training data not checked against " + "; ".join(
            f"{name} ({why})" for name, why in skipped.items()) + " (data.decontaminate_against)")
    return lines


def not_decontaminated(root: str | Path) -> dict[str, str]:
    """Benchmarks the run could not decontaminate against, with why (from decontamination.json)."""
    path = Path(root) / "decontamination.json"
    try:
        return dict(json.loads(path.read_text()).get("skipped") or {})
    except (OSError, ValueError, AttributeError):
        return {}


def print_summary(root: str | Path, console: Console) -> None:
    """Print the summary lines under a "result" heading, warnings in yellow."""
    lines = summary_lines(root)
    if lines:
        console.print("[bold]result[/]", highlight=False)
    for line in lines:
        style = "yellow" if line.startswith("WARNING") else "default"
        console.print(f"  {line}", style=style, highlight=False, soft_wrap=True)
