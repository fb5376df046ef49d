"""What SFT, DPO and GRPO share: trainer arguments, device and precision, resume, the final model folder.

A training call owns one output folder:

    output_dir/
      train-request.json   what is being trained (a fingerprint of rows and settings)
      checkpoint-<step>/    Trainer checkpoints (model, optimizer, RNG), removed once finished
      model/               the finished model: merged weights + tokenizer, a plain HF folder
      train-result.json    written last, atomically: the folder is finished when this exists
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from codistill.config import Lora
from codistill.errors import UserError
from codistill.jsonl import write_text_atomic

if TYPE_CHECKING:
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import PreTrainedTokenizerBase, Trainer, TrainingArguments

REQUEST = "train-request.json"
RESULT = "train-result.json"
MODEL = "model"
ROWS = "rows"
CHECKPOINT = "checkpoint-"


class TrainError(UserError, RuntimeError):
    """Training cannot start or finish; the message says what to change."""


@dataclass
class TrainResult:
    """The outcome of one training call; `model_dir` is the next stage's model path."""

    output_dir: Path
    model_dir: Path
    steps: int
    train_loss: float | None
    metrics: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    resumed_from: str | None = None
    log_history: list[dict[str, Any]] = field(default_factory=list)
    kind: str = ""
    reused: bool = False  # True when the folder already held this finished model

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (paths as strings)."""
        data = asdict(self)
        data["output_dir"], data["model_dir"] = str(self.output_dir), str(self.model_dir)
        return data


def fingerprint(kind: str, rows: list[dict[str, Any]], settings: dict[str, Any]) -> str:
    """A stable hash of what a training call learns from and how (not where the model lives)."""
    blob = json.dumps({"kind": kind, "rows": rows, "settings": settings}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def is_main_process() -> bool:
    """True on the process that writes files (rank 0 under accelerate/torchrun, else always)."""
    return int(os.environ.get("RANK", "0")) == 0


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_text_atomic(path, json.dumps(data, indent=1, default=str))


def finished_result(output_dir: Path, kind: str, fp: str) -> TrainResult | None:
    """The saved result when `output_dir` already holds this finished training, else None."""
    path = output_dir / RESULT
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    if data.get("fingerprint") != fp or data.get("kind") != kind:
        raise TrainError(
            f"{output_dir} already holds a finished {data.get('kind')} model trained on other rows or "
            "settings; delete that folder or choose another output folder"
        )
    if not (output_dir / MODEL / "config.json").is_file():
        raise TrainError(f"{output_dir / MODEL} is missing although {path} says training finished; "
                         "delete the folder and train again")
    _remove_checkpoints(output_dir)
    if is_main_process():
        shutil.rmtree(output_dir / ROWS, ignore_errors=True)
    return TrainResult(
        output_dir=output_dir, model_dir=output_dir / MODEL, steps=int(data["steps"]),
        train_loss=data.get("train_loss"), metrics=data.get("metrics", {}), seconds=data.get("seconds", 0.0),
        resumed_from=data.get("resumed_from"), log_history=data.get("log_history", []), kind=kind, reused=True,
    )


def _checkpoints(output_dir: Path) -> list[Path]:
    found = [p for p in output_dir.glob(f"{CHECKPOINT}*") if p.is_dir() and p.name[len(CHECKPOINT):].isdigit()]
    return sorted(found, key=lambda p: int(p.name[len(CHECKPOINT):]))


def _remove_checkpoints(output_dir: Path) -> None:
    if is_main_process():
        for ckpt in _checkpoints(output_dir):
            shutil.rmtree(ckpt, ignore_errors=True)


def _readable_state(checkpoint: Path) -> bool:
    try:
        json.loads((checkpoint / "trainer_state.json").read_text())
    except (OSError, ValueError):
        return False
    return True


def begin(output_dir: Path, kind: str, fp: str, settings: dict[str, Any]) -> Path | None:
    """Record what is trained here; return the last complete checkpoint to resume from, if any."""
    output_dir.mkdir(parents=True, exist_ok=True)
    request = output_dir / REQUEST
    checkpoints = _checkpoints(output_dir)
    if request.is_file() and checkpoints:
        old = json.loads(request.read_text())
        if old.get("fingerprint") != fp:
            raise TrainError(
                f"{output_dir} holds checkpoints of a {old.get('kind')} run on other rows or settings; "
                "delete the checkpoint-* folders (or the whole folder) to start over, or choose another folder"
            )
    # The Trainer writes trainer_state.json last, so a checkpoint without it (or with half of it)
    # was cut short by a crash.
    complete = [c for c in checkpoints if _readable_state(c)]
    if is_main_process():
        for partial in set(checkpoints) - set(complete):
            shutil.rmtree(partial, ignore_errors=True)
        _write_json(request, {"kind": kind, "fingerprint": fp, "settings": settings})
    return complete[-1] if complete else None


def training_device(device: str) -> str:
    """'cpu' or 'cuda' from 'auto' | 'cpu' | 'cuda'; the Trainer picks the GPU index per process."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return "cpu"
    if device == "cuda":
        if not torch.cuda.is_available():
            raise TrainError("device 'cuda' asked for, but torch sees no CUDA GPU: use device 'cpu' or 'auto'")
        return "cuda"
    if device.startswith("cuda:"):
        raise TrainError(f"device {device!r}: pick the GPU with CUDA_VISIBLE_DEVICES={device[5:]} and device 'cuda'")
    raise TrainError(f"unknown training device {device!r}: use auto, cpu or cuda")


