"""Logit distillation across tokenizers: TRL's GOLD trainer with ULD alignment, off- or on-policy.

Sequence-level SFT learns only the teacher's sampled text. Here the student also learns the
teacher's whole next-token distribution at every answer token. The embedded teacher (Qwen2.5) and
student (SmolLM2) have different vocabularies, so the two are aligned by the text each token
covers (ULD), with exact matching for the tokens both vocabularies share (GOLD's hybrid loss).
A teacher behind an `openai:` endpoint is distilled from its top-k logprobs instead (kd_served.py).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from codistill.cache import RequestCache
from codistill.config import KD, Lora
from codistill.jsonl import write_text_atomic
from codistill.train.common import (
    RESULT,
    TrainError,
    TrainResult,
    bars,
    begin,
    disk_errors,
    fingerprint,
    finished_result,
    is_main_process,
    load_tokenizer,
    overrides,
    peft_config,
    rows_dataset,
    run_trainer,
    trainer_args,
)
from codistill.train.datasets import check_rows
from codistill.train.sft import frozen_model

EVAL_BEFORE = "kd-eval-before.json"


def train_kd(
    model_path: str | Path,
    teacher_path: str | Path,
    rows: list[dict[str, Any]],
    output_dir: Path,
    settings: KD,
    *,
    eval_rows: list[dict[str, Any]] | None = None,
    lora: Lora | None = None,
    seed: int = 0,
    device: str = "auto",
    progress: bool = True,
    max_steps: int | None = None,
    save_steps: float = 0.25,
    trl_args: dict[str, Any] | None = None,
    cache: RequestCache | str | Path | None = None,
) -> TrainResult:
    """Distil the teacher's token distributions into the student on prompt/completion rows.

    The teacher is local weights (a folder or hub id: TRL's GOLD trainer) or an `openai:` endpoint
    that scores given text with top-k logprobs (kd_served.py; its answers go to `cache`, default
    the user's request cache, so a rerun asks nothing twice).

    `rows` are SFT rows (the teacher's verified answers); with `settings.on_policy` > 0 that share
    of steps uses the student's own answers to the same prompts instead. With `eval_rows`, the
    distillation loss on them is measured before and after training (metrics `kd_eval_loss_before`
    and `kd_eval_loss_after`): it falls when the student's distributions move toward the teacher's.
    Resumes from the last checkpoint in `output_dir`, or returns the finished model.
    """
    if str(teacher_path).startswith("openai:"):
        from codistill.train.kd_served import train_kd_served

        return train_kd_served(model_path, str(teacher_path), rows, output_dir, settings, cache=cache,
                               eval_rows=eval_rows, lora=lora, seed=seed, device=device, progress=progress,
                               max_steps=max_steps, save_steps=save_steps, trl_args=trl_args)
    started = time.monotonic()
    output_dir = Path(output_dir)
    rows = _as_messages(check_rows(rows, "sft"))
    held_out = _as_messages(check_rows(eval_rows, "sft")) if eval_rows else None
    if settings.freeze_layers and lora is not None and lora.enabled:
        raise TrainError("train.kd.freeze_layers is for full fine-tuning; with LoRA the base model is "
                         "frozen already: set freeze_layers to 0 or disable train.lora")
    teacher = _teacher_folder(teacher_path)
    recipe = {"kd": settings.model_dump(), "teacher": str(teacher), "lora": lora.model_dump() if lora else None,
              "seed": seed, "max_steps": max_steps, "trl_args": trl_args or {},
              "eval_rows": held_out or []}
    fp = fingerprint("kd", rows, recipe)
    if (done := finished_result(output_dir, "kd", fp)) is not None:
        return done
    resume = begin(output_dir, "kd", fp, recipe)

    with bars(progress), disk_errors(output_dir):
        import warnings

        with warnings.catch_warnings():  # TRL warns that experimental APIs may change: pinned here
            warnings.simplefilter("ignore")
            from trl.experimental.gold import GOLDConfig, GOLDTrainer

        base = trainer_args(output_dir, device=device, seed=seed, progress=progress, lr=settings.lr,
                            batch_size=settings.batch_size, grad_accum=settings.grad_accum,
                            epochs=settings.epochs, max_steps=max_steps, save_steps=save_steps)
        args = GOLDConfig(**{
            **base,
            "max_length": settings.max_length,
            "max_completion_length": settings.max_completion_length,
            "lmbda": settings.on_policy,
            "temperature": settings.temperature,
            "use_uld_loss": True,
            "uld_use_hybrid_loss": settings.hybrid,
            "uld_distillation_weight": settings.distillation_weight,
            "uld_crossentropy_weight": settings.crossentropy_weight,
            "uld_teacher_temperature": settings.teacher_temperature,
            "uld_student_temperature": settings.student_temperature,
            "teacher_tokenizer_name_or_path": str(teacher),
            # The teacher only runs forward: bf16 halves its cost where the CPU or GPU has it.
            "teacher_model_init_kwargs": {"dtype": "bfloat16" if base.get("bf16") else "float32"},
            "per_device_eval_batch_size": settings.batch_size,
            **overrides(trl_args),
        })
        model = (frozen_model(model_path, settings.freeze_layers)
                 if settings.freeze_layers else str(model_path))
        trainer = GOLDTrainer(
            model=model, teacher_model=str(teacher), args=args,
            train_dataset=rows_dataset(rows, output_dir, args),
            eval_dataset=_dataset(held_out) if held_out else None,
            processing_class=load_tokenizer(model_path), peft_config=peft_config(lora),
        )
        before = eval_before(trainer, output_dir, resume) if held_out else None
        result = run_trainer(trainer, kind="kd", output_dir=output_dir, fp=fp, model_path=model_path,
                             resume=resume, lora=lora, started=started)
        if held_out:
            record_eval_after(trainer, result, output_dir, before)
        return result


def record_eval_after(trainer: Any, result: TrainResult, output_dir: Path, before: float | None) -> None:
    """Add the held-out loss before and after training to the result and its saved marker."""
    result.metrics["kd_eval_loss_before"] = before
    result.metrics["kd_eval_loss_after"] = float(trainer.evaluate()["eval_loss"])
    save_metrics(result, output_dir)


def save_metrics(result: TrainResult, output_dir: Path) -> None:
    """Write `result.metrics` into the finished folder's marker, so a reused result has them too."""
    if is_main_process():
        path = output_dir / RESULT
        write_text_atomic(path, json.dumps({**json.loads(path.read_text()), "metrics": result.metrics},
                                           indent=1, default=str))


def _teacher_folder(teacher_path: str | Path) -> Path | str:
    """A local teacher (folder or hub id), its tokenizer checked."""
    text = str(teacher_path)
    path = Path(text)
    if path.is_dir() and not (path / "config.json").is_file():
        raise TrainError(f"teacher {path} is not a model folder (no config.json)")
    load_tokenizer(path if path.is_dir() else text)  # a clear error now rather than deep in TRL
    return path if path.is_dir() else text


def _as_messages(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Prompt/completion rows as one chat each: GOLD's collator finds the answer in the chat."""
    return [{"messages": [*row["prompt"], *row["completion"]]} for row in rows]


def _dataset(rows: list[dict[str, Any]]) -> Any:
    from datasets import Dataset

    return Dataset.from_list(rows)


def eval_before(trainer: Any, output_dir: Path, resume: Path | None) -> float:
    """The held-out distillation loss of the untrained student (kept, so a resumed run reports it)."""
    path = output_dir / EVAL_BEFORE
    if resume is not None and path.is_file():
        return float(json.loads(path.read_text())["eval_loss"])
    loss = float(trainer.evaluate()["eval_loss"])
    if is_main_process():
        write_text_atomic(path, json.dumps({"eval_loss": loss}))
    return loss

