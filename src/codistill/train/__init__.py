"""Training: thin wrappers over TRL (SFT, DPO, GRPO, logit distillation), training rows, and exports for other trainers.

Importing this package is cheap; TRL and torch load when a trainer function is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codistill.train.datasets import (
    check_rows,
    dpo_rows,
    grpo_rows,
    read_rows,
    sft_rows,
    write_rows,
)
from codistill.train.export import export_datasets

if TYPE_CHECKING:
    from codistill.train.common import TrainError, TrainResult
    from codistill.train.dpo import train_dpo
    from codistill.train.grpo import GRPOSettings, train_grpo
    from codistill.train.kd import train_kd
    from codistill.train.sft import train_sft

_LAZY = {
    "TrainResult": "common", "TrainError": "common", "train_sft": "sft", "train_dpo": "dpo",
    "train_grpo": "grpo", "GRPOSettings": "grpo", "train_kd": "kd",
}

__all__ = [
    "GRPOSettings", "TrainError", "TrainResult", "check_rows", "dpo_rows", "export_datasets", "grpo_rows",
    "read_rows", "sft_rows", "train_dpo", "train_grpo", "train_kd", "train_sft", "write_rows",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"codistill.train.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'codistill.train' has no attribute {name!r}")
