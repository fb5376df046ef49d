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
) -> dict[str, TrainResult]:
    """SFT on `sft_file` into output/sft, then DPO on `dpo_file` into output/dpo (reference: the SFT model).

    Either file may be left out; settings come from `config.train`. Returns {"sft": ..., "dpo": ...}.
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
    if sft is not None:
        results["sft"] = train_sft(current, sft, output / "sft", config.train.sft, lora=lora, seed=seed,
                                   device=device, progress=progress, max_steps=max_steps)
        current = str(results["sft"].model_dir)
    if dpo is not None:
        results["dpo"] = train_dpo(current, dpo, output / "dpo", config.train.dpo, lora=lora, seed=seed,
                                   device=device, progress=progress, max_steps=max_steps)
    return results
