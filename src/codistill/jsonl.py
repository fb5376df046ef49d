"""JSONL files that survive crashes: append-and-flush writes, torn-line repair, precise errors."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class RecordError(ValueError):
    """A malformed input record; the message names file, line and field."""


def repair_tail(path: Path) -> int:
    """Drop a torn last line (no newline, or not JSON) left by a killed writer; return bytes cut."""
    if not path.exists():
        return 0
    size = path.stat().st_size
    if size == 0:
        return 0
    with path.open("rb+") as fh:
        # Read back just far enough to find the last complete line.
        block = min(size, 1 << 20)
        fh.seek(size - block)
        tail = fh.read(block)
        keep = size
        if not tail.endswith(b"\n"):
            cut = tail.rfind(b"\n")
            keep = size - block + cut + 1 if cut >= 0 else (0 if block == size else size)
        else:
            last_start = tail.rfind(b"\n", 0, len(tail) - 1) + 1
            try:
                json.loads(tail[last_start:])
            except ValueError:
                keep = size - block + last_start
        if keep < size:
            fh.truncate(keep)
        return size - keep


def iter_json(path: Path, *, skip_bad: bool = False, stats: dict[str, int] | None = None) -> Iterator[tuple[int, Any]]:
    """Yield (line number, parsed JSON) for each non-blank line; bad lines raise or are skipped."""
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                if not skip_bad:
                    raise RecordError(
                        f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno}); "
                        "fix or delete the line, or pass --skip-bad to skip such lines"
                    ) from None
                if stats is not None:
                    stats["skipped"] = stats.get("skipped", 0) + 1


def read_records(path: str | Path, model: type[M], *, skip_bad: bool = False,
                 stats: dict[str, int] | None = None) -> list[M]:
    """Read a JSONL file of `model` records; errors name the file, line and field."""
    path = Path(path)
    if not path.is_file():
        raise RecordError(f"{path}: no such file")
    out: list[M] = []
    for number, data in iter_json(path, skip_bad=skip_bad, stats=stats):
        try:
            out.append(model.model_validate(data))
        except ValidationError as exc:
            if skip_bad:
                if stats is not None:
                    stats["skipped"] = stats.get("skipped", 0) + 1
                continue
            raise RecordError(f"{path}:{number}: {describe_validation(exc, model)}") from None
    return out


def describe_validation(exc: ValidationError, model: type[BaseModel]) -> str:
    """One line per bad field, naming it: 'field `tests`: Field required'."""
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(record)"
        if err["type"] == "extra_forbidden":
            parts.append(f"unknown field `{field}` (allowed: {', '.join(model.model_fields)})")
        else:
            parts.append(f"field `{field}`: {err['msg']}")
    return f"bad {model.__name__} record: " + "; ".join(parts)


class Appender:
    """Append records to a JSONL file, one flushed line each, after repairing a torn tail."""

    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        repair_tail(self.path)
        self._fh = self.path.open("a", encoding="utf-8")
        self._fsync = fsync

    def write(self, record: BaseModel | dict[str, Any]) -> None:
        """Append one record and flush it to the OS, so a killed process keeps it."""
        line = record.model_dump_json() if isinstance(record, BaseModel) else json.dumps(record, ensure_ascii=False)
        self._fh.write(line + "\n")
        self._fh.flush()
        if self._fsync:
            os.fsync(self._fh.fileno())

    def write_all(self, records: Iterable[BaseModel | dict[str, Any]]) -> int:
        """Append many records; return how many."""
        count = 0
        for record in records:
            self.write(record)
            count += 1
        return count

    def close(self) -> None:
        """Close the file."""
        self._fh.close()

    def __enter__(self) -> Appender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_records(path: str | Path, records: Iterable[BaseModel | dict[str, Any]]) -> int:
    """Write a whole JSONL file atomically (temp file + rename); return the record count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    with Appender(tmp) as out:
        count = out.write_all(records)
    os.replace(tmp, path)
    return count
