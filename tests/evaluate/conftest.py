"""Shared helpers for the evaluation tests: fixture paths and a sandbox-availability marker."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    """tests/fixtures: benchmark files in their published layouts."""
    return FIXTURES