def trainer_args(
    output_dir: Path, *, device: str, seed: int, progress: bool, lr: float, batch_size: int,
    grad_accum: int = 1, epochs: float = 1.0, max_steps: int | None = None, save_steps: float = 0.25,
) -> dict[str, Any]:
    """Keyword arguments shared by SFTConfig, DPOConfig and GRPOConfig."""
    on = training_device(device)
    if on == "cpu":
        # TRL's default bf16 fails on CPU unless use_cpu is set ("doesn't support bf16/gpu"). bf16
        # autocast pays only where the CPU has bf16 instructions (1.6x per CPU-second on the
        # student, measured; weights stay fp32). Gradient checkpointing only trades CPU for memory.
        from codistill.models.hardware import cpu_has_native_bf16

        precision = {"bf16": cpu_has_native_bf16(), "fp16": False, "use_cpu": True}
        checkpointing = False
    else:
        bf16 = torch.cuda.is_bf16_supported()
        precision = {"bf16": bf16, "fp16": not bf16}
        checkpointing = True
    return {
        "output_dir": str(output_dir),
        "learning_rate": lr,
        "per_device_train_batch_size": batch_size,
        "gradient_accumulation_steps": grad_accum,
        "num_train_epochs": epochs,
        "max_steps": max_steps if max_steps is not None else -1,
        "seed": seed,
        "data_seed": seed,
        "logging_steps": 1,
        "logging_first_step": True,
        "save_strategy": "steps",
        "save_steps": save_steps,
        "save_total_limit": 2,
        "report_to": "none",
        "disable_tqdm": not progress,
        "activation_checkpointing": checkpointing,
        "dataloader_num_workers": 0,
        **precision,
    }


def overrides(trl_args: dict[str, Any] | None) -> dict[str, Any]:
    """User overrides of TRL config fields, with transformers' deprecated alias mapped to its new name."""
    out = dict(trl_args or {})
    if "gradient_checkpointing" in out:  # else the old name would lose to our activation_checkpointing
        out.setdefault("activation_checkpointing", out.pop("gradient_checkpointing"))
    return out


def peft_config(lora: Lora | None, task_type: str = "CAUSAL_LM") -> LoraConfig | None:
    """A peft LoraConfig from the config section, or None for full fine-tuning."""
    if lora is None or not lora.enabled:
        return None
    from peft import LoraConfig

    return LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                      target_modules=list(lora.target_modules), task_type=task_type)


def load_tokenizer(model_path: str | Path) -> PreTrainedTokenizerBase:
    """The model folder's tokenizer, with a pad token and a chat template checked."""
    from transformers import AutoTokenizer

    path = Path(model_path)
    if path.is_dir() and not (path / "config.json").is_file():
        raise TrainError(f"{path} is not a model folder (no config.json); pass a transformers model folder "
                         "(e.g. the one `codistill models prepare student` prints) or a hub id")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(model_path))
    except OSError as exc:
        raise TrainError(f"cannot load a tokenizer from {model_path}: {exc}") from None
    if not tokenizer.chat_template:
        raise TrainError(f"the tokenizer of {model_path} has no chat template; training rows are chat messages, "
                         "so use an instruct model or add a chat_template to tokenizer_config.json")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


@contextmanager
def bars(progress: bool) -> Iterator[None]:
    """Without progress, also silence the datasets and transformers bars (loading, tokenizing, saving)."""
    import datasets
    from transformers.utils import logging as hf_logging

    if progress:
        yield
        return
    were_off = datasets.are_progress_bars_disabled(), not hf_logging.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if not were_off[0]:
            datasets.enable_progress_bars()
        if not were_off[1]:
            hf_logging.enable_progress_bar()


def rows_dataset(rows: list[dict[str, Any]], output_dir: Path, args: TrainingArguments) -> Dataset:
    """The rows as a datasets.Dataset stored in output_dir/rows, shared by every training process.

    An in-memory Dataset keeps its map caches in a per-process temporary folder, so under
    `accelerate launch` the reference log-probs rank 0 caches would be invisible to the others.
    """
    from datasets import Dataset, load_from_disk

    folder = output_dir / ROWS
    with args.main_process_first(local=False, desc="training rows"):
        if args.process_index == 0:
            shutil.rmtree(folder, ignore_errors=True)
            Dataset.from_list(rows).save_to_disk(str(folder))
        return load_from_disk(str(folder))


