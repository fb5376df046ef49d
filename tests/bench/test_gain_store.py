"""The gain benchmark's store: what is saved, and that a restore never loses newer local work."""

import gzip
import sys
from argparse import Namespace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from gain_store import phase_restore, phase_save, stored_files  # noqa: E402


def _run(tmp_path: Path) -> Path:
    out = tmp_path / "runs"
    (out / "eval" / "base-float32" / "humaneval").mkdir(parents=True)
    (out / "eval" / "teacher-sampled-n4").mkdir(parents=True)
    (out / "eval" / "sft-rows8-seed0" / "dev").mkdir(parents=True)
    (out / "questions-0.jsonl").write_text('{"slot_id": "synth-0-0"}\n')
    (out / "eval" / "base-float32" / "humaneval" / "samples.jsonl").write_text('{"task_id": "a"}\n')
    (out / "eval" / "base-float32" / "humaneval" / "eval.json").write_text("{}\n")
    (out / "eval" / "teacher-sampled-n4" / "samples.jsonl").write_text('{"task_id": "b"}\n')
    (out / "eval" / "sft-rows8-seed0" / "dev" / "samples.jsonl").write_text('{"task_id": "c"}\n')
    return out


def test_save_keeps_questions_and_evaluations_only(tmp_path: Path) -> None:
    out = _run(tmp_path)
    (out / "train" / "sft-rows8-seed0").mkdir(parents=True)
    (out / "train" / "sft-rows8-seed0" / "model.safetensors").write_bytes(b"weights")
    names = {str(p.relative_to(out)) for p in stored_files(out)}
    # Models are left out (hundreds of MB); the evaluations are what the report reads.
    assert names == {"questions-0.jsonl", "eval/base-float32/humaneval/samples.jsonl",
                     "eval/base-float32/humaneval/eval.json", "eval/teacher-sampled-n4/samples.jsonl",
                     "eval/sft-rows8-seed0/dev/samples.jsonl"}
    store = tmp_path / "store"
    phase_save(Namespace(out=str(out), store=str(store)))
    with gzip.open(store / "questions-0.jsonl.gz", "rt") as fh:
        assert fh.read() == '{"slot_id": "synth-0-0"}\n'
    first = (store / "questions-0.jsonl.gz").read_bytes()
    phase_save(Namespace(out=str(out), store=str(store)))
    assert (store / "questions-0.jsonl.gz").read_bytes() == first  # unchanged data, unchanged file


def test_restore_fills_a_fresh_folder_and_keeps_longer_local_files(tmp_path: Path) -> None:
    out = _run(tmp_path)
    store = tmp_path / "store"
    phase_save(Namespace(out=str(out), store=str(store)))
    fresh = tmp_path / "fresh"
    phase_restore(Namespace(out=str(fresh), store=str(store)))
    assert (fresh / "eval/teacher-sampled-n4/samples.jsonl").read_text() == '{"task_id": "b"}\n'
    # The phases only append, so a longer local file holds work the store has not seen.
    (fresh / "questions-0.jsonl").write_text('{"slot_id": "synth-0-0"}\n{"slot_id": "synth-0-1"}\n')
    phase_restore(Namespace(out=str(fresh), store=str(store)))
    assert (fresh / "questions-0.jsonl").read_text().count("\n") == 2


def test_save_and_restore_say_what_to_run_when_there_is_nothing(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="run the data phase first"):
        phase_save(Namespace(out=str(tmp_path / "empty"), store=str(tmp_path / "store")))
    with pytest.raises(SystemExit, match="bench/gain.py save"):
        phase_restore(Namespace(out=str(tmp_path / "out"), store=str(tmp_path / "store")))
