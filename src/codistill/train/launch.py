"""Training from exported files (what `codistill train` runs): model specs to folders, SFT then DPO.

Works the same under `accelerate launch` (one process per GPU): every process calls the same
functions, the Trainer shards the batches, and only rank 0 writes the final folders.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from codistill.config import RunConfig
from codistill.train.common import TrainError, TrainResult
from codistill.train.datasets import read_rows


def resolve_model(spec: str) -> str:
    """A trainable model location from a spec: a folder, `hf:<id or folder>`, or `embedded:<name>`."""
    from codistill.models.base import ModelError
    from codistill.models.spec import parse_spec

    try:
        parsed = parse_spec(spec)
    except ModelError as exc:
        raise TrainError(str(exc)) from None
    if parsed.kind == "hf":
        if parsed.revision:
            raise TrainError(f"{spec}: training takes no @revision; download that revision to a folder first")
        return parsed.target
    if parsed.kind == "embedded":
        from codistill.models.embedded import prepare

        try:
            return str(prepare(parsed.target))
        except ModelError as exc:
            raise TrainError(f"cannot prepare {spec}: {exc}") from None
    raise TrainError(f"cannot train {spec}: training needs weights (a model folder, hf:<hub id> or "
                     f"embedded:<name>), not a {parsed.kind}: spec")


def teacher_weights(spec: str) -> str:
    """Where logit distillation finds the teacher: local weights, or an `openai:` spec as it is
    (train_kd probes the endpoint and distils from its logprobs)."""
    if spec.strip().startswith("openai:"):
        return spec.strip()
    return resolve_model(spec)


def train_files(
    config: RunConfig,
    output: Path,
    *,
    model: str | None = None,
    sft_file: Path | None = None,
    dpo_file: Path | None = None,
    device: str | None = None,
    max_steps: int | None = None,
    progress: bool = True,
    teacher: str | None = None,
) -> dict[str, TrainResult]:
    """SFT on `sft_file` into output/sft, then DPO on `dpo_file` into output/dpo (reference: the SFT model).

    Either file may be left out; settings come from `config.train`. With `train.kd.enabled` the SFT
    rows are distilled from the teacher's logits instead (output/kd; teacher: `teacher` or the
    config's models.teacher). Returns {"sft" or "kd": ..., "dpo": ...}.
    """
    if sft_file is None and dpo_file is None:
        raise TrainError("nothing to train: give an SFT file, a DPO file, or both")
    # Read both files before any training, so a bad DPO file fails in seconds, not after SFT.
    sft = read_rows(sft_file, "sft") if sft_file else []
    dpo = read_rows(dpo_file, "dpo") if dpo_file else []
    return train_rows(config, resolve_model(model or config.models.student), sft, dpo, output,
                      device=device or config.models.device, teacher=teacher, progress=progress,
                      max_steps=max_steps)


def train_rows(
    config: RunConfig,
    base: str | Path,
    sft: list[dict[str, Any]],
    dpo: list[dict[str, Any]],
    output: Path,
    *,
    device: str,
    teacher: str | None = None,
    progress: bool = True,
    max_steps: int | None = None,
    announce: Callable[[str, int], None] | None = None,
    finished: Callable[[TrainResult], None] | None = None,
) -> dict[str, TrainResult]:
    """SFT (or, with `train.kd.enabled`, logit distillation from the teacher) on `sft` into
    output/sft (output/kd), then DPO on `dpo` into output/dpo from that model. Empty row lists are
    skipped; `announce(kind, rows)` is called before each training and `finished(result)` right
    after it (so a run killed in DPO has already said how SFT ended). The one place that decides
    what `codistill train` and the cycle's training stage run."""
    from codistill.train.dpo import train_dpo
    from codistill.train.sft import train_sft

    t = config.train
    seed = t.seed if t.seed is not None else config.seed
    lora = t.lora if t.lora.enabled else None
    common = {"lora": lora, "seed": seed, "device": device, "progress": progress, "max_steps": max_steps}
    results: dict[str, TrainResult] = {}
    current = str(base)
    if sft:
        kind = "kd" if t.kd.enabled else "sft"
        if announce:
            announce(kind, len(sft))
        if kind == "kd":
            from codistill.train.kd import train_kd

            results[kind] = train_kd(current, teacher_weights(teacher or config.models.teacher), sft,
                                     output / kind, t.kd, cache=config.cache, **common)
        else:
            results[kind] = train_sft(current, sft, output / kind, t.sft, **common)
        if finished:
            finished(results[kind])
        current = str(results[kind].model_dir)
    if dpo:
        if announce:
            announce("dpo", len(dpo))
        results["dpo"] = train_dpo(current, dpo, output / "dpo", t.dpo, **common)
        if finished:
            finished(results["dpo"])
    return results
