"""The store of trained models: keys that change with every input, atomic publication, linking."""

from __future__ import annotations

import json
from pathlib import Path

from codistill.train.reuse import META, TrainedModels, training_key

ROWS = {"sft": [{"prompt": "p", "completion": "c"}], "dpo": []}


def test_key_changes_with_every_input() -> None:
    base = training_key("hf:local@abc/fp32", ROWS, {"lr": 1e-5}, 0, "cpu")
    assert base == training_key("hf:local@abc/fp32", ROWS, {"lr": 1e-5}, 0, "cpu")
    variants = [
        training_key("hf:local@abd/fp32", ROWS, {"lr": 1e-5}, 0, "cpu"),
        training_key("hf:local@abc/fp32", {"sft": [{"prompt": "p", "completion": "d"}], "dpo": []},
                     {"lr": 1e-5}, 0, "cpu"),
        training_key("hf:local@abc/fp32", ROWS, {"lr": 2e-5}, 0, "cpu"),
        training_key("hf:local@abc/fp32", ROWS, {"lr": 1e-5}, 1, "cpu"),
        training_key("hf:local@abc/fp32", ROWS, {"lr": 1e-5}, 0, "cuda"),
    ]
    assert len({base, *variants}) == 6


def test_put_then_restore_links_the_files(tmp_path: Path) -> None:
    model = tmp_path / "run" / "model"
    (model / "sub").mkdir(parents=True)
    (model / "model.safetensors").write_bytes(b"weights")
    (model / "sub" / "tokenizer.json").write_text("{}")
    store = TrainedModels(tmp_path / "trained")
    assert store.get("k1") is None and store.restore("k1", tmp_path / "x") is None
    stored = store.put("k1", model, {"sft": {"steps": 3}})
    assert (stored / "model.safetensors").stat().st_ino == (model / "model.safetensors").stat().st_ino
    assert json.loads((stored.parent / META).read_text()) == {"sft": {"steps": 3}}
    assert not list((tmp_path / "trained").glob(".*partial"))

    dest = tmp_path / "run2" / "model"
    dest.mkdir(parents=True)
    (dest / "stale.bin").write_bytes(b"old")  # a half-restored folder from a crash is replaced
    assert store.restore("k1", dest) == {"sft": {"steps": 3}}
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [
        "model.safetensors", "sub/tokenizer.json"]
    # Putting the same key again keeps the first model.
    other = tmp_path / "other"
    other.mkdir()
    (other / "model.safetensors").write_bytes(b"different")
    assert (store.put("k1", other, {}) / "model.safetensors").read_bytes() == b"weights"


def test_an_unreadable_entry_is_a_miss(tmp_path: Path) -> None:
    store = TrainedModels(tmp_path)
    (tmp_path / "k2" / "model").mkdir(parents=True)
    (tmp_path / "k2" / META).write_text("{not json")
    assert store.get("k2") is None
