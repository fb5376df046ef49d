"""The packaged seed bank, and loaders for a user's problem files and instruction-only sets.

The bank is original questions in several languages, one `Problem` per JSONL line, shipped in
`codistill/data/seeds/*.jsonl`. Users bring their own questions either as Problem records (with
tests, same schema) or as instruction-only sets such as Evol-Instruct, whose tests the teacher
writes later.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from codistill.jsonl import RecordError, describe_validation, iter_json
from codistill.records import LANGUAGES, Problem

log = logging.getLogger(__name__)

INSTRUCTION_FIELDS = ("instruction", "question", "prompt", "problem")
_INPUT_FIELDS = ("input", "context")  # Alpaca-style extra input, appended to the instruction


def seed_bank_files() -> list[Path]:
    """The packaged seed files (`codistill/data/seeds/*.jsonl`), sorted by name."""
    root = resources.files("codistill.data") / "seeds"
    if not root.is_dir():
        raise RecordError(f"{root}: the packaged seed bank is missing; reinstall codistill")
    return sorted(Path(str(entry)) for entry in root.iterdir() if entry.name.endswith(".jsonl"))


def load_seed_bank(languages: Iterable[str] | None = None, *,
                   limit_per_language: int | None = None, seed: int = 0) -> list[Problem]:
    """All packaged seeds in `languages` (default: all), optionally a seeded sample per language.

    The order is stable: file name, then line; sampling keeps that order. A malformed record
    raises `RecordError` naming its file, line and field.
    """
    wanted = _check_languages(languages)
    if limit_per_language is not None and limit_per_language < 1:
        raise ValueError(f"limit_per_language must be >= 1 (or None for all), got {limit_per_language}")
    problems: list[Problem] = []
    first_seen: dict[str, str] = {}
    for path in seed_bank_files():
        for number, problem in _read_problems(path, skip_bad=False, stats={}):
            where = f"{path}:{number}"
            if problem.id in first_seen:
                raise RecordError(f"{where}: field `id`: {problem.id!r} is already used at "
                                  f"{first_seen[problem.id]}; seed ids must be unique")
            if problem.language not in LANGUAGES:
                raise RecordError(f"{where}: field `language`: unknown language "
                                  f"{problem.language!r}; allowed: {', '.join(LANGUAGES)}")
            first_seen[problem.id] = where
            if wanted is None or problem.language in wanted:
                problems.append(problem)
    if limit_per_language is None:
        return problems
    return _sample_per_language(problems, limit_per_language, seed)


def load_problems(path: str | Path, *, skip_bad: bool = False,
                  stats: dict[str, int] | None = None) -> list[Problem]:
    """A user's JSONL of Problem records; errors name file, line and field.

    With `skip_bad`, malformed lines (bad JSON, invalid records, repeated ids) are skipped;
    their count goes to `stats["skipped"]` and to a logged warning.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise RecordError(f"{path}: no such file (expected a JSONL file of problems)")
    counts: dict[str, int] = {"skipped": 0} if stats is None else stats
    counts.setdefault("skipped", 0)
    problems: list[Problem] = []
    first_seen: dict[str, int] = {}
    for number, problem in _read_problems(path, skip_bad=skip_bad, stats=counts):
        if problem.id in first_seen:
            if not skip_bad:
                raise RecordError(f"{path}:{number}: field `id`: {problem.id!r} repeats line "
                                  f"{first_seen[problem.id]}; give every problem its own id, "
                                  "or set data.skip_bad_records: true to drop repeats")
            counts["skipped"] += 1
            continue
        first_seen[problem.id] = number
        problems.append(problem)
    if counts["skipped"]:
        log.warning("%s: skipped %d malformed line(s), loaded %d problem(s)", path,
                    counts["skipped"], len(problems))
    return problems


def load_instructions(path_or_hub_name: str | Path, *, field: str | None = None,
                      language: str = "python", limit: int | None = None) -> list[Problem]:
    """Instruction-only questions (Evol-Instruct and the like) as Problems without tests.

    Reads a local JSONL or JSON file, or a Hugging Face dataset name through
    `datasets.load_dataset`. The text comes from `field`, else the first of
    "instruction", "question", "prompt", "problem" a record has. Ids are a hash of the text, so
    they are stable across runs and a repeated text is loaded once.
    """
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; allowed: {', '.join(LANGUAGES)}")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1 (or None for all), got {limit}")
    source = str(path_or_hub_name)
    problems: list[Problem] = []
    seen: set[str] = set()
    for where, row in _instruction_rows(source):
        text = _instruction_text(row, field, where)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        problem_id = f"instruct/{digest}"
        if problem_id in seen:
            continue
        seen.add(problem_id)
        problems.append(Problem(id=problem_id, language=language, question=text, tests="",
                                reference=None, source=f"instructions:{source}"))
        if limit is not None and len(problems) >= limit:
            break
    return problems


