"""A training process killed after its first checkpoint resumes from it when run again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from codistill.config import SFT
from codistill.train import sft_rows, train_sft, write_rows

from .conftest import solutions, weights

SETTINGS = SFT(lr=1e-3, epochs=1, batch_size=2, max_length=256, warmup_ratio=0.0)
STEPS, EVERY = 24, 4

WORKER = """
import json, sys
from pathlib import Path
from codistill.config import SFT
from codistill.train import read_rows, train_sft
settings = SFT.model_validate_json(sys.argv[4])
result = train_sft(Path(sys.argv[1]), read_rows(sys.argv[2], "sft"), Path(sys.argv[3]), settings,
                   device="cpu", progress=False, max_steps=int(sys.argv[5]), save_steps=int(sys.argv[6]))
print("RESULT " + json.dumps(result.to_dict()))
"""


def _start(model: Path, data: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "TRANSFORMERS_VERBOSITY": "info", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(model), str(data), str(out), SETTINGS.model_dump_json(),
         str(STEPS), str(EVERY)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_killed_training_resumes_from_its_last_checkpoint(tiny_model_dir, tmp_path) -> None:
    rows = sft_rows((p, good) for p, good, _ in solutions(6))
    data = write_rows(rows, tmp_path / "sft.jsonl")
    out = tmp_path / "out"

    first = _start(tiny_model_dir, data, out)
    deadline = time.monotonic() + 120
    while not (out / f"checkpoint-{EVERY}" / "trainer_state.json").exists():
        assert first.poll() is None, first.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "no checkpoint appeared within 120 s"
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert not (out / "train-result.json").exists(), "training finished before it could be killed"
    (out / "checkpoint-999").mkdir()  # a checkpoint cut short mid-write: no trainer_state.json

    second = _start(tiny_model_dir, data, out)
    stdout, stderr = second.communicate(timeout=300)
    assert second.returncode == 0, stderr[-3000:]
    result = json.loads(stdout.split("RESULT ", 1)[1])
    resumed_step = int(Path(result["resumed_from"]).name.split("-")[1])
    assert resumed_step >= EVERY and resumed_step % EVERY == 0 and resumed_step < STEPS
    assert f"global step {resumed_step}" in stderr  # the Trainer restored its state, not step 0
    assert result["steps"] == STEPS
    assert [h["step"] for h in result["log_history"] if "loss" in h] == list(range(1, STEPS + 1))
    assert not (out / "checkpoint-999").exists()

    # Resuming restores optimizer, scheduler, RNG and data order: same weights as one unbroken run.
    unbroken = train_sft(tiny_model_dir, rows, tmp_path / "unbroken", SETTINGS, device="cpu", progress=False,
                         max_steps=STEPS, save_steps=EVERY)
    a, b = weights(Path(result["model_dir"])), weights(unbroken.model_dir)
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)
    # The loss and TRL's token count cover every step, not only those since the resume.
    assert result["train_loss"] == pytest.approx(unbroken.train_loss, rel=1e-4)
    tokens = [h["num_tokens"] for h in result["log_history"] if "num_tokens" in h]
    assert tokens == [h["num_tokens"] for h in unbroken.log_history if "num_tokens" in h]
