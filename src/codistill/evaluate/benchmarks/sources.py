"""Rows of a published benchmark file, local or on the Hugging Face hub, as plain dicts."""

from __future__ import annotations

import glob
import gzip
import json
import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from codistill import paths
from codistill.errors import UserError


class BenchmarkError(UserError, ValueError):
    """A benchmark that cannot be loaded; the message says what to change."""


def benchmarks_dir() -> Path:
    """Where `codistill eval` looks for benchmark files it does not ship: <home>/benchmarks."""
    return paths.home() / "benchmarks"


def find_local(*patterns: str) -> Path | None:
    """The first file in the benchmarks folder matching one of the glob patterns (newest name last)."""
    for pattern in patterns:
        hits = sorted(glob.glob(str(benchmarks_dir() / pattern)))
        if hits:
            return Path(hits[-1])
    return None


def read_rows(source: str | Path, *, split: str = "test") -> list[dict[str, Any]]:
    """Rows of a JSON array, JSONL (optionally gzipped) or parquet file, or of a hub dataset.

    A hub dataset is written `owner/name` or `owner/name#config`; it needs network access to the
    hub (or a populated Hugging Face cache).
    """
    path = Path(str(source)).expanduser()
    if path.is_file():
        return _read_file(path)
    if path.exists() or str(source).startswith((".", "/", "~")) or Path(str(source)).suffix in (
        ".json", ".jsonl", ".gz", ".parquet"):
        raise BenchmarkError(f"benchmark file {source} does not exist")
    return _read_hub(str(source), split)


def _read_file(path: Path) -> list[dict[str, Any]]:
    name = path.name.lower()
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        text = fh.read()
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BenchmarkError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
        if not all(isinstance(r, dict) for r in rows):
            raise BenchmarkError(f"{path}: expected a JSON array of objects")
        return rows
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BenchmarkError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise BenchmarkError(f"{path}:{number}: expected a JSON object per line")
        rows.append(row)
    return rows


def _read_hub(name: str, split: str) -> list[dict[str, Any]]:
    dataset, _, config = name.partition("#")
    if dataset.count("/") != 1:
        raise BenchmarkError(
            f"{name!r} is neither an existing file nor a hub dataset (write owner/name or "
            "owner/name#config)"
        )
    offline = any(os.environ.get(v, "") not in ("", "0") for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))
    if not offline and not hub_reachable():
        # The hub client retries for ~30 s before giving up; a failed DNS lookup says it all.
        raise BenchmarkError(
            f"hub dataset {name!r} needs the Hugging Face hub, which is unreachable from here; "
            f"download the file and pass its path, or put it in {benchmarks_dir()} "
            "(set HF_HUB_OFFLINE=1 to use a populated Hugging Face cache)"
        )
    try:
        import datasets

        data = datasets.load_dataset(dataset, config or None, split=split)
    except Exception as exc:  # noqa: BLE001 - any hub failure becomes one clear message
        raise BenchmarkError(
            f"could not load hub dataset {name!r} (split {split!r}): {type(exc).__name__}: {exc}\n"
            f"without hub access, download the file and pass its path, or put it in "
            f"{benchmarks_dir()}"
        ) from None
    return [dict(row) for row in data]


def hub_reachable(timeout: float = 3.0) -> bool:
    """True when the hub's host name resolves and accepts a connection."""
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or ""
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def need(row: dict[str, Any], fields: tuple[str, ...], where: str) -> None:
    """Raise a BenchmarkError naming the fields a row lacks."""
    missing = [f for f in fields if f not in row]
    if missing:
        raise BenchmarkError(
            f"{where}: missing field(s) {', '.join(missing)} (has: {', '.join(sorted(row))}); "
            "is this file in the format this benchmark expects?"
        )
