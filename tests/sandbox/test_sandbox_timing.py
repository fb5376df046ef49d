"""Time limits that travel: max(floor, factor x the reference's measured runtime)."""

from __future__ import annotations

import pytest
from tests.sandbox.sandbox_helpers import py

from codistill.sandbox import Limits, Status, execute, reference_limits

SLEEPER = "import time\ntime.sleep({})\n"


def test_limit_scales_with_the_reference() -> None:
    """A 0.3 s reference and factor 4 give a limit of about 1.2 s (plus start-up time)."""
    limits = reference_limits(py(SLEEPER.format(0.3)), Limits(timeout_s=10), factor=4.0,
                              floor_s=0.1, runs=2)
    assert 1.2 <= limits.timeout_s < 4.0
    assert limits.cpu_time_s is None and limits.memory_mb == Limits().memory_mb


def test_floor_applies_to_fast_references() -> None:
    """A reference that runs in milliseconds gets the floor."""
    assert reference_limits(py("print(1)"), Limits(), floor_s=1.5).timeout_s == 1.5


def test_candidates_are_judged_against_the_derived_limit() -> None:
    """Comparable speed passes; ten times slower than the reference times out."""
    limits = reference_limits(py(SLEEPER.format(0.2)), Limits(), factor=3.0, floor_s=0.1, runs=2)
    assert execute(py(SLEEPER.format(0.3)), limits).passed
    assert execute(py(SLEEPER.format(3.0)), limits).status is Status.TIMEOUT


def test_a_failing_reference_is_refused() -> None:
    """No limit can be derived from a reference that does not pass."""
    with pytest.raises(ValueError, match="does not pass"):
        reference_limits(py("raise SystemExit(1)"), Limits())


def test_bad_parameters_are_refused() -> None:
    """factor, floor and runs must make sense."""
    with pytest.raises(ValueError, match="factor"):
        reference_limits(py("print(1)"), Limits(), factor=0)
