"""Paired comparison: known data -> known Wilcoxon p-values and bootstrap CI properties."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import wilcoxon

from codistill.evaluate.compare import bootstrap_ci, compare_results, wilcoxon_p
from codistill.evaluate.results import EvalResult, TaskResult, build_result
from codistill.records import Sample


def result(name: str, passes: dict[str, list[bool]], benchmark: str = "bench") -> EvalResult:
    samples = [Sample(task_id=t, completion="", index=i, status="passed" if ok else "failed",
                      passed=ok) for t, oks in passes.items() for i, ok in enumerate(oks)]
    return build_result(benchmark, name, list(passes), samples, ks=(1,))


def test_identical_runs_have_zero_difference_and_no_test() -> None:
    a = result("A", {f"t{i}": [i % 2 == 0] for i in range(20)})
    c = compare_results(a, a)
    assert c.tasks == 20 and c.mean_diff == 0.0
    assert c.wilcoxon_p is None and not c.significant
    assert (c.ci_low, c.ci_high) == (0.0, 0.0)
    assert c.ties == 20


def test_b_fixes_many_tasks_and_breaks_none() -> None:
    # A fails 30 of 40 tasks; B passes 24 of those 30 and keeps the other 10: 24 wins, 0 losses.
    a = {f"t{i}": [i < 10] for i in range(40)}
    b = {f"t{i}": [i < 34] for i in range(40)}
    c = compare_results(result("A", a), result("B", b))
    assert c.wins == 24 and c.losses == 0 and c.ties == 16
    assert c.mean_diff == pytest.approx(24 / 40)
    expected_p = wilcoxon(np.array([1.0] * 24 + [0.0] * 16), zero_method="wilcox").pvalue
    assert c.wilcoxon_p == pytest.approx(expected_p)
    assert c.wilcoxon_p < 1e-5 and c.significant
    assert 0 < c.ci_low <= c.mean_diff <= c.ci_high <= 1


def test_balanced_wins_and_losses_are_not_significant() -> None:
    a = {f"t{i}": [i % 2 == 0] for i in range(30)}
    b = {f"t{i}": [i % 2 == 1] for i in range(30)}
    c = compare_results(result("A", a), result("B", b))
    assert c.wins == 15 and c.losses == 15 and c.mean_diff == 0.0
    assert c.wilcoxon_p == pytest.approx(1.0)
    assert c.ci_low < 0 < c.ci_high


def test_sampled_pass_rates_are_paired_per_task() -> None:
    a = {"x": [True, False, False, False], "y": [True, True, False, False]}
    b = {"x": [True, True, True, False], "y": [True, True, False, False], "z": [True] * 4}
    c = compare_results(result("A", a), result("B", b))
    assert c.tasks == 2 and c.only_b == 1
    assert c.pass1_a == pytest.approx((0.25 + 0.5) / 2) and c.pass1_b == pytest.approx((0.75 + 0.5) / 2)
    assert c.per_task == [{"task_id": "x", "a": 0.25, "b": 0.75}, {"task_id": "y", "a": 0.5, "b": 0.5}]


def test_bootstrap_is_seeded_and_narrows_with_more_tasks() -> None:
    rng = np.random.default_rng(1)
    small = rng.choice([-1.0, 0.0, 1.0], size=30, p=[0.2, 0.5, 0.3])
    large = np.tile(small, 20)
    assert bootstrap_ci(small, seed=3) == bootstrap_ci(small, seed=3)
    lo_s, hi_s = bootstrap_ci(small, seed=0)
    lo_l, hi_l = bootstrap_ci(large, seed=0)
    assert lo_s <= small.mean() <= hi_s and lo_l <= large.mean() <= hi_l
    assert (hi_l - lo_l) < (hi_s - lo_s) / 3  # ~1/sqrt(20) as wide


def test_wilcoxon_helper_matches_scipy() -> None:
    diffs = np.array([0.5, -0.25, 1.0, 0.0, 0.75, 0.25, -0.5, 1.0])
    expected = wilcoxon(diffs, zero_method="wilcox").pvalue
    assert wilcoxon_p(diffs) == pytest.approx(expected)


def test_compare_loads_saved_results(tmp_path) -> None:
    a = result("A", {"t1": [False], "t2": [True]})
    b = result("B", {"t1": [True], "t2": [True]}, benchmark="other")
    c = compare_results(a.save(tmp_path / "a"), b.save(tmp_path / "b" / "r.json"))
    assert c.mean_diff == pytest.approx(0.5)
    assert c.warnings == ["different benchmarks: bench vs other"]
    with pytest.raises(ValueError, match="no task is in both"):
        compare_results(a, result("C", {"zzz": [True]}))


def test_results_round_trip(tmp_path) -> None:
    r = result("A", {"t1": [True, False], "t2": [False, False]})
    r.per_task[0].judge_score = 4.0
    loaded = EvalResult.load(r.save(tmp_path))
    assert loaded == r
    assert loaded.per_task[0] == TaskResult("t1", 2, 1, ["passed", "failed"], 4.0)


def test_pooled_seeds_compare_their_mean_with_the_baseline() -> None:
    from codistill.evaluate.results import pool_results

    base = result("base", {f"t{i}": [i < 2] for i in range(6)})
    # Three seeds: t2 passes in all three, t3 in one, t0 is lost in one; t5 is missing in one seed.
    seeds = [result(f"s{s}", {f"t{i}": [i < 2 or i == 2 or (i == 3 and s == 0)] for i in range(6)})
             for s in range(3)]
    seeds[1] = result("s1", {"t0": [False], "t1": [True], "t2": [True], "t3": [False], "t4": [False]})
    pooled = pool_results(seeds, "mean of 3 seeds")
    rates = {t.task_id: t.pass_rate for t in pooled.per_task}
    assert rates == pytest.approx({"t0": 2 / 3, "t1": 1.0, "t2": 1.0, "t3": 1 / 3, "t4": 0.0})
    assert pooled.pass1 == pytest.approx(sum(rates.values()) / 5)
    c = compare_results(base, pooled)
    assert c.tasks == 5 and c.only_a == 1  # t5 was not scored by every seed
    assert (c.wins, c.losses, c.ties) == (2, 1, 2)
    assert c.mean_diff == pytest.approx((1 + 1 / 3 - 1 / 3) / 5)


def test_pooling_refuses_mixed_benchmarks() -> None:
    from codistill.evaluate.results import pool_results

    with pytest.raises(ValueError, match="different benchmarks"):
        pool_results([result("a", {"t": [True]}, "humaneval"), result("b", {"t": [True]}, "mbpp")], "x")
