"""The gain benchmark's guard against resuming a model folder on other training rows."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from gain_data import claim_folder, data_sha  # noqa: E402


def _row(question: str, answer: str) -> dict:
    return {"prompt": [{"role": "user", "content": question}],
            "completion": [{"role": "assistant", "content": answer}]}


def test_a_folder_resumes_on_its_own_rows_and_refuses_others(tmp_path: Path) -> None:
    rows = [_row("add two numbers", "def add(a, b):\n    return a + b"), _row("negate", "def neg(x):\n    return -x")]
    folder, evals = tmp_path / "train" / "sft-rows2", tmp_path / "eval" / "sft-rows2"
    claim_folder(folder, data_sha(rows), evals)
    claim_folder(folder, data_sha([dict(r) for r in rows]), evals)  # same rows: resumes
    # The same rows in another order train another model (the trainer's shuffle sees them so).
    assert data_sha(rows[::-1]) != data_sha(rows)
    with pytest.raises(SystemExit, match="trained on other rows") as refused:
        claim_folder(folder, data_sha(rows[:1]), evals)
    assert str(folder) in str(refused.value) and str(evals) in str(refused.value)
    assert (folder / "data.json").is_file()
