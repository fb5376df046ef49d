"""Time limits that travel: derive a run's limit from a reference solution's measured runtime.

As EvalPlus does, the limit is max(floor, factor x the reference's runtime) measured on the
machine that runs the candidates, so the same samples get the same verdicts on a fast machine
and a slow one. The runtime is the median of a few runs of the whole run step (process start
included, compile excluded).
"""

from __future__ import annotations

import statistics
from dataclasses import replace

from codistill.sandbox.core import check_limits, run_program
from codistill.sandbox.types import Limits, Program


def reference_limits(reference: Program, base: Limits, *, factor: float = 4.0,
                     floor_s: float = 1.0, runs: int = 3) -> Limits:
    """`base` with timeout_s = max(floor_s, factor x median reference runtime)."""
    if factor <= 0 or floor_s <= 0 or runs < 1:
        raise ValueError(f"need factor > 0, floor_s > 0 and runs >= 1; got factor={factor}, "
                         f"floor_s={floor_s}, runs={runs}")
    check_limits(base)
    times = []
    for _ in range(runs):
        verdict = run_program(reference, base)
        if not verdict.passed:
            raise ValueError(
                f"the reference solution {reference.id or ''} does not pass under the base "
                f"limits ({verdict.status}: {verdict.message}); fix it or raise "
                f"base.timeout_s before deriving a time limit from it")
        times.append(verdict.run_s)
    measured = statistics.median(times)
    return replace(base, timeout_s=round(max(floor_s, factor * measured), 3), cpu_time_s=None)
