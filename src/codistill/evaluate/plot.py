"""A PNG bar chart of pass@1 per benchmark/language (and per model), for the terminal user and the run report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from codistill.evaluate.results import EvalResult


def plot_pass1(results: Sequence[EvalResult], path: str | Path, title: str = "pass@1") -> Path:
    """Grouped bars: one group per benchmark (language in the label), one bar per model."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    if not results:
        raise ValueError("nothing to plot: no results")
    groups = list(dict.fromkeys(_label(r) for r in results))
    models = list(dict.fromkeys(r.model for r in results))
    value = {(_label(r), r.model): 100 * r.pass1 for r in results}
    width = 0.8 / len(models)
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(groups) * max(1, len(models)) + 1.5), 3.8))
    for i, model in enumerate(models):
        xs = [g + (i - (len(models) - 1) / 2) * width for g in range(len(groups))]
        heights = [value.get((g, model), 0.0) for g in groups]
        ax.bar(xs, heights, width * 0.95, label=model)
        for x, h, g in zip(xs, heights, groups, strict=True):
            if (g, model) in value:
                ax.annotate(f"{h:.1f}", (x, h), ha="center", va="bottom", fontsize=8,
                            xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(range(len(groups)))
    crowded = len(groups) > 4
    ax.set_xticklabels(groups, rotation=20 if crowded else 0, ha="right" if crowded else "center")
    ax.set_ylabel("pass@1 (%)")
    ax.set_ylim(0, 105)
    ax.set_title(title)
    if len(models) > 1:
        ax.legend(fontsize=8, loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def _label(result: EvalResult) -> str:
    name = result.benchmark if len(result.benchmark) <= 28 else "..." + result.benchmark[-25:]
    if result.language and result.language not in name and result.language != "mixed":
        return f"{name}\n({result.language})"
    return name
