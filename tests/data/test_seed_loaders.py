"""Loading a user's problems and instruction-only sets: good files load, bad lines are named."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from codistill.data.seeds import load_instructions, load_problems
from codistill.jsonl import RecordError
from codistill.records import Problem

GOOD = {"id": "mine/add", "language": "python", "question": "Add two numbers.",
        "prompt": "def add(a, b):\n", "entry_point": "add",
        "tests": "def check(c):\n    assert c(1, 2) == 3\n", "reference": "def add(a, b):\n    return a + b\n"}


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def record(**changes: object) -> str:
    data = {**GOOD, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not ...})


def test_load_problems_reads_records_and_blank_lines(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "p.jsonl", [record(), "", record(id="mine/sub", question="Subtract.")])
    problems = load_problems(path)
    assert [p.id for p in problems] == ["mine/add", "mine/sub"]
    assert problems[0] == Problem.model_validate(GOOD)
    assert load_problems(str(path)) == problems


@pytest.mark.parametrize(("line", "words"), [
    ('{"id": "x", "question": ', ["not valid JSON"]),
    (record(question=...), ["field `question`", "Field required"]),
    (record(id=7), ["field `id`"]),
    (record(tests=["assert True"]), ["field `tests`"]),
    (record(answer="42"), ["unknown field `answer`"]),
    ("[1, 2]", ["bad Problem record"]),
])
def test_load_problems_names_file_line_and_field(tmp_path: Path, line: str, words: list[str]) -> None:
    path = write_lines(tmp_path / "bad.jsonl", [record(), record(id="mine/two"), line])
    with pytest.raises(RecordError) as caught:
        load_problems(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:3: "), message
    for word in words:
        assert word in message


def test_repeated_ids_are_an_error_naming_both_lines(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "dup.jsonl", [record(), record(id="other"), record()])
    with pytest.raises(RecordError, match=r"dup\.jsonl:3: field `id`: 'mine/add' repeats line 1"):
        load_problems(path)


def test_skip_bad_skips_and_counts(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write_lines(tmp_path / "mixed.jsonl", [
        record(), "{broken", record(id="mine/b", question=...), record(id="mine/c"), record(),
    ])
    stats: dict[str, int] = {}
    with caplog.at_level(logging.WARNING, logger="codistill.data.seeds"):
        problems = load_problems(path, skip_bad=True, stats=stats)
    assert [p.id for p in problems] == ["mine/add", "mine/c"]
    assert stats == {"skipped": 3}
    assert "skipped 3 malformed line(s), loaded 2 problem(s)" in caplog.text
    assert str(path) in caplog.text


def test_load_problems_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="no such file"):
        load_problems(tmp_path / "absent.jsonl")


def evol_instruct(path: Path, texts: list[str]) -> Path:
    """A small file in Evol-Instruct's format: {"instruction": ..., "output": ...} per line."""
    rows = [{"instruction": t, "output": f"Here is a solution to: {t[:20]}"} for t in texts]
    return write_lines(path, [json.dumps(r) for r in rows])


TEXTS = ["Write a function that returns the second largest value in a list.",
         "Implement a queue using two stacks, with push and pop.",
         "Write a function that returns the second largest value in a list.",
         "Given a string, return its longest run of one repeated character."]


def test_load_instructions_from_evol_instruct_jsonl(tmp_path: Path) -> None:
    path = evol_instruct(tmp_path / "evol.jsonl", TEXTS)
    problems = load_instructions(path)
    assert [p.question for p in problems] == [TEXTS[0], TEXTS[1], TEXTS[3]]  # repeat dropped
    for p in problems:
        assert p.tests == "" and p.reference is None and p.language == "python"
        assert p.id.startswith("instruct/") and p.source == f"instructions:{path}"
    assert len({p.id for p in problems}) == 3
    # Ids hash the text: stable across loads and files, independent of line position.
    again = load_instructions(evol_instruct(tmp_path / "other.jsonl", [TEXTS[3], TEXTS[0]]))
    ids = {p.question: p.id for p in problems}
    assert len(again) == 2 and all(ids[p.question] == p.id for p in again)
    assert [p.id for p in load_instructions(path, limit=2)] == [p.id for p in problems[:2]]
    assert {p.language for p in load_instructions(path, language="go")} == {"go"}


def test_load_instructions_field_choice_and_json_array(tmp_path: Path) -> None:
    rows = [{"task": "Sort words by length.", "question": "ignored"},
            {"task": "Count islands in a grid."}]
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    assert [p.question for p in load_instructions(path, field="task")] == [r["task"] for r in rows]
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"data": [{"problem": "Reverse a linked list."}]}), encoding="utf-8")
    assert [p.question for p in load_instructions(wrapped)] == ["Reverse a linked list."]
    alpaca = write_lines(tmp_path / "alpaca.jsonl", [json.dumps(
        {"instruction": "Fix the bug in this function.", "input": "def f(x): return x +", "output": ""})])
    assert load_instructions(alpaca)[0].question == "Fix the bug in this function.\n\ndef f(x): return x +"


def test_load_instructions_errors_name_file_line_and_field(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "bad.jsonl", [json.dumps({"instruction": "Do a thing."}),
                                                json.dumps({"output": "only an answer"})])
    with pytest.raises(RecordError) as caught:
        load_instructions(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:2: missing one of the fields `instruction`")
    assert "the record has: output" in message and "field=" in message
    with pytest.raises(RecordError, match=r"bad\.jsonl:1: missing field `task`"):
        load_instructions(path, field="task")
    empty = write_lines(tmp_path / "empty.jsonl", [json.dumps({"instruction": "  "})])
    with pytest.raises(RecordError, match=r"empty\.jsonl:1: field `instruction` must be a non-empty"):
        load_instructions(empty)
    broken = write_lines(tmp_path / "broken.jsonl", ['{"instruction": "x"'])
    with pytest.raises(RecordError, match=r"broken\.jsonl:1: not valid JSON"):
        load_instructions(broken)
    with pytest.raises(RecordError, match="no such file"):
        load_instructions(tmp_path / "absent.jsonl")
    with pytest.raises(ValueError, match="unknown language"):
        load_instructions(path, language="cobol")


def test_load_instructions_through_datasets_from_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder goes through `datasets.load_dataset`, the same call a hub name takes."""
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")
    folder = tmp_path / "evol"
    folder.mkdir()
    evol_instruct(folder / "train.jsonl", TEXTS[:2])
    problems = load_instructions(folder)
    assert [p.question for p in problems] == TEXTS[:2]
    assert problems[0].id == load_instructions(evol_instruct(tmp_path / "x.jsonl", TEXTS[:1]))[0].id
