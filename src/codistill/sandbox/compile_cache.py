"""Compiled artifacts, cached by a hash of what went into them, safe under concurrency.

An entry is a directory `<root>/<language>/<key[:2]>/<key>/` holding the build's outputs and
`result.json` (the compile's outcome, failures included, so a broken program is not compiled
twice). Builds happen in a private directory that is renamed into place when complete; a rename
that loses a race simply discards its own copy. Within one process a lock per key makes
concurrent requests for the same program wait for one compile instead of repeating it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codistill import paths

ENV_CACHE = "CODISTILL_SANDBOX_CACHE"
VERSION = "1"  # bump when harness code or build layout changes
# Folders of the root that runs never see (isolation.Sandbox masks them): builds in progress
# hold other programs' sources, and Go's build cache their compiled packages.
PRIVATE = ("tmp", "go-build")

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def root() -> Path:
    """$CODISTILL_SANDBOX_CACHE, else <codistill home>/sandbox-cache."""
    env = os.environ.get(ENV_CACHE)
    return Path(env).expanduser() if env else paths.home() / "sandbox-cache"


def ensure_root() -> Path:
    """The cache root, created if needed, with its private folders (so they can be masked)."""
    base = _ensure(root())
    _ensure(base / "tmp")
    (base / "go-build").mkdir(exist_ok=True)  # listable: the go command trims it
    return base


def _ensure(path: Path) -> Path:
    # Runs see the cache read-only. Levels above the entries can be traversed but not listed,
    # and entries are named by hashes of their sources, so a run reaches its own artifacts
    # (named on its command line) but cannot find others' (a reference solution's, say).
    # Not even the owner may list them (0311): without root, runs have the owner's uid.
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o311)
    return path


@dataclass
class Compiled:
    """A compile's outcome: where its artifacts are, and what the compiler said."""

    ok: bool
    directory: Path
    stderr: str
    seconds: float
    cached: bool
    timed_out: bool = False


def key_of(*parts: object) -> str:
    """A stable hash of JSON-able parts."""
    blob = json.dumps([VERSION, *parts], sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def compiled(language: str, key: str, files: dict[str, str],
             compile_in: Callable[[Path], Compiled]) -> Compiled:
    """The cached compile for `key`, running `compile_in(build_dir)` the first time."""
    base = root()
    final = base / language / key[:2] / key
    hit = _load(final)
    if hit:
        return hit
    with _lock(key):
        hit = _load(final)
        if hit:
            return hit
        _ensure(base)
        for level in (base / language, base / language / key[:2]):
            _ensure(level)
        work = _ensure(base / "tmp") / f"{key}-{uuid.uuid4().hex[:8]}"
        work.mkdir(mode=0o755)
        work.chmod(0o755)
        try:
            for name, text in files.items():
                (work / name).write_text(text, encoding="utf-8")
            result = compile_in(work)
            if result.timed_out:
                return result  # not cached: a slow machine may manage next time
            (work / "result.json").write_text(json.dumps(
                {"ok": result.ok, "stderr": result.stderr, "seconds": result.seconds}))
            _open_up(work)
            try:
                os.rename(work, final)
            except OSError:
                if not final.exists():
                    raise
            return Compiled(result.ok, final, result.stderr, result.seconds, cached=False)
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
            with _locks_guard:
                _locks.pop(key, None)  # waiters hold the lock object; newcomers hit the cache


def _load(final: Path) -> Compiled | None:
    try:
        data = json.loads((final / "result.json").read_text())
    except (OSError, ValueError):
        return None
    return Compiled(bool(data["ok"]), final, data.get("stderr", ""), 0.0, cached=True)


def _open_up(directory: Path) -> None:
    """World-readable (and traversable) artifacts: runs use an unprivileged uid."""
    for current, _dirs, names in os.walk(directory):
        os.chmod(current, 0o755)
        for name in names:
            path = os.path.join(current, name)
            if not os.path.islink(path):
                mode = os.stat(path).st_mode
                os.chmod(path, 0o755 if mode & 0o111 else 0o644)


def _lock(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())
