"""The co-evolution report: runs/<name>/coevolve/report.html with PNG plots, from the manifest alone.

Plots: both models' reward per GRPO step; the Test model's validity and attack rate per step;
the Mistake Book's size (and the blacklist) per round; the Code model's pass@1 before and after.
"""

from __future__ import annotations

import html
import json
import re
from itertools import zip_longest
from pathlib import Path
from typing import Any

from codistill.stages.stats import CheckStats, EvalStats, PhaseStats, stats_of

_PHASE = re.compile(r"^round-(\d+)/(code|tests)$")


def collect(root: Path) -> dict[str, Any]:
    """Curves, per-round figures and evaluations from a co-evolution folder's manifest."""
    path = Path(root) / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run `codistill coevolve --config ...` first")
    stages = json.loads(path.read_text()).get("stages", {})
    code, tests, evals = [], [], {}
    rounds: dict[int, dict[str, Any]] = {}
    seconds = 0.0
    for key, entry in stages.items():
        if match := _PHASE.match(key):
            if (phase := stats_of(entry, PhaseStats)) is None:
                continue
            (code if match.group(2) == "code" else tests).extend(phase.curve)
            row = rounds.setdefault(int(match.group(1)), {"round": int(match.group(1)), "seconds": 0.0})
            row.update(book_size=phase.book_size, blacklisted=phase.blacklisted)
            row["seconds"] += phase.seconds
            seconds += phase.seconds
        elif key.startswith("eval/") and (found := stats_of(entry, EvalStats)) is not None:
            evals[key.split("/", 1)[1]] = found
    check = stats_of(stages.get("check", {}), CheckStats)
    return {"code": code, "tests": tests, "rounds": [rounds[r] for r in sorted(rounds)], "evals": evals,
            "check": check.model_dump() if check else {}, "seconds": round(seconds, 1)}


def _plt():  # noqa: ANN202 - the pyplot module
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path, *, integer_x: bool = True) -> Path:
    from matplotlib.ticker import MaxNLocator

    for ax in fig.axes if integer_x else ():
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps and rounds are whole numbers
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path


def plot_rewards(data: dict[str, Any], path: Path) -> Path:
    """Code reward and Test reward per GRPO step of each model."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for name, curve, style in (("Code model", data["code"], "o-"), ("Test model", data["tests"], "s-")):
        if curve:
            ax.plot([p["step"] for p in curve], [p["reward"] for p in curve], style, label=name, markersize=3)
    ax.set_xlabel("GRPO step (of each model)")
    ax.set_ylabel("mean reward")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("rewards")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_attack(data: dict[str, Any], path: Path) -> Path:
    """The Test model's validity and attack rate per step."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    steps = [p["step"] for p in data["tests"]]
    for key, style, label in (("validity", "o-", "validity (valid share of tests, none parsed = 0)"),
                              ("attack_rate", "s-", "attack rate"), ("parsed", "^--", "answers with a parseable test")):
        if any(key in p for p in data["tests"]):
            ax.plot(steps, [p.get(key, 0.0) for p in data["tests"]], style, label=label, markersize=3)
    ax.set_xlabel("Test model GRPO step")
    ax.set_ylabel("share")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("generated tests: validity and attack rate")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_book(data: dict[str, Any], path: Path) -> Path:
    """Mistake Book size and blacklisted questions after each round."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    rounds = [r["round"] for r in data["rounds"]]
    ax.plot(rounds, [r["book_size"] for r in data["rounds"]], "o-", label="tests in the Mistake Book")
    ax.plot(rounds, [r["blacklisted"] for r in data["rounds"]], "s--", label="blacklisted questions")
    ax.set_xlabel("round")
    ax.set_ylabel("count")
    ax.set_title("Mistake Book")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def pass_table(evals: dict[str, EvalStats]) -> list[dict[str, Any]]:
    """One row per benchmark: pass@1 before and after (None where not measured)."""
    benches = list(dict.fromkeys(b for e in evals.values() for b in e.pass_at_k))
    rows = []
    for bench in benches:
        row: dict[str, Any] = {"benchmark": bench}
        for label in ("before", "after"):
            found = evals.get(label)
            row[label] = found.pass_at_k.get(bench, {}).get("pass@1") if found else None
            row[f"{label}_passed"] = found.passed.get(bench) if found else None
            row["tasks"] = (found.tasks.get(bench) if found else None) or row.get("tasks")
        rows.append(row)
    return rows


def plot_pass1(table: list[dict[str, Any]], path: Path) -> Path:
    """Bars: pass@1 before and after, per benchmark."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(4.0, 2.2 * len(table) + 1), 3.4))
    for i, label in enumerate(("before", "after")):
        xs = [g + (i - 0.5) * 0.38 for g in range(len(table))]
        values = [100 * (row[label] or 0.0) for row in table]
        ax.bar(xs, values, 0.36, label=label)
        for x, v, row in zip(xs, values, table, strict=True):
            if row[label] is not None:
                ax.annotate(f"{v:.1f}", (x, v), ha="center", va="bottom", fontsize=8,
                            xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(range(len(table)))
    ax.set_xticklabels([row["benchmark"] for row in table])
    ax.set_ylabel("pass@1 (%)")
    ax.set_ylim(0, 105)
    ax.set_title("Code model pass@1")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path, integer_x=False)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else html.escape(str(value))