def run_trainer(
    trainer: Trainer, *, kind: str, output_dir: Path, fp: str, model_path: str | Path,
    resume: Path | None, lora: Lora | None, started: float,
) -> TrainResult:
    """Train (resuming when a checkpoint exists), save the merged model, write the result marker."""
    from transformers.trainer_callback import PrinterCallback

    if trainer.args.disable_tqdm:
        trainer.remove_callback(PrinterCallback)  # without a bar the Trainer prints every log dict
    setup_seconds = round(time.monotonic() - started, 3)  # loading, tokenizing, reference log-probs
    if resume is not None:
        _restore_token_count(trainer, resume)
    out = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    model_dir = output_dir / MODEL
    staging = output_dir / f".{MODEL}.staging"
    if is_main_process() and staging.exists():
        shutil.rmtree(staging)
    trainer.save_model(str(staging))  # collective under DeepSpeed/FSDP: every rank calls it
    history = list(trainer.state.log_history)
    loss = mean_loss(history)
    if loss is None:
        loss = getattr(out, "training_loss", None)
    metrics = {**out.metrics, "setup_seconds": setup_seconds}
    for summary in (metrics, *history):  # the Trainer's own figure covers the last session only
        if loss is not None and "train_loss" in summary:
            summary["train_loss"] = loss
    result = TrainResult(
        output_dir=output_dir, model_dir=model_dir, steps=int(trainer.state.global_step),
        train_loss=loss, metrics=metrics, resumed_from=str(resume) if resume else None,
        log_history=history, kind=kind,
    )
    if is_main_process():
        if lora is not None and lora.enabled:
            _merge_adapter(model_path, staging)
        (staging / "training_args.bin").unlink(missing_ok=True)  # a pickle; the folder stays plain
        if model_dir.exists():
            shutil.rmtree(model_dir)
        os.replace(staging, model_dir)
        result.seconds = round(time.monotonic() - started, 3)
        _write_json(output_dir / RESULT, {**result.to_dict(), "fingerprint": fp})
        _remove_checkpoints(output_dir)
        shutil.rmtree(output_dir / ROWS, ignore_errors=True)
    trainer.accelerator.wait_for_everyone()
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _restore_token_count(trainer: Trainer, checkpoint: Path) -> None:
    """TRL counts trained tokens (logged as num_tokens) outside the checkpoint: without this a
    resumed training would count from 0 again. The last logged count is where it stood."""
    if not hasattr(trainer, "_total_train_tokens"):
        return
    state = json.loads((checkpoint / "trainer_state.json").read_text())
    counts = [h["num_tokens"] for h in state.get("log_history", []) if "num_tokens" in h]
    if counts:
        trainer._total_train_tokens = counts[-1]


def mean_loss(log_history: list[dict[str, Any]]) -> float | None:
    """The training loss averaged over every step, from the logged losses (None without any).

    The Trainer's own `training_loss` covers only the steps since it last resumed; the log history
    is restored with each checkpoint, so this number is the same however often training resumed.
    """
    total, steps, last = 0.0, 0, 0
    for entry in log_history:
        if "loss" in entry and "step" in entry:
            step = int(entry["step"])
            total += float(entry["loss"]) * (step - last)  # each log averages the steps since the last
            steps += step - last
            last = step
    return total / steps if steps else None


@contextmanager
def disk_errors(folder: Path) -> Iterator[None]:
    """Report a training failure caused by a full or read-only disk as the OSError naming `folder`.

    torch and safetensors say "file write failed" without a path; a test write says what is wrong.
    """
    try:
        yield
    except Exception as exc:
        probe = folder / f".write-probe.{os.getpid()}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(bytes(1 << 16))
        except OSError as disk:
            raise type(disk)(disk.errno, disk.strerror, str(folder)) from exc
        finally:
            with suppress(OSError):
                probe.unlink(missing_ok=True)
        raise


def _merge_adapter(model_path: str | Path, adapter_dir: Path) -> None:
    """Replace a saved LoRA adapter folder by the full model with the adapter merged in."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # Merge on CPU from the files on disk, so it works the same after DeepSpeed or FSDP training.
    base = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32, device_map=None)
    merged = PeftModel.from_pretrained(base, adapter_dir).merge_and_unload()
    tokenizer = AutoTokenizer.from_pretrained(adapter_dir)
    full = adapter_dir.with_name(adapter_dir.name + ".merged")
    if full.exists():
        shutil.rmtree(full)
    merged.save_pretrained(full)
    tokenizer.save_pretrained(full)
    shutil.rmtree(adapter_dir)
    os.replace(full, adapter_dir)
