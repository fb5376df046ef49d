"""Shared test fixtures. Area-specific fixtures live in each tests/<area>/conftest.py."""

from __future__ import annotations

import pytest

from codistill import paths


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test's request cache and other state out of the user's real cache.

    Converted embedded models stay shared: converting them is slow and they are read-only.
    """
    models = str(paths.models_dir())
    monkeypatch.setenv("CODISTILL_HOME", str(tmp_path_factory.mktemp("codistill-home")))
    monkeypatch.setenv("CODISTILL_MODELS", models)
