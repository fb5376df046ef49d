"""Logit distillation across tokenizers on tiny models: the student moves toward the teacher."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import AutoTokenizer

from codistill.config import KD, Lora
from codistill.train import TrainError, train_kd

from .conftest import answer_logprob, kd_rows, kd_teacher, weights

# Pure distillation (no cross-entropy), so the tests see what the teacher's distributions alone do.
SETTINGS = KD(lr=5e-3, epochs=4, batch_size=2, max_length=256, max_completion_length=48, crossentropy_weight=0.0)


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return kd_rows()[0]


@pytest.fixture(scope="module")
def held_out() -> list[dict]:
    return kd_rows()[1]


@pytest.fixture(scope="module")
def teacher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model with its own tokenizer (another vocabulary), trained on the correct answers."""
    return kd_teacher(tmp_path_factory.mktemp("teacher"), epochs=6)


@pytest.fixture(scope="module")
def distilled(tiny_model_dir: Path, teacher: Path, rows, held_out, tmp_path_factory: pytest.TempPathFactory):
    return train_kd(tiny_model_dir, teacher, rows, tmp_path_factory.mktemp("kd") / "out", SETTINGS,
                    eval_rows=held_out, device="cpu", progress=False)


def test_the_two_tokenizers_really_differ(tiny_model_dir: Path, teacher: Path, rows) -> None:
    text = rows[0]["completion"][0]["content"]
    student, teach = (AutoTokenizer.from_pretrained(d) for d in (tiny_model_dir, teacher))
    assert len(student) != len(teach)
    assert student.tokenize(text) != teach.tokenize(text)


def test_distillation_moves_the_student_toward_the_teacher_on_held_out_text(distilled) -> None:
    before, after = distilled.metrics["kd_eval_loss_before"], distilled.metrics["kd_eval_loss_after"]
    assert after < 0.8 * before, (before, after)
    losses = [h["loss"] for h in distilled.log_history if "loss" in h]
    assert losses[-1] < losses[0]
    assert distilled.kind == "kd" and distilled.steps == 8  # 4 rows / batch 2 x 4 epochs


def test_the_student_learns_the_teachers_answers(tiny_model_dir: Path, rows, distilled) -> None:
    def mean(model_dir: Path) -> float:
        return sum(answer_logprob(model_dir, r["prompt"], r["completion"]) for r in rows) / len(rows)

    assert mean(distilled.model_dir) > mean(tiny_model_dir) + 10  # nats summed over each answer


def test_on_policy_distillation_trains_on_the_students_own_answers(tiny_model_dir, teacher, rows, held_out,
                                                                   tmp_path: Path) -> None:
    settings = SETTINGS.model_copy(update={"on_policy": 1.0, "epochs": 2, "max_completion_length": 24})
    result = train_kd(tiny_model_dir, teacher, rows, tmp_path / "on", settings, eval_rows=held_out,
                      device="cpu", progress=False)
    assert any("on_policy_loss" in h for h in result.log_history)
    assert not any("off_policy_loss" in h for h in result.log_history)
    assert result.metrics["kd_eval_loss_after"] < result.metrics["kd_eval_loss_before"]


def test_rerun_reuses_the_folder_and_frozen_layers_stay(tiny_model_dir, teacher, rows, held_out,
                                                        distilled, tmp_path: Path) -> None:
    again = train_kd(tiny_model_dir, teacher, rows, distilled.output_dir, SETTINGS, eval_rows=held_out,
                     device="cpu", progress=False)
    assert again.reused and again.metrics["kd_eval_loss_after"] == distilled.metrics["kd_eval_loss_after"]
    frozen = train_kd(tiny_model_dir, teacher, rows, tmp_path / "frozen",
                      SETTINGS.model_copy(update={"freeze_layers": 1, "epochs": 1}), device="cpu",
                      progress=False)
    old, new = weights(tiny_model_dir), weights(frozen.model_dir)
    assert all((old[k] == new[k]).all() for k in old if ".layers.0." in k or "embed_tokens" in k)
    assert any(not (old[k] == new[k]).all() for k in old if ".layers.1." in k)


def test_clear_errors(tiny_model_dir, rows, tmp_path: Path) -> None:
    with pytest.raises(TrainError, match="cannot connect"):  # a served teacher is probed before any work
        train_kd(tiny_model_dir, "openai:http://127.0.0.1:9/v1#t?max_retries=0", rows, tmp_path / "a", SETTINGS,
                 cache=tmp_path / "cache.sqlite", device="cpu")
    assert not (tmp_path / "a").exists()
    with pytest.raises(TrainError, match="LoRA"):
        train_kd(tiny_model_dir, tiny_model_dir, rows, tmp_path / "b", SETTINGS.model_copy(
            update={"freeze_layers": 1}), lora=Lora(enabled=True), device="cpu")
    with pytest.raises(ValueError, match="below max_length"):
        KD(max_length=128, max_completion_length=128)


def test_codistill_train_distils_when_the_config_says_so(tiny_model_dir, teacher, rows, tmp_path: Path) -> None:
    from codistill.config import load_config
    from codistill.train import write_rows
    from codistill.train.launch import train_files

    write_rows(rows, tmp_path / "sft.jsonl")
    config = load_config(None, ["train.kd.enabled=true", "train.kd.epochs=1", "train.kd.batch_size=2",
                                "train.kd.max_length=256", "train.kd.max_completion_length=48"])
    results = train_files(config, tmp_path / "out", model=str(tiny_model_dir), sft_file=tmp_path / "sft.jsonl",
                          teacher=str(teacher), device="cpu", progress=False)
    assert list(results) == ["kd"] and results["kd"].steps == 2
    assert (tmp_path / "out" / "kd" / "model" / "config.json").is_file()
    with pytest.raises(TrainError, match="cannot connect"):
        train_files(config, tmp_path / "out2", model=str(tiny_model_dir), sft_file=tmp_path / "sft.jsonl",
                    teacher="openai:http://127.0.0.1:9/v1#t?max_retries=0", device="cpu", progress=False)
