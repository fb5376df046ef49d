"""Code-A1's reinforcement learning: a few GRPO steps for one model through TRL's GRPOTrainer.

The stage code alternates the Code and the Test model by calling `train_grpo` for each in turn,
passing the previous call's `model_dir` as the next `model_path`. Reward functions are plain TRL
reward functions `(prompts, completions, **kwargs) -> list[float]`; every extra column of the
prompt rows reaches them as a keyword argument (one value per completion).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from codistill.config import Coevolve, Lora
from codistill.train.common import (
    TrainError,
    TrainResult,
    bars,
    begin,
    fingerprint,
    finished_result,
    load_tokenizer,
    overrides,
    peft_config,
    rows_dataset,
    run_trainer,
    trainer_args,
    training_device,
)
from codistill.train.datasets import check_rows

RewardFunc = Callable[..., list[float]]


@dataclass(frozen=True)
class GRPOSettings:
    """What one GRPO call needs; `from_coevolve` maps the config's coevolve section onto it."""

    steps: int = 4
    group_size: int = 4  # completions sampled per prompt (TRL's num_generations)
    questions_per_step: int = 2  # prompts per optimizer step
    kl_coef: float = 0.04  # TRL's beta; 0 loads no reference model
    lr: float = 1e-6
    max_completion_length: int = 384
    temperature: float = 1.0
    top_p: float = 1.0
    grad_accum: int = 1
    use_vllm: bool = False  # GPU only: generate with vLLM inside TRL (pip install codistill[vllm])
    vllm_mode: str = "colocate"  # or "server": a separate `trl vllm-serve` process

    @classmethod
    def from_coevolve(cls, section: Coevolve, **overrides: Any) -> GRPOSettings:
        """Settings from the config's `coevolve` section (group size, KL, lr, steps, lengths)."""
        return cls(**{"steps": section.steps, "group_size": section.group_size,
                      "questions_per_step": section.questions_per_step, "kl_coef": section.kl_coef,
                      "lr": section.lr, "max_completion_length": section.max_new_tokens, **overrides})


def _name(func: RewardFunc) -> str:
    return getattr(func, "__name__", None) or type(func).__name__


def train_grpo(
    model_path: str | Path,
    prompts: list[dict[str, Any]],
    reward_funcs: list[RewardFunc],
    output_dir: Path,
    settings: GRPOSettings | Coevolve,
    *,
    seed: int = 0,
    device: str = "auto",
    max_steps: int | None = None,
    progress: bool = True,
    lora: Lora | None = None,
    save_steps: float = 0.25,
    trl_args: dict[str, Any] | None = None,
) -> TrainResult:
    """Run `max_steps` (default: settings.steps) GRPO steps on `prompts` rows ({"prompt": [messages], ...}).

    Each step samples `group_size` completions for `questions_per_step` prompts, scores them with
    every reward function (summed), and takes one policy step with KL coefficient `kl_coef`
    against the model at `model_path`.
    """
    started = time.monotonic()
    output_dir = Path(output_dir)
    if isinstance(settings, Coevolve):
        settings = GRPOSettings.from_coevolve(settings)
    rows = check_rows(prompts, "grpo")
    if not reward_funcs:
        raise TrainError("train_grpo needs at least one reward function (prompts, completions, **kw) -> list[float]")
    if len(rows) < settings.questions_per_step:
        raise TrainError(f"{len(rows)} prompt rows for questions_per_step={settings.questions_per_step}; "
                         "give more prompts or lower coevolve.questions_per_step")
    steps = max_steps if max_steps is not None else settings.steps
    if settings.use_vllm and training_device(device) == "cpu":
        raise TrainError("use_vllm needs a CUDA GPU; leave it off on CPU")
    recipe = {"grpo": asdict(settings), "steps": steps, "rewards": [_name(f) for f in reward_funcs],
              "lora": lora.model_dump() if lora else None, "seed": seed, "trl_args": trl_args or {}}
    fp = fingerprint("grpo", rows, recipe)
    if (done := finished_result(output_dir, "grpo", fp)) is not None:
        return done
    resume = begin(output_dir, "grpo", fp, recipe)

    with bars(progress):
        from trl import GRPOConfig, GRPOTrainer

        args = GRPOConfig(**{
            **trainer_args(output_dir, device=device, seed=seed, progress=progress, lr=settings.lr,
                           batch_size=settings.questions_per_step * settings.group_size,
                           grad_accum=settings.grad_accum, max_steps=steps, save_steps=save_steps),
            "num_generations": settings.group_size,
            "beta": settings.kl_coef,
            "max_completion_length": settings.max_completion_length,
            "temperature": settings.temperature,
            "top_p": settings.top_p,
            "use_vllm": settings.use_vllm,
            "vllm_mode": settings.vllm_mode,
            **overrides(trl_args),
        })
        trainer = GRPOTrainer(
            model=str(model_path), reward_funcs=list(reward_funcs), args=args, train_dataset=rows_dataset(rows, output_dir, args),
            processing_class=load_tokenizer(model_path), peft_config=peft_config(lora),
        )
        return run_trainer(trainer, kind="grpo", output_dir=output_dir, fp=fp, model_path=model_path,
                           resume=resume, lora=lora, started=started)