def _ends(curve: list[dict[str, Any]], key: str = "reward") -> str:
    return f"{_fmt(curve[0].get(key))} &rarr; {_fmt(curve[-1].get(key))}" if curve else "-"


def write_report(root: str | Path) -> Path:
    """Write report.html and plots/*.png into the co-evolution folder; return the HTML path."""
    root = Path(root)
    data = collect(root)
    plots = root / "plots"
    images = []
    if data["code"] or data["tests"]:
        images.append(plot_rewards(data, plots / "rewards.png"))
    if data["tests"]:
        images.append(plot_attack(data, plots / "attack_validity.png"))
    if data["rounds"]:
        images.append(plot_book(data, plots / "mistake_book.png"))
    table = pass_table(data["evals"])
    if table:
        images.append(plot_pass1(table, plots / "pass1.png"))
    last = data["rounds"][-1] if data["rounds"] else {}
    facts = [
        ("rounds finished", len(data["rounds"])),
        ("questions taking part", f"{data['check'].get('usable', '-')} of {data['check'].get('questions', '-')}"),
        ("GRPO steps (Code / Test model)", f"{len(data['code'])} / {len(data['tests'])}"),
        ("training wall time (s)", f"{data['seconds']:.0f}"),
        ("Code reward, first &rarr; last step", _ends(data["code"])),
        ("Test reward, first &rarr; last step", _ends(data["tests"])),
        ("validity, first &rarr; last step", _ends(data["tests"], "validity")),
        ("attack rate, first &rarr; last step", _ends(data["tests"], "attack_rate")),
        ("Mistake Book tests / blacklisted questions", f"{last.get('book_size', '-')} / {last.get('blacklisted', '-')}"),
    ]
    step_rows = "".join(
        f"<tr><td>{i + 1}</td><td>{_fmt(c.get('reward') if c else None)}</td><td>{_fmt(t.get('reward') if t else None)}</td>"
        f"<td>{_fmt(t.get('validity') if t else None)}</td><td>{_fmt(t.get('parsed') if t else None)}</td>"
        f"<td>{_fmt(t.get('attack_rate') if t else None)}</td></tr>"
        for i, (c, t) in enumerate(zip_longest(data["code"], data["tests"])))
    steps_html = ("<h2>Per GRPO step</h2><table><tr><th>step</th><th>Code reward</th><th>Test reward</th>"
                  "<th>validity</th><th>parseable</th><th>attack rate</th></tr>" + step_rows + "</table>"
                  ) if step_rows else ""
    fact_rows = "".join(f"<tr><th>{k}</th><td>{v if isinstance(v, str) else _fmt(v)}</td></tr>" for k, v in facts)
    pass_rows = "".join(
        f"<tr><td>{html.escape(r['benchmark'])}</td><td>{_fmt(r['tasks'])}</td><td>{_fmt(r['before'])}</td>"
        f"<td>{_fmt(r['after'])}</td></tr>" for r in table)
    pass_html = ("<h2>pass@1 of the Code model</h2><table><tr><th>benchmark</th><th>tasks</th><th>before</th>"
                 f"<th>after</th></tr>{pass_rows}</table>") if table else "<p>No evaluation yet.</p>"
    imgs = "".join(f'<figure><img src="plots/{p.name}" alt="{p.stem}"></figure>' for p in images)
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>codistill coevolve: {html.escape(root.parent.name)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;}} table{{border-collapse:collapse}}
th,td{{border:1px solid #ccc;padding:.3em .6em;text-align:left}} img{{max-width:100%}}</style></head>
<body><h1>Code-A1 co-evolution: {html.escape(root.parent.name)}</h1>
<table>{fact_rows}</table>
{pass_html}
{steps_html}
{imgs}
<p>Rules and definitions: docs/coevolve.md. Raw records: round-*/code.jsonl, round-*/tests.jsonl.</p>
</body></html>
"""
    out = root / "report.html"
    out.write_text(page)
    return out
