"""Configuration: YAML + overrides, validated before any work, errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from codistill.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_follow_soda() -> None:
    cfg = load_config()
    assert cfg.teach.sft_share == 0.8
    assert (cfg.train.sft.lr, cfg.train.dpo.lr) == (2e-5, 5e-7)
    assert cfg.curriculum.ratio == (1.0, 1.0, 2.0)
    assert cfg.cycles == 3


def test_overrides_are_typed(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("name: x\ntrain:\n  sft:\n    epochs: 1\n")
    cfg = load_config(path, ["train.sft.lr=1e-5", "data.languages=[python, go]", "eval.limit=4"])
    assert cfg.name == "x" and cfg.train.sft.epochs == 1.0
    assert cfg.train.sft.lr == 1e-5
    assert cfg.data.languages == ["python", "go"]
    assert cfg.eval.limit == 4


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["train.sft.lrr=1"], "unknown config key 'train.sft.lrr' (did you mean 'lr'?)"),
        (["train.sft.lr=abc"], "train.sft.lr: Input should be a valid number"),
        (["cycles=-1"], "cycles: Input should be greater than or equal to 0"),
        (["data.languages=[cobol]"], "unknown language(s) ['cobol']"),
        (["ablation.no_judge=true", "ablation.no_execution=true"], "leave no feedback"),
        (["curriculum.ratio=[0, 0, 0]"], "positive sum"),
        (["train.sft.lr.x=1"], "train.sft.lr is a value, not a section"),
        (["justakey"], "must look like key=value"),
        (["name=bad name"], "name: String should match pattern"),
    ],
)
def test_bad_values_name_the_key(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, overrides)
    assert message in str(info.value)


def test_unknown_key_in_yaml_lists_allowed(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  sftt: {}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "unknown config key 'train.sftt' (did you mean 'sft'?)" in str(info.value)
    assert "allowed here: sft, dpo, kd, lora" in str(info.value)


def test_malformed_yaml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(listy)


@pytest.mark.parametrize("name", ["demo.yaml", "paper.yaml", "coevolve.yaml"])
def test_shipped_configs_validate_and_say_how_to_run(name: str) -> None:
    path = ROOT / "configs" / name
    first = path.read_text().splitlines()[0]
    assert first.startswith("# ") and f"configs/{name}" in first
    load_config(path)


def test_sandbox_backend_spec_is_checked() -> None:
    assert load_config(None, ["sandbox.backend=ray:auto"]).sandbox.backend == "ray:auto"
    with pytest.raises(ConfigError, match="unknown sandbox backend 'rayy'"):
        load_config(None, ["sandbox.backend=rayy"])


def test_sandbox_isolation_settings_reach_the_limits() -> None:
    limits = load_config(None, ["sandbox.isolation=none", "sandbox.timeout_s=3"]).sandbox.limits()
    assert (limits.isolation, limits.timeout_s, limits.allow_unisolated) == ("none", 3.0, False)
    assert load_config(None, ["sandbox.allow_unisolated=true"]).sandbox.limits(7).allow_unisolated
    with pytest.raises(ConfigError, match="sandbox.isolation"):
        load_config(None, ["sandbox.isolation=chroot"])
