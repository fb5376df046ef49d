"""SFT on a tiny model: the answers become likelier, the folder is a plain model, reruns reuse it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from codistill.config import SFT, Lora
from codistill.train import TrainError, sft_rows, train_sft

from .conftest import answer_logprob, solutions, weights

SETTINGS = SFT(lr=1e-2, epochs=3, batch_size=2, max_length=256, warmup_ratio=0.0)


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return sft_rows((p, good) for p, good, _ in solutions(6))


@pytest.fixture(scope="module")
def trained(tiny_model_dir: Path, rows: list[dict], tmp_path_factory: pytest.TempPathFactory):
    return train_sft(tiny_model_dir, rows, tmp_path_factory.mktemp("sft") / "out", SETTINGS,
                     device="cpu", progress=False)


def _mean_logprob(model_dir: Path, rows: list[dict]) -> float:
    return sum(answer_logprob(model_dir, r["prompt"], r["completion"]) for r in rows) / len(rows)


def test_sft_raises_the_likelihood_of_the_correct_answers(tiny_model_dir, rows, trained) -> None:
    before, after = _mean_logprob(tiny_model_dir, rows), _mean_logprob(trained.model_dir, rows)
    assert after > before + 20, (before, after)  # nats summed over each answer


def test_result_describes_the_run(trained) -> None:
    assert trained.kind == "sft" and not trained.reused and trained.resumed_from is None
    assert trained.steps == 9  # 6 rows / batch 2 x 3 epochs
    losses = [h["loss"] for h in trained.log_history if "loss" in h]
    assert len(losses) == 9 and trained.train_loss == pytest.approx(sum(losses) / 9, rel=1e-3)
    assert trained.metrics["train_runtime"] > 0 and trained.seconds > 0


def test_model_dir_is_a_plain_loadable_folder(trained) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    names = {p.name for p in trained.model_dir.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= names
    assert not names & {"adapter_config.json", "training_args.bin"}
    assert AutoModelForCausalLM.from_pretrained(trained.model_dir).config.model_type == "llama"
    assert AutoTokenizer.from_pretrained(trained.model_dir).chat_template
    assert not list(trained.output_dir.glob("checkpoint-*"))  # removed once finished


def test_rerun_reuses_the_finished_folder_and_refuses_other_rows(tiny_model_dir, rows, trained) -> None:
    again = train_sft(tiny_model_dir, rows, trained.output_dir, SETTINGS, device="cpu", progress=False)
    assert again.reused and again.steps == trained.steps and again.model_dir == trained.model_dir
    assert again.log_history == trained.log_history
    with pytest.raises(TrainError, match="other rows or settings"):
        train_sft(tiny_model_dir, rows[:3], trained.output_dir, SETTINGS, device="cpu", progress=False)


def test_same_seed_same_weights_and_lora_is_merged(tiny_model_dir, rows, tmp_path) -> None:
    short = SFT(lr=1e-2, epochs=1, batch_size=2, max_length=256, warmup_ratio=0.0)
    a = train_sft(tiny_model_dir, rows, tmp_path / "a", short, device="cpu", progress=False, seed=3)
    b = train_sft(tiny_model_dir, rows, tmp_path / "b", short, device="cpu", progress=False, seed=3)
    wa, wb = weights(a.model_dir), weights(b.model_dir)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)

    lora = Lora(enabled=True, r=4, alpha=8, dropout=0.0, target_modules=["q_proj", "v_proj"])
    merged = train_sft(tiny_model_dir, rows, tmp_path / "lora", short, lora=lora, device="cpu",
                       progress=False, seed=3)
    base, tuned = weights(tiny_model_dir), weights(merged.model_dir)
    assert set(tuned) == set(base)  # full weights, no lora_A / lora_B tensors left
    q = "model.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(base[q], tuned[q])  # the adapter was merged into q_proj
    assert torch.equal(base["model.layers.0.mlp.up_proj.weight"], tuned["model.layers.0.mlp.up_proj.weight"])


def test_frozen_layers_keep_their_weights_and_the_rest_learns(tiny_model_dir, rows, tmp_path) -> None:
    short = SFT(lr=1e-2, epochs=1, batch_size=2, max_length=256, warmup_ratio=0.0, freeze_layers=1)
    result = train_sft(tiny_model_dir, rows, tmp_path / "frozen", short, device="cpu", progress=False)
    base, tuned = weights(tiny_model_dir), weights(result.model_dir)
    frozen = [k for k in base if k.startswith(("model.embed_tokens.", "model.layers.0."))]
    assert frozen and all(torch.equal(base[k], tuned[k]) for k in frozen)
    assert not torch.equal(base["model.layers.1.mlp.up_proj.weight"], tuned["model.layers.1.mlp.up_proj.weight"])

    with pytest.raises(TrainError, match="freezes the whole model"):
        train_sft(tiny_model_dir, rows, tmp_path / "all", SFT(freeze_layers=2), device="cpu", progress=False)
    with pytest.raises(TrainError, match="with LoRA the base model is frozen"):
        train_sft(tiny_model_dir, rows, tmp_path / "lora", short, lora=Lora(enabled=True), device="cpu",
                  progress=False)
