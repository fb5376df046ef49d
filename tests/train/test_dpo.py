"""DPO on a tiny model: the chosen-over-rejected margin grows; both reference modes agree."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from codistill.config import DPO
from codistill.train import dpo_rows, train_dpo

from .conftest import answer_logprob, solutions, weights

SETTINGS = DPO(lr=1e-2, beta=0.1, epochs=2, batch_size=2, max_length=256)


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return dpo_rows(solutions(6))


def _margin(model_dir: Path, rows: list[dict]) -> float:
    return sum(answer_logprob(model_dir, r["prompt"], r["chosen"]) - answer_logprob(model_dir, r["prompt"], r["rejected"])
               for r in rows) / len(rows)


def test_dpo_raises_the_margin_and_reference_modes_agree(tiny_model_dir, rows, tmp_path) -> None:
    pre = train_dpo(tiny_model_dir, rows, tmp_path / "pre", SETTINGS, device="cpu", progress=False)
    assert pre.kind == "dpo" and pre.steps == 6
    before, after = _margin(tiny_model_dir, rows), _margin(pre.model_dir, rows)
    assert after > before + 1.0, (before, after)
    logged = [h["rewards/margins"] for h in pre.log_history if "rewards/margins" in h]
    assert logged[-1] > logged[0]

    # A loaded copy of the reference gives the same training as log-probs computed up front.
    loaded = train_dpo(tiny_model_dir, rows, tmp_path / "loaded", SETTINGS, device="cpu", progress=False,
                       precompute_ref=False)
    wp, wl = weights(pre.model_dir), weights(loaded.model_dir)
    assert all(torch.allclose(wp[k], wl[k], atol=1e-6) for k in wp)


def test_another_reference_model_changes_the_objective(tiny_model_dir, rows, tmp_path) -> None:
    from .conftest import build_tiny

    other = build_tiny(tmp_path / "other", seed=1)
    short = DPO(lr=1e-2, beta=0.1, epochs=1, batch_size=2, max_length=256)
    own = train_dpo(tiny_model_dir, rows, tmp_path / "own", short, device="cpu", progress=False)
    ref = train_dpo(tiny_model_dir, rows, tmp_path / "ref", short, device="cpu", progress=False,
                    ref_model_path=other)
    assert ref.steps == own.steps == 3
    first_own = next(h for h in own.log_history if "rewards/margins" in h)
    first_ref = next(h for h in ref.log_history if "rewards/margins" in h)
    # Against itself the first margin is exactly 0; against another model it is not.
    assert first_own["rewards/margins"] == 0.0 and first_ref["rewards/margins"] != 0.0
