"""Training from exported files (what `codistill train` runs): model specs to folders, SFT then DPO.

Works the same under `accelerate launch` (one process per GPU): every process calls the same
functions, the Trainer shards the batches, and only rank 0 writes the final folders.
"""

from __future__ import annotations

from pathlib import Path

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
    """Where logit distillation loads the teacher from; a served teacher is refused with the way out."""
    if spec.startswith("openai:"):
        raise TrainError(
            f"train.kd needs the teacher's weights, and {spec} is a served model: name a local teacher "
            "(embedded:teacher, hf:<id> or a folder) in models.teacher, or set train.kd.enabled to false "
            "for sequence-level SFT on the served teacher's answers")
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
    from codistill.train.dpo import train_dpo
    from codistill.train.sft import train_sft

    if sft_file is None and dpo_file is None:
        raise TrainError("nothing to train: give an SFT file, a DPO file, or both")
    # Read both files before any training, so a bad DPO file fails in seconds, not after SFT.
    sft = read_rows(sft_file, "sft") if sft_file else None
    dpo = read_rows(dpo_file, "dpo") if dpo_file else None
    current = resolve_model(model or config.models.student)
    seed = config.train.seed if config.train.seed is not None else config.seed
    device = device or config.models.device
    lora = config.train.lora if config.train.lora.enabled else None
    results: dict[str, TrainResult] = {}
    if sft is not None and config.train.kd.enabled:
        from codistill.train.kd import train_kd

        results["kd"] = train_kd(current, teacher_weights(teacher or config.models.teacher), sft,
                                 output / "kd", config.train.kd, lora=lora, seed=seed, device=device,
                                 progress=progress, max_steps=max_steps)
        current = str(results["kd"].model_dir)
    elif sft is not None:
        results["sft"] = train_sft(current, sft, output / "sft", config.train.sft, lora=lora, seed=seed,
                                   device=device, progress=progress, max_steps=max_steps)
        current = str(results["sft"].model_dir)
    if dpo is not None:
        results["dpo"] = train_dpo(current, dpo, output / "dpo", config.train.dpo, lora=lora, seed=seed,
                                   device=device, progress=progress, max_steps=max_steps)
    return results
