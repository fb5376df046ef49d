"""Crash-safe files: whole-line JSONL appends, torn-tail repair, atomic rewrites, clear errors."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from codistill.errors import UserError

M = TypeVar("M", bound=BaseModel)


class RecordError(UserError, ValueError):
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
    try:
        with path.open(encoding="utf-8") as fh:
            yield from _parse_lines(fh, path, skip_bad, stats)
    except UnicodeDecodeError as exc:
        # A binary or non-UTF-8 file is the user's input, not a bug: say which file, not a traceback.
        raise RecordError(f"{path}: not UTF-8 text ({exc.reason})",
                          hint="give a JSONL file: UTF-8 text, one JSON value per line") from None


def _parse_lines(lines: Iterable[str], path: Path, skip_bad: bool,
                 stats: dict[str, int] | None) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            # Without its newline, a line cut short is reported at its own end, not at "column 1".
            yield number, json.loads(line.rstrip("\n"))
        except json.JSONDecodeError as exc:
            if not skip_bad:
                raise RecordError(f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno})",
                                  hint="fix or delete that line") from None
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
    """Append records to a JSONL file, one whole line per write, after repairing a torn tail.

    Each line goes to the OS in one unbuffered append, so a killed process keeps every line it
    wrote and at most one torn line (dropped on the next open). A write that fails (a full disk)
    is undone and raised as an OSError naming the file. One writer per file: stages hold the
    run's lock, evaluations their output folder's.
    """

    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            repair_tail(self.path)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise naming(exc, self.path) from None
        self._fsync = fsync

    def write(self, record: BaseModel | dict[str, Any]) -> None:
        """Append one record as one line, handed to the OS before returning."""
        line = record.model_dump_json() if isinstance(record, BaseModel) else json.dumps(record, ensure_ascii=False)
        data = (line + "\n").encode("utf-8")
        size = os.fstat(self._fd).st_size
        try:
            written = 0
            while written < len(data):  # a short write happens when the disk fills mid-line
                written += os.write(self._fd, data[written:])
            if self._fsync:
                os.fsync(self._fd)
        except OSError as exc:
            with suppress(OSError):
                os.ftruncate(self._fd, size)  # no torn line left behind for the next reader
            raise naming(exc, self.path) from None

    def write_all(self, records: Iterable[BaseModel | dict[str, Any]]) -> int:
        """Append many records; return how many."""
        count = 0
        for record in records:
            self.write(record)
            count += 1
        return count

    def close(self) -> None:
        """Close the file."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Appender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def naming(exc: OSError, path: str | Path) -> OSError:
    """The same OS error, with `path` as its file name when it had none (writes on a full disk)."""
    if exc.filename or exc.errno is None:
        return exc
    return type(exc)(exc.errno, exc.strerror or str(exc), str(path))


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Replace a file's whole text at once (temp file + rename): a reader never sees half of it.

    One writer per file (the run's lock, an evaluation folder's, rank 0): the temp file's name is
    fixed, so one left by a killed writer is taken over by the next write instead of piling up.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise naming(exc, path) from None
    return path


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
