"""The gain benchmark's teacher data: which dtype wrote each data seed, and reading every seed's answers."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from gain_data import DTYPE, _read_sampled, _sampled_dir, data_seed_of, teacher_dtype  # noqa: E402
from gain_store import TEACHER_DTYPES  # noqa: E402


def test_each_data_seed_has_the_dtype_its_questions_were_written_in() -> None:
    assert teacher_dtype(0) == DTYPE == "bfloat16"
    assert all(teacher_dtype(seed) == dtype for seed, dtype in TEACHER_DTYPES.items())
    assert data_seed_of("synth-3-17") == 3 and data_seed_of("grounded-12-0") == 12


def _scored(path: Path, task_id: str) -> None:
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"task_id": task_id, "completion": "x", "status": "passed",
                                "passed": True, "index": 0}) + "\n")


def test_answers_written_in_different_dtypes_are_read_together(tmp_path: Path) -> None:
    # Questions of a bf16 seed and of an fp32 seed are answered into their own folders (an
    # evaluation refuses to mix models), and training reads both.
    other = next(iter(set(TEACHER_DTYPES.values()) - {DTYPE}))
    _scored(_sampled_dir(tmp_path, 4) / "samples.jsonl", "synth-0-1")
    _scored(_sampled_dir(tmp_path, 4, other) / "samples.jsonl", "synth-3-5")
    assert _sampled_dir(tmp_path, 4) != _sampled_dir(tmp_path, 4, other)
    assert sorted(_read_sampled(tmp_path, 4)) == [("synth-0-1", 0), ("synth-3-5", 0)]
