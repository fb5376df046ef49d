"""`codistill train` on exported files: SFT then DPO from the SFT model; clear errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codistill.cli import main
from codistill.train import dpo_rows, export_datasets, sft_rows

from .conftest import solutions


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    triples = solutions(4)
    return export_datasets(sft_rows((p, g) for p, g, _ in triples), dpo_rows(triples), tmp_path / "export")


def test_train_command_runs_sft_then_dpo(tiny_model_dir, files, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    argv = ["train", "--sft", str(files["trl_sft"]), "--dpo", str(files["trl_dpo"]), "--model", str(tiny_model_dir),
            "--output", str(out), "--device", "cpu", "--no-progress", "--json",
            "--set", "train.sft.epochs=1", "--set", "train.sft.batch_size=2", "--set", "train.sft.lr=1e-3",
            "--set", "train.dpo.epochs=1", "--set", "train.dpo.batch_size=2"]
    assert main(argv) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["sft"]["steps"] == 2 and results["dpo"]["steps"] == 2
    assert results["sft"]["model_dir"] == str(out / "sft" / "model")
    assert (out / "dpo" / "model" / "model.safetensors").is_file()
    dpo_request = json.loads((out / "dpo" / "train-request.json").read_text())
    assert dpo_request["settings"]["dpo"]["batch_size"] == 2

    assert main(argv) == 0  # the same command again: nothing left to train
    again = json.loads(capsys.readouterr().out)
    assert again["sft"]["reused"] and again["dpo"]["reused"]


@pytest.mark.parametrize(("extra", "message"), [
    (["--sft", "missing.jsonl"], "missing.jsonl: no such file"),
    (["--set", "train.sft.lrate=1"], "unknown config key 'train.sft.lrate'"),
    ([], "nothing to train"),
    (["--sft", "{sft}", "--model", "openai:http://localhost:1/v1#m"], "training needs weights"),
    (["--sft", "{sft}", "--device", "cuda:1"], "CUDA_VISIBLE_DEVICES=1"),
])
def test_bad_input_gets_a_clear_message(tiny_model_dir, files, tmp_path, capsys, extra, message) -> None:
    extra = [e.replace("{sft}", str(files["trl_sft"])) for e in extra]
    argv = ["train", "--model", str(tiny_model_dir), "--output", str(tmp_path / "o"), *extra]
    if "--model" in extra:
        argv = ["train", "--output", str(tmp_path / "o"), *extra]
    assert main(argv) == 2
    assert message in " ".join(capsys.readouterr().err.split())


@pytest.mark.slow
def test_train_command_on_the_embedded_student(tmp_path, capsys) -> None:
    """One SFT and one DPO step on the real embedded student, resolved from its spec."""
    triples = solutions(2)
    files = export_datasets(sft_rows((p, g) for p, g, _ in triples), dpo_rows(triples), tmp_path / "export")
    argv = ["train", "--sft", str(files["trl_sft"]), "--dpo", str(files["trl_dpo"]), "--model", "embedded:student",
            "--output", str(tmp_path / "out"), "--device", "cpu", "--max-steps", "1", "--no-progress", "--json",
            "--set", "train.sft.batch_size=2", "--set", "train.dpo.batch_size=2", "--set", "train.sft.max_length=256",
            "--set", "train.dpo.max_length=256"]
    assert main(argv) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["sft"]["steps"] == 1 and results["dpo"]["steps"] == 1
    assert results["sft"]["train_loss"] < 3.0  # a pretrained instruct model, not random weights
    from transformers import AutoConfig

    assert AutoConfig.from_pretrained(results["dpo"]["model_dir"]).num_hidden_layers == 30
