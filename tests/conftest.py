"""Shared test fixtures. Area-specific fixtures live in each tests/<area>/conftest.py."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test's request cache and run folders out of the user's real cache.

    The converted embedded models stay shared (CODISTILL_MODELS), since converting them is slow
    and they are read-only once made.
    """
    models = os.environ.get("CODISTILL_MODELS")
    monkeypatch.setenv("CODISTILL_CACHE", str(tmp_path_factory.mktemp("cache")))
    if models:
        monkeypatch.setenv("CODISTILL_MODELS", models)
