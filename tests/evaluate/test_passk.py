"""pass@k: the unbiased estimator against the closed form 1 - C(n-c, k) / C(n, k)."""

from __future__ import annotations

from math import comb

import pytest

from codistill.evaluate.passk import mean_pass_at_k, pass_at_k


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (1, 0, 1, 0.0),
        (1, 1, 1, 1.0),
        (10, 3, 1, 0.3),
        (5, 1, 2, 0.4),  # 1 - C(4,2)/C(5,2) = 1 - 6/10
        (20, 0, 10, 0.0),
        (20, 20, 10, 1.0),
        (20, 15, 10, 1.0),  # n - c < k: every draw of 10 contains a correct one
        (200, 13, 100, 1 - comb(187, 100) / comb(200, 100)),
        (100, 1, 10, 0.1),
    ],
)
def test_estimator_matches_closed_form(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_1_is_the_fraction_correct() -> None:
    for n in (1, 3, 7, 50):
        for c in range(n + 1):
            assert pass_at_k(n, c, 1) == pytest.approx(c / n, abs=1e-12)


def test_k_larger_than_n_is_refused() -> None:
    with pytest.raises(ValueError, match="pass@10 needs at least 10 samples"):
        pass_at_k(5, 2, 10)
    with pytest.raises(ValueError, match="0 <= c <= n"):
        pass_at_k(5, 6, 1)


def test_mean_reports_only_k_up_to_the_smallest_n() -> None:
    scores = mean_pass_at_k([(10, 2), (10, 10), (5, 0)], ks=(1, 5, 10))
    assert set(scores) == {"pass@1", "pass@5"}
    assert scores["pass@1"] == pytest.approx((0.2 + 1.0 + 0.0) / 3)
    expected5 = ((1 - comb(8, 5) / comb(10, 5)) + 1.0 + 0.0) / 3
    assert scores["pass@5"] == pytest.approx(expected5)
    assert mean_pass_at_k([], ks=(1,)) == {}
