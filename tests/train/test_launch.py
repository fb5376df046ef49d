"""Multi-process launch: the shipped accelerate configs parse, and data-parallel training really shards."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from codistill.train import dpo_rows, export_datasets, sft_rows

from .conftest import solutions

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs" / "accelerate").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_accelerate_configs_load_and_start_with_their_command(path: Path) -> None:
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(path))
    assert config.mixed_precision == "bf16" and config.num_machines == 1
    first = path.read_text().splitlines()[0]
    assert first.startswith(f"# accelerate launch --config_file configs/accelerate/{path.name}")
    assert "-m codistill.train" in path.read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_cpu_processes_split_the_batches_and_write_one_model(tiny_model_dir, tmp_path) -> None:
    triples = solutions(8)
    files = export_datasets(sft_rows((p, g) for p, g, _ in triples), dpo_rows(triples), tmp_path / "export")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
           str(_free_port()), "-m", "codistill.train", "--sft", str(files["trl_sft"]), "--dpo",
           str(files["trl_dpo"]), "--model", str(tiny_model_dir), "--output", str(out), "--device", "cpu",
           "--set", "train.sft.batch_size=2", "--set", "train.sft.epochs=1", "--set", "train.dpo.batch_size=2",
           "--set", "train.dpo.epochs=1", "--no-progress", "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    printed = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(printed) == 1  # only rank 0 reports
    # 8 rows, 2 per process, 2 processes: 2 steps (one process alone would take 4).
    assert printed[0]["sft"]["steps"] == 2 and printed[0]["dpo"]["steps"] == 2
    assert (out / "dpo" / "model" / "model.safetensors").is_file()
