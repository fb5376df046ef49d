"""GRPO on a tiny model: a few steps raise a simple reward; columns reach reward functions."""

from __future__ import annotations

import pytest

from codistill.config import Coevolve
from codistill.train import GRPOSettings, TrainError, grpo_rows, train_grpo

from .conftest import problems, weights


def count_a(completions: list, **kwargs: object) -> list[float]:
    """Reward: how often the letter 'a' appears in the answer."""
    return [c[0]["content"].count("a") / 10 for c in completions]


def test_grpo_raises_the_reward_and_continues_from_its_output(tiny_model_dir, tmp_path) -> None:
    seen: list[list[str]] = []

    def sees_answer(completions: list, answer: list[str], trainer_state: object, **kwargs: object) -> list[float]:
        seen.append(answer)
        return [0.0] * len(completions)

    rows = grpo_rows(problems(6), answer=[f"a{i}" for i in range(6)])
    settings = GRPOSettings(steps=12, group_size=4, questions_per_step=2, lr=3e-2, kl_coef=0.0,
                            max_completion_length=12)
    first = train_grpo(tiny_model_dir, rows, [count_a, sees_answer], tmp_path / "r1", settings,
                       device="cpu", progress=False)
    rewards = [h["rewards/count_a/mean"] for h in first.log_history if "rewards/count_a/mean" in h]
    assert first.steps == 12 and len(rewards) == 12
    assert sum(rewards[-3:]) > sum(rewards[:3]) + 0.1, rewards
    # The extra column arrives once per completion: each prompt's value repeated group_size times.
    assert all(len(a) == 8 and len(set(a[:4])) == 1 and len(set(a[4:])) == 1 for a in seen)

    # A second call continues from the first one's model (the stage code alternates models so).
    again = train_grpo(first.model_dir, rows, [count_a], tmp_path / "r2",
                       GRPOSettings.from_coevolve(Coevolve(steps=2, group_size=2, questions_per_step=1,
                                                           lr=1e-2, kl_coef=0.1, max_new_tokens=16)),
                       device="cpu", progress=False)
    assert again.steps == 2 and any("kl" in h for h in again.log_history)
    w1, w2 = weights(first.model_dir), weights(again.model_dir)
    assert any(not (w1[k] == w2[k]).all() for k in w1)


def test_grpo_rejects_bad_setups(tiny_model_dir, tmp_path) -> None:
    rows = grpo_rows(problems(1))
    with pytest.raises(TrainError, match="at least one reward function"):
        train_grpo(tiny_model_dir, rows, [], tmp_path, GRPOSettings())
    with pytest.raises(TrainError, match="1 prompt rows for questions_per_step=2"):
        train_grpo(tiny_model_dir, rows, [count_a], tmp_path, GRPOSettings())
    with pytest.raises(TrainError, match="use_vllm needs a CUDA GPU"):
        train_grpo(tiny_model_dir, rows, [count_a], tmp_path, GRPOSettings(questions_per_step=1, use_vllm=True),
                   device="cpu")
