"""Is B better than A? Paired per-task pass rates, Wilcoxon signed-rank test, bootstrap CI."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from codistill.evaluate.results import EvalError, EvalResult


@dataclass
class Comparison:
    """B minus A on the tasks both evaluated: differences of per-task pass rates (c/n)."""

    a: str
    b: str
    benchmark: str
    tasks: int  # paired tasks
    pass1_a: float
    pass1_b: float
    mean_diff: float  # pass1_b - pass1_a on the paired tasks
    ci_low: float
    ci_high: float
    wilcoxon_p: float | None  # None when every paired difference is zero (no test possible)
    wins: int  # tasks where B's pass rate is higher
    losses: int
    ties: int
    confidence: float = 0.95
    n_boot: int = 10_000
    seed: int = 0
    only_a: int = 0  # tasks only A evaluated (not compared)
    only_b: int = 0
    warnings: list[str] = field(default_factory=list)
    per_task: list[dict[str, Any]] = field(default_factory=list)
    k: int = 1  # pass@k compared: per-task unbiased pass@k estimates instead of pass rates

    @property
    def significant(self) -> bool:
        """True when the Wilcoxon test rejects "no difference" at 1 - confidence."""
        return self.wilcoxon_p is not None and self.wilcoxon_p < 1 - self.confidence

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**asdict(self), "significant": self.significant}

    def to_json(self) -> str:
        """The comparison as JSON text."""
        return json.dumps(self.to_dict(), indent=2)

    def table(self) -> Table:
        """A readable summary."""
        table = Table(title=f"{self.benchmark}: B vs A on {self.tasks} paired tasks"
                            + (f" (pass@{self.k}, sampled answers)" if self.k > 1 else ""))
        table.add_column("")
        table.add_column("value", justify="right")
        rows = [
            ("A", self.a), ("B", self.b),
            (f"pass@{self.k} A", f"{100 * self.pass1_a:.1f}%"),
            (f"pass@{self.k} B", f"{100 * self.pass1_b:.1f}%"),
            ("difference B - A", f"{100 * self.mean_diff:+.1f} pp"),
            (f"{100 * self.confidence:.0f}% bootstrap CI",
             f"[{100 * self.ci_low:+.1f}, {100 * self.ci_high:+.1f}] pp"),
            ("Wilcoxon signed-rank p", "n/a (no differences)" if self.wilcoxon_p is None
             else f"{self.wilcoxon_p:.4g}"),
            ("B better / worse / same", f"{self.wins} / {self.losses} / {self.ties}"),
        ]
        for name, value in rows:
            table.add_row(name, value)
        return table


def _load(x: EvalResult | str | Path) -> EvalResult:
    return x if isinstance(x, EvalResult) else EvalResult.load(x)


def bootstrap_ci(diffs: np.ndarray, *, n_boot: int = 10_000, confidence: float = 0.95,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of paired differences (tasks resampled)."""
    if len(diffs) == 0:
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    for start in range(0, n_boot, 1000):  # chunks keep memory flat for large task counts
        size = min(1000, n_boot - start)
        idx = rng.integers(0, len(diffs), size=(size, len(diffs)))
        means[start : start + size] = diffs[idx].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


def wilcoxon_p(diffs: np.ndarray) -> float | None:
    """Two-sided Wilcoxon signed-rank p-value of paired differences; None when all are zero."""
    from scipy.stats import wilcoxon

    if not np.any(diffs != 0):
        return None
    return float(wilcoxon(diffs, zero_method="wilcox", alternative="two-sided").pvalue)


def compare_results(a: EvalResult | str | Path, b: EvalResult | str | Path, *,
                    n_boot: int = 10_000, confidence: float = 0.95, seed: int = 0,
                    k: int = 1) -> Comparison:
    """Compare two evaluations task by task (B minus A); seeded, so reruns agree.

    k = 1 pairs per-task pass rates; k > 1 pairs per-task unbiased pass@k estimates (both
    evaluations need at least k samples per task). The `pass1_*` fields then hold pass@k.
    """
    from codistill.evaluate.passk import pass_at_k

    ra, rb = _load(a), _load(b)
    if k > 1 and min(ra.n, rb.n) < k:
        raise EvalError(f"pass@{k} needs at least {k} samples per task; the evaluations have "
                        f"{ra.n} and {rb.n}", hint=f"evaluate both with --n {k} or more")

    def value(t: Any) -> float:
        return t.pass_rate if k == 1 else pass_at_k(t.n, t.correct, k)

    rates_a = {t.task_id: value(t) for t in ra.per_task}
    rates_b = {t.task_id: value(t) for t in rb.per_task}
    paired = [t for t in rates_a if t in rates_b]
    warnings = []
    if ra.benchmark != rb.benchmark:
        warnings.append(f"different benchmarks: {ra.benchmark} vs {rb.benchmark}")
    if not paired:
        raise EvalError(f"no task is in both evaluations ({ra.benchmark}: {len(rates_a)} tasks, "
                        f"{rb.benchmark}: {len(rates_b)} tasks)",
                        hint="compare evaluations of the same benchmark (and the same --limit)")
    xa = np.array([rates_a[t] for t in paired])
    xb = np.array([rates_b[t] for t in paired])
    diffs = xb - xa
    low, high = bootstrap_ci(diffs, n_boot=n_boot, confidence=confidence, seed=seed)
    return Comparison(
        a=f"{ra.model} ({ra.benchmark})", b=f"{rb.model} ({rb.benchmark})", benchmark=ra.benchmark,
        tasks=len(paired), pass1_a=float(xa.mean()), pass1_b=float(xb.mean()),
        mean_diff=float(diffs.mean()), ci_low=low, ci_high=high, wilcoxon_p=wilcoxon_p(diffs),
        wins=int((diffs > 0).sum()), losses=int((diffs < 0).sum()), ties=int((diffs == 0).sum()),
        confidence=confidence, n_boot=n_boot, seed=seed,
        only_a=len(rates_a) - len(paired), only_b=len(rates_b) - len(paired), warnings=warnings,
        per_task=[{"task_id": t, "a": rates_a[t], "b": rates_b[t]} for t in paired], k=k,
    )
