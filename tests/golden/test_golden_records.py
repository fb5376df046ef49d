"""A fixed run on scripted fake models gives the committed records, field for field.

The run (tests/golden/make_records.py) is made once per session into a temporary folder; each
committed file is then compared with its fresh copy, and a difference names the file, the
record and the field. Parts whose toolchain is missing here, or is another version than the
one the records were made with, are skipped with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.golden.make_records import DROPPED, MANIFEST, RECORDS, UPDATE_HINT, write_records

# One worker makes the run once for all of these tests (make test uses --dist loadgroup).
pytestmark = pytest.mark.xdist_group("golden")
COMMITTED: dict[str, Any] = json.loads((RECORDS / MANIFEST).read_text())
SHOWN = 20  # differences listed per file; the rest are counted


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The records of a run made now."""
    folder = tmp_path_factory.mktemp("golden")
    write_records(folder)
    return folder


def read(path: Path) -> list[dict[str, Any]]:
    """The records of one JSONL file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def label(record: dict[str, Any]) -> str:
    """What identifies a record to a reader: its stage, round, question, slot or task."""
    problem = record.get("problem") if isinstance(record.get("problem"), dict) else {}
    parts = [record.get("stage"), record.get("file"), record.get("model"),
             record.get("round") and f"round {record['round']}", record.get("phase"),
             problem.get("id") if "problem_id" not in record and "slot_id" not in record else None,
             record.get("problem_id"), record.get("slot_id"), record.get("task_id"),
             record.get("question_id"), record.get("kind"), record.get("id"),
             "request" in record and f"request {record['request']}"]
    return " ".join(str(p) for p in parts if p) or "?"


def short(value: Any) -> str:
    """A value as it is shown in a difference (long text cut)."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."


def changes(old: Any, new: Any, path: str = "") -> Iterator[str]:
    """Every field that differs between two records, as 'field.path: old -> new'."""
    here = path or "(record)"
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            sub = f"{path}.{key}" if path else key
            if key not in new:
                yield f"{sub}: {short(old[key])} -> (missing)"
            elif key not in old:
                yield f"{sub}: (missing) -> {short(new[key])}"
            else:
                yield from changes(old[key], new[key], sub)
    elif isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            yield f"{here}: {len(old)} items -> {len(new)} items"
        for i, (a, b) in enumerate(zip(old, new, strict=False)):
            yield from changes(a, b, f"{path}[{i}]")
    elif old != new or type(old) is not type(new):
        yield f"{here}: {short(old)} -> {short(new)}"


def differences(golden: list[dict[str, Any]], now: list[dict[str, Any]]) -> list[str]:
    """Line by line (the files keep the stages' own order): which record, which field."""
    found = []
    for line, (old, new) in enumerate(zip(golden, now, strict=False), start=1):
        found += [f"line {line} ({label(old)}): {c}" for c in changes(old, new)]
    found += [f"line {line} ({label(r)}): only in the golden records"
              for line, r in enumerate(golden[len(now):], start=len(now) + 1)]
    found += [f"line {line} ({label(r)}): only in this run"
              for line, r in enumerate(now[len(golden):], start=len(golden) + 1)]
    return found


def report(file: str, found: list[str]) -> str:
    """The failure message: the file, its first differences, how to accept them."""
    more = f"\n  ... and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    return (f"{file} differs from the golden records (golden -> now):\n  "
            + "\n  ".join(found[:SHOWN]) + more + f"\n{UPDATE_HINT}")


def comparable(part: str, fresh: Path) -> None:
    """Skip unless `part` ran here with the toolchain version the golden records were made with."""
    now = json.loads((fresh / MANIFEST).read_text())["parts"].get(part, {"ran": False, "why": "no such part"})
    was = COMMITTED["parts"][part]
    if not now["ran"]:
        pytest.skip(f"part {part!r} did not run here: {now['why']}")
    if now["toolchain"] != was["toolchain"]:
        pytest.skip(f"part {part!r}: records made with toolchain {was['toolchain']}, here "
                    f"{now['toolchain']}; its messages differ between versions (regenerate to compare)")


@pytest.mark.parametrize("file", sorted(COMMITTED["files"]))
def test_records_match_the_golden_ones(file: str, fresh: Path) -> None:
    comparable(file.split("/")[0], fresh)
    found = differences(read(RECORDS / file), read(fresh / file))
    assert not found, report(file, found)


def test_the_same_files_and_normalisation(fresh: Path) -> None:
    now = json.loads((fresh / MANIFEST).read_text())
    both = {p for p, info in COMMITTED["parts"].items() if info["ran"] and now["parts"][p]["ran"]}
    golden = {f for f in COMMITTED["files"] if f.split("/")[0] in both}
    made = {f for f in now["files"] if f.split("/")[0] in both}
    assert made == golden, (f"files only in the golden records: {sorted(golden - made)}; only in this "
                            f"run: {sorted(made - golden)}\n{UPDATE_HINT}")
    assert COMMITTED["dropped_fields"] == DROPPED, f"the fields left out changed\n{UPDATE_HINT}"
    assert {p for p, info in COMMITTED["parts"].items() if info["ran"]} >= {"python"}


def test_the_golden_run_covers_every_outcome() -> None:
    """Regenerating must not quietly lose a case: each verdict and extraction edge stays pinned."""
    python = RECORDS / "python"
    statuses = {r["status"] for name in ("examine", "examine_no_execution") for r in read(python / f"{name}.jsonl")}
    statuses |= {r["status"] for r in read(python / "evaluate_samples.jsonl")}
    assert statuses >= {"passed", "failed", "timeout", "compile_error", "runtime_error",
                        "environment_error", "skipped"}
    body_only = [r for r in read(python / "examine.jsonl") if r["raw"].startswith("    ")]
    assert body_only and all(r["passed"] for r in body_only)
    reasons = {r["reason"] for name in ("curriculum", "adversary") for r in read(python / f"{name}.jsonl")}
    assert reasons >= {"", "unparseable", "contaminated", "reference_fails", "vacuous_tests", "duplicate",
                       "environment_error", "student_passes"}
    questions = {r["status"] for r in read(python / "questions.jsonl")}
    assert questions >= {"verified", "disagree", "duplicate", "no_code_block", "benchmark_overlap", "no_answer"}
