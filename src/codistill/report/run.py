"""The run report of `codistill run`: one HTML page with plots, rebuilt from the run folder alone.

Everything comes from manifest.json (stage stats) and the stage files, so `codistill report RUN`
can rebuild it at any time, also for a run that is still going or was interrupted.
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from typing import Any

from codistill.jsonl import write_text_atomic
from codistill.report.html import image, page, pyplot, save, table
from codistill.stages.stats import (
    CurriculumStats,
    EvalStats,
    ExamineStats,
    QuestionStats,
    ScorerStats,
    StageStats,
    TeachStats,
    TrainStats,
    stats_of,
)

STAGE_ORDER = ("questions", "eval", "teach", "train", "examine", "curriculum")
STATS: dict[str, type[StageStats]] = {
    "questions": QuestionStats, "eval": EvalStats, "teach": TeachStats, "train": TrainStats,
    "examine": ExamineStats, "scorer": ScorerStats, "curriculum": CurriculumStats}


def load_manifest(root: Path) -> dict[str, Any]:
    """The run's manifest; a clear error when the folder is not a run."""
    path = root / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{root} is not a codistill run folder (no manifest.json)")
    return json.loads(path.read_text())


def by_cycle(manifest: dict[str, Any]) -> dict[int, dict[str, dict[str, Any]]]:
    """{cycle: {stage name: manifest entry}} for the per-cycle stages."""
    out: dict[int, dict[str, dict[str, Any]]] = {}
    for key, entry in manifest.get("stages", {}).items():
        m = re.fullmatch(r"cycle-(\d+)/(\w+)", key)
        if m:
            out.setdefault(int(m.group(1)), {})[m.group(2)] = entry
    return dict(sorted(out.items()))


def pass_curve(cycles: dict[int, dict[str, dict[str, Any]]],
               k: int = 1) -> dict[str, list[tuple[int, float]]]:
    """pass@k per benchmark over cycles (cycle 0 = before training)."""
    curves: dict[str, list[tuple[int, float]]] = {}
    for cycle, stages in cycles.items():
        if (stats := stats_of(stages.get("eval", {}), EvalStats)) is None:
            continue
        for bench, scores in stats.pass_at_k.items():
            if f"pass@{k}" in scores:
                curves.setdefault(bench, []).append((cycle, scores[f"pass@{k}"]))
    return curves


def _plot_pass(curves: dict[str, list[tuple[int, float]]], path: Path) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for bench, points in curves.items():
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, [100 * y for y in ys], marker="o", label=bench)
        for x, y in points:
            ax.annotate(f"{100 * y:.1f}", (x, 100 * y), textcoords="offset points", xytext=(0, 6),
                        ha="center", fontsize=8)
    ax.set_xlabel("cycle (0 = before training)")
    ax.set_ylabel("pass@1 (%)")
    ax.set_xticks(sorted({x for pts in curves.values() for x, _ in pts}))
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("Student pass@1 per cycle")
    return save(fig, path)


def _plot_buckets(cycles: dict[int, dict[str, dict[str, Any]]], path: Path) -> Path | None:
    found = [(c, stats_of(s.get("curriculum", {}), CurriculumStats)) for c, s in cycles.items()]
    rows = [(c, stats.bucket_sizes) for c, stats in found if stats is not None and stats.bucket_sizes]
    if not rows:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    bottom = [0] * len(rows)
    for name, color in (("easy", "#4caf50"), ("medium", "#ffb300"), ("hard", "#e53935"),
                        ("excluded", "#9e9e9e")):
        values = [b.get(name, 0) for _, b in rows]
        if any(values):
            ax.bar([str(c) for c, _ in rows], values, bottom=bottom, label=name, color=color)
            bottom = [x + y for x, y in zip(bottom, values, strict=True)]
    ax.set_xlabel("cycle")
    ax.set_ylabel("questions")
    ax.set_title("Difficulty buckets after examining the student")
    ax.legend()
    return save(fig, path)


