"""Where codistill keeps its caches: one root, overridable by environment variables."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """Root of codistill's caches: $CODISTILL_HOME, else $XDG_CACHE_HOME/codistill."""
    if env := os.environ.get("CODISTILL_HOME"):
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg).expanduser() / "codistill"


def models_dir() -> Path:
    """Converted model folders: $CODISTILL_MODELS, else <home>/models."""
    if env := os.environ.get("CODISTILL_MODELS"):
        return Path(env).expanduser()
    return home() / "models"


def request_cache_path() -> Path:
    """Default SQLite request cache shared by all runs."""
    return home() / "requests.sqlite"
