"""What a `codistill run` stage depends on: the config values and questions its fingerprint names."""

from __future__ import annotations

from typing import Any

from codistill.config import RunConfig, dump_config
from codistill.records import Problem
from codistill.store import fingerprint_of


def config_values(config: RunConfig, *keys: str) -> dict[str, Any]:
    """The config values at dotted `keys`, for a stage's fingerprint."""
    data = dump_config(config)
    out: dict[str, Any] = {}
    for key in keys:
        node: Any = data
        for part in key.split("."):
            node = node[part]
        out[key] = node
    return out


def questions_fingerprint(questions: list[Problem]) -> str:
    """How many questions and a hash of them in order, so an edited seed file is not resumed on."""
    digest = fingerprint_of({"questions": [q.model_dump(mode="json") for q in questions]})
    return f"{len(questions)} questions #{digest}"