def _plot_faults(cycles: dict[int, dict[str, dict[str, Any]]], path: Path) -> Path | None:
    totals: dict[str, int] = {}
    for stages in cycles.values():
        teach = stats_of(stages.get("teach", {}), TeachStats)
        for fault, n in (teach.fault_types if teach else {}).items():
            totals[fault] = totals.get(fault, 0) + n
    matrix = fault_matrix(cycles)
    if not totals and not matrix:
        return None
    plt = pyplot()
    fig, axes = plt.subplots(1, 2 if matrix else 1, figsize=(11 if matrix else 6.5, 3.2), squeeze=False)
    axes[0][0].bar(list(totals), list(totals.values()), color="#5c6bc0")
    axes[0][0].set_ylabel("verified faulty solutions")
    axes[0][0].set_title("Fault types kept (teacher-written and AST mutations)", fontsize=9)
    if matrix:
        asked = sorted(matrix)
        seen = sorted({o for row in matrix.values() for o in row})
        grid = [[matrix[a].get(o, 0) for o in seen] for a in asked]
        ax = axes[0][1]
        ax.imshow(grid, cmap="Blues")
        ax.set_xticks(range(len(seen)), seen, rotation=30)
        ax.set_yticks(range(len(asked)), asked)
        for i, row in enumerate(grid):
            for j, n in enumerate(row):
                ax.text(j, i, str(n), ha="center", va="center", fontsize=8)
        ax.set_xlabel("observed in the sandbox")
        ax.set_ylabel("asked of the teacher")
        ax.set_title("Teacher's faults: asked vs observed", fontsize=9)
    return save(fig, path)


def fault_matrix(cycles: dict[int, dict[str, dict[str, Any]]]) -> dict[str, dict[str, int]]:
    """Requested fault class -> observed class -> count, summed over cycles."""
    total: dict[str, dict[str, int]] = {}
    for stages in cycles.values():
        teach = stats_of(stages.get("teach", {}), TeachStats)
        for asked, row in (teach.fault_matrix if teach else {}).items():
            for seen, n in row.items():
                total.setdefault(asked, {})[seen] = total.setdefault(asked, {}).get(seen, 0) + n
    return total


def _plot_time(manifest: dict[str, Any], path: Path) -> Path | None:
    found = [(k, stats_of(e, StageStats, loose=True)) for k, e in manifest.get("stages", {}).items()]
    entries = [(k, stats.seconds) for k, stats in found if stats is not None and stats.seconds]
    if not entries:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 0.35 * len(entries) + 1.2))
    ax.barh([k for k, _ in entries][::-1], [s / 60 for _, s in entries][::-1], color="#26a69a")
    ax.set_xlabel("minutes")
    ax.set_title("Wall time per stage")
    return save(fig, path)


def _counts_rows(cycles: dict[int, dict[str, dict[str, Any]]]) -> list[list[Any]]:
    rows = []
    for cycle, stages in cycles.items():
        for name in STAGE_ORDER:
            stats = stats_of(stages.get(name, {}), STATS[name]) if name in STATS else None
            counts: dict[str, int] = getattr(stats, "counts", {})
            rows += [[f"cycle {cycle}", name, key, value] for key, value in sorted(counts.items())]
    return rows


def _stage_rows(manifest: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for key, entry in manifest.get("stages", {}).items():
        kind = STATS.get(key.rsplit("/", 1)[-1], StageStats)
        stats = stats_of(entry, kind, loose=kind is StageStats)
        tokens = getattr(stats, "teacher_tokens", getattr(stats, "student_tokens", None))
        cache = stats.cache if stats is not None else None
        rows.append([key, entry.get("status"), stats.seconds if stats else None, tokens,
                     cache.hits if cache else None, cache.misses if cache else None])
    return rows


def _scorer_rows(cycles: dict[int, dict[str, dict[str, Any]]]) -> list[list[Any]]:
    """The scoring model's check against the judge on held-out annotations, and whether it grades."""
    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.0f}%"

    rows = []
    for cycle, stages in cycles.items():
        if (stats := stats_of(stages.get("scorer", {}), ScorerStats)) is None:
            continue
        check = stats.validation
        rows.append([f"cycle {cycle}", stats.trained_on, check.annotations, pct(check.within_one),
                     pct(check.exact), "n/a" if check.mae is None else f"{check.mae:.2f}",
                     check.annotations - check.parsed,
                     "yes" if stats.used else "no: the judge keeps grading"])
    return rows


