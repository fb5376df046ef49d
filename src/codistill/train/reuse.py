"""Trained models reused across run folders, keyed by everything that decides the weights.

The same base weights, training rows, settings and seed give the same model, so a second run that
repeats a training (an ablation sharing its first cycle, the demo rerun in a fresh folder, a
strategy comparison) links the finished model instead of training again — the request cache's idea
applied to training. Files are hard-linked where the file system allows (no extra disk), else
copied. A model is published by renaming a complete folder, so a crash never leaves a half one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codistill import paths

META = "codistill-trained.json"


def training_key(base_identity: str, rows: Mapping[str, Any], settings: Mapping[str, Any],
                 seed: int, device: str) -> str:
    """A hex digest naming one training: base weights, rows, settings, seed, device, versions."""
    import importlib.metadata as md

    def version(name: str) -> str:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "-"

    payload = {"base": base_identity, "rows": rows, "settings": settings, "seed": seed,
               "device": device,
               "versions": {n: version(n) for n in ("codistill", "torch", "transformers", "trl", "peft")}}
    text = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _link_tree(src: Path, dest: Path) -> None:
    for file in sorted(p for p in src.rglob("*") if p.is_file()):
        target = dest / file.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(file, target)
        except OSError:  # another file system, or links not allowed
            shutil.copy2(file, target)


class TrainedModels:
    """Finished models under <codistill home>/trained/<key>/, with the stats of their training."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else paths.home() / "trained"

    def get(self, key: str) -> tuple[Path, dict[str, Any]] | None:
        """The stored model folder and its training stats, or None."""
        folder = self.root / key
        try:
            stats = json.loads((folder / META).read_text())
        except (OSError, ValueError):
            return None
        return folder / "model", stats

    def put(self, key: str, model_dir: Path, stats: Mapping[str, Any]) -> Path:
        """Store a finished model (linked, not moved: the run keeps its own copy)."""
        final = self.root / key
        if final.exists():
            return final / "model"
        partial = self.root / f".{key}.{os.getpid()}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        _link_tree(Path(model_dir), partial / "model")
        (partial / META).write_text(json.dumps(dict(stats), indent=1, default=str))
        try:
            partial.rename(final)
        except OSError:  # a concurrent run published the same key first
            shutil.rmtree(partial, ignore_errors=True)
        return final / "model"

    def restore(self, key: str, dest: Path) -> dict[str, Any] | None:
        """Link a stored model into `dest`; its training stats, or None when not stored."""
        found = self.get(key)
        if found is None:
            return None
        model, stats = found
        shutil.rmtree(dest, ignore_errors=True)
        _link_tree(model, dest)
        return stats
