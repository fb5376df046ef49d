"""Roles: the student, and every model trained from it, answer in models.student_dtype."""

from __future__ import annotations

from pathlib import Path

import torch
from tests.tiny import tiny_model_and_tokenizer

from codistill.cache import RequestCache
from codistill.config import load_config
from codistill.roles import role_generator


def test_the_student_answers_in_its_own_dtype_and_the_teacher_in_the_runs(tmp_path: Path) -> None:
    tiny_model_and_tokenizer(tmp_path)
    folder = str(tmp_path / "tiny-model")
    cache = RequestCache(tmp_path / "cache.sqlite")
    config = load_config(None, ["models.dtype=bfloat16", "models.student_dtype=float32",
                                "models.device=cpu"])
    student = role_generator(folder, config, cache, student=True)
    teacher = role_generator(folder, config, cache)
    # The dtype is part of the cache identity: fp32 answers are never served to a bf16 request.
    assert student.identity.endswith("/fp32") and teacher.identity.endswith("/bf16")
    assert student.inner.model.dtype == torch.float32
    assert teacher.inner.model.dtype == torch.bfloat16
    # Unset, the student follows models.dtype.
    same = load_config(None, ["models.dtype=bfloat16", "models.device=cpu"])
    assert role_generator(folder, same, cache, student=True).identity == teacher.identity