def _view_rows(cycles: dict[int, dict[str, dict[str, Any]]]) -> list[list[Any]]:
    """Per cycle: how often the judge's grade and the tests agree on the student's answers."""
    rows = []
    for cycle, stages in cycles.items():
        stats = stats_of(stages.get("examine", {}), ExamineStats)
        views = stats.views if stats else None
        if views and views.compared and views.agreement is not None:
            rows.append([f"cycle {cycle}", views.compared, views.agree,
                         f"{100 * views.agreement:.0f}%", "yes" if views.judge_saw_verdict else "no"])
    return rows


def _train_rows(cycles: dict[int, dict[str, dict[str, Any]]]) -> list[list[Any]]:
    rows = []
    for cycle, stages in cycles.items():
        if (stats := stats_of(stages.get("train", {}), TrainStats)) is None:
            continue
        for kind in ("sft", "kd", "dpo"):
            if (run := getattr(stats, kind)) is not None:
                # logit distillation trains on the SFT rows
                rows.append([f"cycle {cycle}", kind, stats.dpo_rows if kind == "dpo" else stats.sft_rows,
                             run.steps, run.loss, run.seconds])
    return rows


def build_report(root: str | Path) -> Path:
    """Write <run>/report.html (and its PNGs under <run>/report/); return the HTML path."""
    root = Path(root)
    manifest = load_manifest(root)
    cycles = by_cycle(manifest)
    figs = root / "report"
    sections: list[tuple[str, str]] = []
    from codistill.report.summary import summary_lines  # it reads the manifest through this module

    if result := summary_lines(root):
        sections.append(("Result", "<ul>" + "".join(
            f"<li{' class=warn' if line.startswith('WARNING') else ''}>{escape(line)}</li>"
            for line in result) + "</ul>"))
    curves = pass_curve(cycles)
    if curves:
        rows = [[f"{bench} pass@1"] + [f"{100 * v:.1f}%" for _, v in pts] for bench, pts in curves.items()]
        # pass@10 (eval.n >= 10: from sampled answers, pass@1 staying greedy), under pass@1
        rows += [[f"{bench} pass@10"] + [f"{100 * v:.1f}%" for _, v in pts]
                 for bench, pts in pass_curve(cycles, 10).items()]
        longest = max(curves.values(), key=len)
        body = image(_plot_pass(curves, figs / "pass1.png"), "pass@1 per cycle")
        body += table(["benchmark"] + [f"cycle {c}" for c, _ in longest], rows)
        sections.append(("pass@1 (greedy) and pass@10 per cycle", body))
    for title, plot, name in (("Difficulty buckets", _plot_buckets, "buckets.png"),
                              ("Fault types", _plot_faults, "faults.png")):
        made = plot(cycles, figs / name)
        if made:
            sections.append((title, image(made, title)))
    sections.append(("Kept and dropped at every filter",
                     table(["cycle", "stage", "count", "n"], _counts_rows(cycles))))
    if scorer := _scorer_rows(cycles):
        sections.append(("Scoring model (SODA's model-based view)", table(
            ["cycle", "trained on", "held out", "within one point", "exact", "MAE", "unreadable",
             "grades the next cycles"], scorer)))
    if views := _view_rows(cycles):
        sections.append(("Execution and the judge: two views", table(
            ["cycle", "answers run and graded", "views agree", "agreement", "judge saw the verdict"],
            views)))
    if train := _train_rows(cycles):
        sections.append(("Training", table(["cycle", "phase", "rows", "steps", "loss", "seconds"],
                                           train)))
    timing = _plot_time(manifest, figs / "time.png")
    body = (image(timing, "time per stage") if timing else "") + table(
        ["stage", "status", "seconds", "model tokens", "cache hits", "cache misses"], _stage_rows(manifest))
    sections.append(("Time and tokens per stage", body))
    config = manifest.get("config", {})
    models = config.get("models", {})
    subtitle = (f"teacher {models.get('teacher')} · student {models.get('student')} · "
                f"{config.get('cycles')} cycle(s) · strategy "
                f"{config.get('curriculum', {}).get('strategy')}")
    out = root / "report.html"
    # Atomic: a run killed while writing it keeps the previous report whole.
    return write_text_atomic(out, page(f"codistill run: {config.get('name', root.name)}", sections,
                                       subtitle))
