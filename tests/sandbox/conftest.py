"""Sandbox test fixtures: one compile cache for the whole session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def sandbox_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Compiled artifacts are shared by the whole session (they are keyed by content)."""
    path = tmp_path_factory.mktemp("sandbox-cache")
    old = os.environ.get("CODISTILL_SANDBOX_CACHE")
    os.environ["CODISTILL_SANDBOX_CACHE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("CODISTILL_SANDBOX_CACHE", None)
    else:
        os.environ["CODISTILL_SANDBOX_CACHE"] = old
