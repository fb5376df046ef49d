"""Export the training sets for users with their own trainer: TRL JSONL and LLaMA-Factory sharegpt JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from codistill.jsonl import write_text_atomic
from codistill.train.datasets import check_rows, write_rows

SFT_NAME = "codistill_sft"
DPO_NAME = "codistill_dpo"
_FROM = {"user": "human", "assistant": "gpt"}


def _sharegpt(messages: list[dict[str, str]]) -> tuple[list[dict[str, str]], str | None]:
    """Messages as sharegpt turns, with a leading system message split off (LLaMA-Factory's layout)."""
    system = None
    if messages and messages[0]["role"] == "system":
        system, messages = messages[0]["content"], messages[1:]
    turns = []
    for m in messages:
        if m["role"] not in _FROM:
            raise ValueError(f"LLaMA-Factory sharegpt turns are user or assistant, not {m['role']!r}")
        turns.append({"from": _FROM[m["role"]], "value": m["content"]})
    return turns, system


def llamafactory_sft(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """SFT rows as LLaMA-Factory sharegpt records: {"conversations": [...], "system"?: ...}."""
    out = []
    for row in rows:
        turns, system = _sharegpt(row["prompt"] + row["completion"])
        out.append({"id": row.get("id"), "conversations": turns, **({"system": system} if system else {})})
    return out


def llamafactory_dpo(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """DPO rows as LLaMA-Factory sharegpt preference records: conversations + chosen + rejected."""
    out = []
    for row in rows:
        turns, system = _sharegpt(row["prompt"])
        chosen, _ = _sharegpt(row["chosen"][-1:])
        rejected, _ = _sharegpt(row["rejected"][-1:])
        out.append({"id": row.get("id"), "conversations": turns, "chosen": chosen[0], "rejected": rejected[0],
                    **({"system": system} if system else {})})
    return out


def dataset_info(sft_file: str | None, dpo_file: str | None) -> dict[str, Any]:
    """LLaMA-Factory's dataset_info.json entries describing the exported files."""
    info: dict[str, Any] = {}
    if sft_file:
        info[SFT_NAME] = {"file_name": sft_file, "formatting": "sharegpt",
                          "columns": {"messages": "conversations", "system": "system"}}
    if dpo_file:
        info[DPO_NAME] = {"file_name": dpo_file, "formatting": "sharegpt", "ranking": True,
                          "columns": {"messages": "conversations", "chosen": "chosen", "rejected": "rejected",
                                      "system": "system"}}
    return info


def _write_json(path: Path, data: Any) -> Path:
    return write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=1))


def export_datasets(sft: list[dict[str, Any]], dpo: list[dict[str, Any]], out_dir: Path) -> dict[str, Path]:
    """Write TRL JSONL (trl/sft.jsonl, trl/dpo.jsonl) and LLaMA-Factory files (llamafactory/...).

    An empty set is skipped. Returns {"trl_sft", "trl_dpo", "llamafactory_sft", "llamafactory_dpo",
    "llamafactory_info"} -> path, for the files written.
    """
    out_dir = Path(out_dir)
    paths: dict[str, Path] = {}
    lf = out_dir / "llamafactory"
    sft_file = dpo_file = None
    if sft:
        check_rows(sft, "sft", source="sft rows")
        paths["trl_sft"] = write_rows(sft, out_dir / "trl" / "sft.jsonl")
        sft_file = f"{SFT_NAME}.json"
        paths["llamafactory_sft"] = _write_json(lf / sft_file, llamafactory_sft(sft))
    if dpo:
        check_rows(dpo, "dpo", source="dpo rows")
        paths["trl_dpo"] = write_rows(dpo, out_dir / "trl" / "dpo.jsonl")
        dpo_file = f"{DPO_NAME}.json"
        paths["llamafactory_dpo"] = _write_json(lf / dpo_file, llamafactory_dpo(dpo))
    if sft_file or dpo_file:
        paths["llamafactory_info"] = _write_json(lf / "dataset_info.json", dataset_info(sft_file, dpo_file))
    return paths
