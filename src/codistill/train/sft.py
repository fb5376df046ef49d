"""SODA's correctness-aware supervised learning: TRL's SFTTrainer on (question, correct solution)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from codistill.config import SFT, Lora
from codistill.train.common import (
    TrainError,
    TrainResult,
    bars,
    begin,
    disk_errors,
    fingerprint,
    finished_result,
    load_tokenizer,
    overrides,
    peft_config,
    rows_dataset,
    run_trainer,
    trainer_args,
)
from codistill.train.datasets import check_rows


def train_sft(
    model_path: str | Path,
    rows: list[dict[str, Any]],
    output_dir: Path,
    settings: SFT,
    *,
    lora: Lora | None = None,
    seed: int = 0,
    device: str = "auto",
    progress: bool = True,
    max_steps: int | None = None,
    packing: bool = False,
    save_steps: float = 0.25,
    trl_args: dict[str, Any] | None = None,
) -> TrainResult:
    """Fine-tune on prompt/completion rows with the loss on the answer only; resume or reuse `output_dir`.

    `packing` packs several rows into each `max_length` sequence (the loss stays on answers only);
    `trl_args` overrides any SFTConfig field (e.g. {"gradient_checkpointing": False} on a GPU).
    """
    started = time.monotonic()
    output_dir = Path(output_dir)
    rows = check_rows(rows, "sft")
    if settings.freeze_layers and lora is not None and lora.enabled:
        raise TrainError("train.sft.freeze_layers is for full fine-tuning; with LoRA the base model is "
                         "frozen already: set freeze_layers to 0 or disable train.lora")
    recipe = {"sft": settings.model_dump(), "lora": lora.model_dump() if lora else None, "seed": seed,
              "max_steps": max_steps, "packing": packing, "trl_args": trl_args or {}}
    fp = fingerprint("sft", rows, recipe)
    if (done := finished_result(output_dir, "sft", fp)) is not None:
        return done
    resume = begin(output_dir, "sft", fp, recipe)

    with bars(progress), disk_errors(output_dir):
        from trl import SFTConfig, SFTTrainer

        args = SFTConfig(**{
            **trainer_args(output_dir, device=device, seed=seed, progress=progress, lr=settings.lr,
                           batch_size=settings.batch_size, grad_accum=settings.grad_accum, epochs=settings.epochs,
                           max_steps=max_steps, save_steps=save_steps),
            "warmup_steps": settings.warmup_ratio,
            "max_length": settings.max_length,
            "completion_only_loss": True,
            "packing": packing,
            **overrides(trl_args),
        })
        model = (frozen_model(model_path, settings.freeze_layers)
                 if settings.freeze_layers else str(model_path))
        trainer = SFTTrainer(
            model=model, args=args, train_dataset=rows_dataset(rows, output_dir, args),
            processing_class=load_tokenizer(model_path), peft_config=peft_config(lora),
        )
        return run_trainer(trainer, kind="sft", output_dir=output_dir, fp=fp, model_path=model_path,
                           resume=resume, lora=lora, started=started)


def frozen_model(model_path: str | Path, layers: int) -> Any:
    """The model with its embeddings (tied output head included) and `layers` lowest decoder layers frozen."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(model_path), dtype=torch.float32)
    blocks = model.get_decoder().layers
    if layers >= len(blocks):
        raise TrainError(f"train.sft.freeze_layers={layers} freezes the whole model ({len(blocks)} decoder "
                         f"layers): choose fewer than {len(blocks)}")
    # Autograd stops at the first trainable layer, so the frozen ones cost only their forward pass.
    for module in (model.get_input_embeddings(), *blocks[:layers]):
        module.requires_grad_(False)
    return model
