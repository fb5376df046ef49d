"""Exports for other trainers: TRL JSONL and LLaMA-Factory sharegpt files with dataset_info.json."""

from __future__ import annotations

import json

from codistill.records import Problem
from codistill.train import dpo_rows, export_datasets, read_rows, sft_rows

P = Problem(id="q1", question="Write add(a, b).", entry_point="add")


def test_export_writes_trl_and_llamafactory_files(tmp_path) -> None:
    sft = sft_rows([(P, "def add(a, b):\n    return a + b")])
    dpo = dpo_rows([(P, "def add(a, b):\n    return a + b", "def add(a, b):\n    return a - b")])
    paths = export_datasets(sft, dpo, tmp_path)
    assert set(paths) == {"trl_sft", "trl_dpo", "llamafactory_sft", "llamafactory_dpo", "llamafactory_info"}
    assert read_rows(paths["trl_sft"], "sft") == sft
    assert read_rows(paths["trl_dpo"], "dpo") == dpo

    user = sft[0]["prompt"][0]["content"]
    answer = sft[0]["completion"][0]["content"]
    assert json.loads(paths["llamafactory_sft"].read_text()) == [
        {"id": "q1", "conversations": [{"from": "human", "value": user}, {"from": "gpt", "value": answer}]}
    ]
    pref = json.loads(paths["llamafactory_dpo"].read_text())[0]
    assert pref["conversations"] == [{"from": "human", "value": user}]
    assert pref["chosen"] == {"from": "gpt", "value": answer}
    assert pref["rejected"]["value"].endswith("return a - b\n```")

    info = json.loads(paths["llamafactory_info"].read_text())
    assert info["codistill_sft"]["file_name"] == "codistill_sft.json"
    assert info["codistill_sft"]["formatting"] == "sharegpt"
    assert info["codistill_dpo"]["ranking"] is True
    assert info["codistill_dpo"]["columns"]["chosen"] == "chosen"
    for entry in info.values():  # every described file exists beside dataset_info.json
        assert (paths["llamafactory_info"].parent / entry["file_name"]).is_file()


def test_system_message_goes_to_the_system_column_and_empty_sets_are_skipped(tmp_path) -> None:
    row = sft_rows([(P, "x = 1")])[0]
    row["prompt"] = [{"role": "system", "content": "Be terse."}, *row["prompt"]]
    paths = export_datasets([row], [], tmp_path)
    assert "trl_dpo" not in paths and "llamafactory_dpo" not in paths
    record = json.loads(paths["llamafactory_sft"].read_text())[0]
    assert record["system"] == "Be terse."
    assert [t["from"] for t in record["conversations"]] == ["human", "gpt"]
    assert list(json.loads(paths["llamafactory_info"].read_text())) == ["codistill_sft"]