def _check_languages(languages: Iterable[str] | None) -> set[str] | None:
    if languages is None:
        return None
    if isinstance(languages, str):  # a bare "python" would otherwise become six letters
        languages = [languages]
    wanted = set(languages)
    unknown = sorted(wanted - set(LANGUAGES))
    if unknown:
        raise ValueError(f"unknown language(s) {unknown}; allowed: {', '.join(LANGUAGES)}")
    return wanted


def _read_problems(path: Path, *, skip_bad: bool,
                   stats: dict[str, int]) -> Iterator[tuple[int, Problem]]:
    for number, data in iter_json(path, skip_bad=skip_bad, stats=stats):
        try:
            yield number, Problem.model_validate(data)
        except ValidationError as exc:
            if not skip_bad:
                raise RecordError(f"{path}:{number}: {describe_validation(exc, Problem)}") from None
            stats["skipped"] = stats.get("skipped", 0) + 1


def _sample_per_language(problems: list[Problem], limit: int, seed: int) -> list[Problem]:
    by_language: dict[str, list[int]] = {}
    for index, problem in enumerate(problems):
        by_language.setdefault(problem.language, []).append(index)
    keep: set[int] = set()
    for language, indices in by_language.items():
        # One generator per language, so adding another language does not change this sample.
        rng = random.Random(f"{seed}:{language}")
        keep.update(indices if len(indices) <= limit else rng.sample(indices, limit))
    return [p for i, p in enumerate(problems) if i in keep]


def _instruction_rows(source: str) -> Iterator[tuple[str, Any]]:
    path = Path(source).expanduser()
    if path.is_file():
        yield from _file_rows(path)
        return
    if path.is_dir():  # a folder of data files: `datasets` reads it like a hub dataset
        yield from _hub_rows(str(path))
        return
    if path.suffix.lower() in (".json", ".jsonl") or source.startswith((".", "/", "~")):
        raise RecordError(f"{path}: no such file (expected a JSONL/JSON file or a Hugging Face "
                          "dataset name)")
    yield from _hub_rows(source)


def _file_rows(path: Path) -> Iterator[tuple[str, Any]]:
    if path.suffix.lower() != ".json":
        for number, row in iter_json(path):
            yield f"{path}:{number}", row
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg} at column "
                          f"{exc.colno}); a .json file must hold one array of records") from None
    if isinstance(data, dict):  # {"data": [...]} / {"train": [...]} wrappers
        lists = [v for v in data.values() if isinstance(v, list)]
        data = lists[0] if len(lists) == 1 else [data]
    if not isinstance(data, list):
        raise RecordError(f"{path}: expected a JSON array of records, got {type(data).__name__}")
    for index, row in enumerate(data):
        yield f"{path}: record {index + 1}", row


def _hub_rows(name: str) -> Iterator[tuple[str, Any]]:
    dataset_name, split = name, ""
    if not Path(name).is_dir():  # "owner/name:split" picks a split
        dataset_name, _, split = name.partition(":")
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - datasets is a dependency
        raise RecordError(f"{name}: loading a hub dataset needs the `datasets` package") from exc
    try:
        rows = datasets.load_dataset(dataset_name, split=split or "train")
    except Exception as exc:  # noqa: BLE001 - the hub raises many kinds; all mean "cannot load"
        raise RecordError(f"{name}: could not load the Hugging Face dataset "
                          f"{dataset_name!r} (split {split or 'train'!r}): {exc}; pass a local "
                          "JSONL/JSON file instead, or check the name and your network") from None
    for index, row in enumerate(rows):
        yield f"{name} row {index + 1}", row


def _instruction_text(row: Any, field: str | None, where: str) -> str:
    if not isinstance(row, dict):
        raise RecordError(f"{where}: expected a JSON object, got {type(row).__name__}")
    candidates = (field,) if field else INSTRUCTION_FIELDS
    name = next((c for c in candidates if c in row), None)
    if name is None:
        wanted = f"field `{field}`" if field else "one of the fields " + ", ".join(
            f"`{c}`" for c in INSTRUCTION_FIELDS)
        raise RecordError(f"{where}: missing {wanted} (the record has: "
                          f"{', '.join(map(str, row)) or 'no fields'}); pass field=... to name "
                          "the one holding the question")
    text = row[name]
    if not isinstance(text, str) or not text.strip():
        raise RecordError(f"{where}: field `{name}` must be a non-empty string")
    extra = next((row[k] for k in _INPUT_FIELDS if isinstance(row.get(k), str) and row[k].strip()),
                 None)
    if name == "instruction" and extra:  # Alpaca layout: the input belongs to the question
        return f"{text.strip()}\n\n{extra.strip()}"
    return text.strip()
