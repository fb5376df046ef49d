"""The run folder: one JSONL file per stage and cycle, and a manifest of what is complete.

runs/<name>/
  manifest.json          config, and per stage: fingerprint, status, stats (codistill.stages.stats),
                         times, and the model folder a training stage made
  cycle-0/eval.jsonl     stage outputs, appended and flushed record by record
  cycle-1/teach.jsonl
  cycle-1/checkpoint/    stage folders (model checkpoints)

A stage is resumable: records already in its file are kept and skipped on rerun; a torn last
line is dropped. Each stage records a fingerprint (the config values it depends on); rerunning
with different values refuses to mix results unless `force`, which redoes that stage and all
stages after it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from codistill.errors import UserError
from codistill.jsonl import Appender, iter_json, read_records, repair_tail, write_text_atomic
from codistill.stages.stats import S, StageStats, stats_of

M = TypeVar("M", bound=BaseModel)


class StaleStageError(UserError, RuntimeError):
    """A stage was computed with a different config; the message lists what changed."""


class RunLockedError(UserError, RuntimeError):
    """Another process is working on this run folder."""


def fingerprint_of(values: dict[str, Any]) -> str:
    """Stable short hash of JSON-able values."""
    blob = json.dumps(values, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _diff(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            out += _diff(old.get(key), new.get(key), f"{prefix}.{key}" if prefix else str(key))
        return out
    return [] if old == new else [f"{prefix or '(value)'}: {old!r} -> {new!r}"]


class RunStore:
    """A run folder with its manifest; hands out resumable stages."""

    def __init__(self, root: str | Path, *, config: dict[str, Any] | None = None,
                 force: bool = False) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.force = force
        self._lock_fh = (self.root / ".lock").open("a")
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLockedError(
                f"another codistill process is working on {self.root}; wait for it or use "
                "another run name"
            ) from None
        self._manifest_path = self.root / "manifest.json"
        self.manifest = self._load_manifest()
        if config is not None:
            self.manifest["config"] = config
            self._save()

    def _load_manifest(self) -> dict[str, Any]:
        if self._manifest_path.exists():
            try:
                return json.loads(self._manifest_path.read_text())
            except ValueError:
                raise RuntimeError(
                    f"{self._manifest_path} is corrupt; delete it to rebuild from stage files"
                ) from None
        return {"version": 1, "created": time.time(), "stages": {}}

    def _save(self) -> None:
        write_text_atomic(self._manifest_path, json.dumps(self.manifest, indent=2, default=str))

    def stage(self, name: str, cycle: int | None = None,
              depends: dict[str, Any] | None = None) -> Stage:
        """The stage `name` of `cycle`; checks its fingerprint against an earlier run."""
        key = f"cycle-{cycle}/{name}" if cycle is not None else name
        depends = depends or {}
        entry = self.manifest["stages"].get(key)
        if entry is not None and entry.get("fingerprint") != fingerprint_of(depends):
            changes = _diff(entry.get("depends", {}), json.loads(json.dumps(depends, default=str)))
            if not self.force:
                raise StaleStageError(
                    f"stage {key} in {self.root} was computed with a different configuration:\n  "
                    + "\n  ".join(changes or ["(inputs changed)"])
                    + "\nrerun with --force to redo it and every later stage, "
                    "or choose a new run name (--set name=...)"
                )
            self.invalidate_from(key)
            entry = None
        if entry is None:
            self.manifest["stages"][key] = {
                "fingerprint": fingerprint_of(depends),
                "depends": json.loads(json.dumps(depends, default=str)),
                "status": "running",
                "started": time.time(),
            }
            self._save()
        return Stage(self, key)

    def invalidate_from(self, key: str) -> list[str]:
        """Forget `key` and every stage begun after it; delete their files. Returns the keys."""
        keys = list(self.manifest["stages"])
        dropped = keys[keys.index(key):] if key in keys else []
        for k in dropped:
            Stage(self, k).delete_files()
            del self.manifest["stages"][k]
        self._save()
        return dropped

    def stages(self) -> dict[str, dict[str, Any]]:
        """Manifest entries of all stages, in the order they were begun."""
        return self.manifest["stages"]

    def close(self) -> None:
        """Release the run lock."""
        self._lock_fh.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Stage:
    """One stage's output file (and folder), with resume bookkeeping."""

    def __init__(self, store: RunStore, key: str) -> None:
        self.store = store
        self.key = key
        self.path = store.root / f"{key}.jsonl"
        self.dir = store.root / key  # for artifacts such as checkpoints

    @property
    def entry(self) -> dict[str, Any]:
        """This stage's manifest entry."""
        return self.store.manifest["stages"][self.key]

    @property
    def done(self) -> bool:
        """True when the stage finished in an earlier (or this) run."""
        return self.entry.get("status") == "done"

    def records(self, model: type[M]) -> list[M]:
        """The records written so far (a torn last line is dropped first)."""
        if not self.path.exists():
            return []
        repair_tail(self.path)
        return read_records(self.path, model)

    def rows(self) -> list[dict[str, Any]]:
        """The records written so far, as plain dicts."""
        if not self.path.exists():
            return []
        repair_tail(self.path)
        return [row for _, row in iter_json(self.path)]

    def done_keys(self, field: str = "id") -> set[Any]:
        """Values of `field` in the records already written: the work to skip on resume."""
        return {row.get(field) for row in self.rows()}

    def appender(self) -> Appender:
        """Open the stage file for appending (after repairing a torn tail)."""
        return Appender(self.path)

    def finish(self, stats: StageStats, *, model: str | Path | None = None) -> None:
        """Mark the stage complete with its stats (for the report) and the model it made, if any."""
        self.entry.update(status="done", finished=time.time(), stats=stats.model_dump(mode="json"))
        if model is not None:
            self.entry["model"] = str(model)
        self.store._save()

    def stats(self, kind: type[S]) -> S:
        """The finished stage's stats as `kind`; a clear error when it has not finished."""
        found = stats_of(self.entry, kind)
        if found is None:
            raise RuntimeError(f"stage {self.key} has no stats: it has not finished")
        return found

    @property
    def model(self) -> Path | None:
        """The folder of the model this stage made (training, a scoring model), if any."""
        # Runs made before the entry held it kept it in the stats.
        found = self.entry.get("model") or self.entry.get("stats", {}).get("model_dir")
        return Path(found) if found else None

    def delete_files(self) -> None:
        """Remove the stage's file and folder."""
        self.path.unlink(missing_ok=True)
        if self.dir.exists():
            shutil.rmtree(self.dir)
