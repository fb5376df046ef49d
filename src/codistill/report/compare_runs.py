"""Several runs side by side (e.g. SODA vs AKD on the same seeds and budget): pass@1 curves,
teacher budget spent, and paired statistics on each run's final evaluation against the first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codistill.report.html import image, page, pyplot, save, table
from codistill.report.run import STATS, by_cycle, load_manifest, pass_curve
from codistill.stages.stats import StageStats, stats_of


def final_results(root: Path) -> dict[str, Path]:
    """The results.json of each benchmark in a run's last finished evaluation."""
    cycles = by_cycle(load_manifest(root))
    for cycle in sorted(cycles, reverse=True):
        entry = cycles[cycle].get("eval")
        if entry and entry.get("status") == "done":
            folder = root / f"cycle-{cycle}" / "eval"
            return {p.parent.name: p for p in sorted(folder.glob("*/results.json"))}
    return {}


def _budget(manifest: dict[str, Any]) -> dict[str, float]:
    tokens = seconds = 0.0
    for key, entry in manifest.get("stages", {}).items():
        kind = STATS.get(key.rsplit("/", 1)[-1], StageStats)
        if (stats := stats_of(entry, kind, loose=kind is StageStats)) is None:
            continue
        tokens += getattr(stats, "teacher_tokens", 0)
        seconds += stats.seconds
    return {"teacher_tokens": tokens, "seconds": seconds}


def _plot(curves: dict[str, dict[str, list[tuple[int, float]]]], path: Path) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for run, by_bench in curves.items():
        for bench, points in by_bench.items():
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, [100 * y for y in ys], marker="o", label=f"{run} · {bench}")
    ax.set_xlabel("cycle (0 = before training)")
    ax.set_ylabel("pass@1 (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Student pass@1 per cycle, by run")
    return save(fig, path)


def build_comparison(roots: list[str | Path], out: str | Path) -> Path:
    """Write a comparison page for `roots` (the first is the baseline); return its path."""
    from codistill.evaluate.compare import compare_results

    roots = [Path(r) for r in roots]
    out = Path(out)
    manifests = {r.name: load_manifest(r) for r in roots}
    curves = {name: pass_curve(by_cycle(m)) for name, m in manifests.items()}
    rows = []
    for name, m in manifests.items():
        config = m.get("config", {})
        budget = _budget(m)
        last = {b: pts[-1][1] for b, pts in curves[name].items() if pts}
        rows.append([name, config.get("curriculum", {}).get("strategy"), config.get("cycles"),
                     int(budget["teacher_tokens"]), round(budget["seconds"] / 60, 1),
                     ", ".join(f"{b} {100 * v:.1f}%" for b, v in last.items())])
    sections = [("Runs", table(["run", "strategy", "cycles", "teacher tokens", "minutes",
                                "final pass@1"], rows))]
    if any(curves.values()):
        sections.append(("pass@1 per cycle", image(_plot(curves, out.with_suffix(".png")),
                                                   "pass@1 per cycle")))
    base = final_results(roots[0])
    stats_rows = []
    for root in roots[1:]:
        for bench, path in final_results(root).items():
            if bench in base:
                c = compare_results(base[bench], path)
                stats_rows.append([f"{root.name} vs {roots[0].name}", bench, c.tasks,
                                   f"{100 * c.mean_diff:+.1f} pp",
                                   f"[{100 * c.ci_low:+.1f}, {100 * c.ci_high:+.1f}]",
                                   "n/a" if c.wilcoxon_p is None else f"{c.wilcoxon_p:.3g}",
                                   f"{c.wins}/{c.losses}/{c.ties}"])
    if stats_rows:
        sections.append(("Final evaluation, paired by task", table(
            ["comparison", "benchmark", "tasks", "difference", "95% CI", "Wilcoxon p",
             "better/worse/same"], stats_rows)))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page("codistill: runs compared", sections,
                        " vs ".join(r.name for r in roots)))
    return out
