"""JSONL files: torn tails repaired, malformed input reported with file, line and field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from codistill.jsonl import Appender, RecordError, read_records, repair_tail, write_records
from codistill.records import Problem


def test_torn_last_line_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": 1}\n{"id": 2}\n{"id": 3, "x"')
    assert repair_tail(path) > 0
    assert path.read_text() == '{"id": 1}\n{"id": 2}\n'
    with Appender(path) as out:
        out.write({"id": 3})
    assert path.read_text().count("\n") == 3


def test_complete_but_invalid_last_line_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": 1}\n{"id": \n')
    repair_tail(path)
    assert path.read_text() == '{"id": 1}\n'


def test_single_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"id"')
    repair_tail(path)
    assert path.read_text() == ""


def test_bad_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "a", "question": "q"}\nnot json\n')
    with pytest.raises(RecordError, match=r"p\.jsonl:2: not valid JSON"):
        read_records(path, Problem)


def test_missing_field_names_it(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "a", "question": "q"}\n{"id": "b"}\n{"id": "c", "question": "q", "tset": ""}\n')
    with pytest.raises(RecordError, match=r"p\.jsonl:2: .*field `question`: Field required"):
        read_records(path, Problem)


def test_skip_bad_counts(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "a", "question": "q"}\n{"id": "b"}\nnope\n{"id": "c", "question": "q", "tset": ""}\n')
    stats: dict[str, int] = {}
    records = read_records(path, Problem, skip_bad=True, stats=stats)
    assert [r.id for r in records] == ["a"]
    assert stats["skipped"] == 3


def test_write_records_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    assert write_records(path, [Problem(id="a", question="q")]) == 1
    assert not path.with_name("out.jsonl.tmp").exists()
    assert read_records(path, Problem)[0].id == "a"


FULL = """
import resource, signal, sys
from codistill.jsonl import Appender, write_text_atomic
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit a write then fails (EFBIG)
resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))  # a disk that fills after 100 bytes
with Appender(sys.argv[1]) as out:
    out.write({"id": 1, "text": "x" * 40})
    try:
        out.write({"id": 2, "text": "y" * 80})
    except OSError as exc:
        print("append", exc.filename)
try:
    write_text_atomic(sys.argv[2], "z" * 200)
except OSError as exc:
    print("replace", exc.filename)
"""


def test_a_write_the_disk_refuses_names_the_file_and_leaves_it_whole(tmp_path: Path) -> None:
    records, text = tmp_path / "a.jsonl", tmp_path / "b.json"
    text.write_text("old")
    done = subprocess.run([sys.executable, "-c", FULL, str(records), str(text)],
                          capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == [f"append {records}", f"replace {text}"]
    assert records.read_text() == '{"id": 1, "text": "' + "x" * 40 + '"}\n'  # no torn second line
    assert text.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "b.json"]
