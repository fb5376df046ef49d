"""Dtype choice on CPUs: auto follows the CPU's bf16 support; an explicit bf16 there is allowed, with a warning."""

import logging

import pytest
import torch

from codistill.models import hardware
from codistill.models.base import ModelError

CPU = torch.device("cpu")


@pytest.mark.parametrize("native", [True, False])
def test_auto_and_explicit_bf16_on_a_cpu(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
                                         native: bool) -> None:
    monkeypatch.setattr(hardware, "cpu_has_native_bf16", lambda: native)
    hardware._warn_slow_bf16.cache_clear()
    with caplog.at_level(logging.WARNING, logger="codistill.models"):
        assert hardware.resolve_dtype("auto", CPU) is (torch.bfloat16 if native else torch.float32)
        assert hardware.resolve_dtype("float32", CPU) is torch.float32
        assert not caplog.records
        assert hardware.resolve_dtype("bfloat16", CPU) is torch.bfloat16
        hardware.resolve_dtype("bf16", CPU)
    warned = [r.getMessage() for r in caplog.records]
    assert warned == ([] if native else [warned[0]])  # once per process, not per model
    assert native or ("slower than fp32" in warned[0] and "models.dtype" in warned[0])


def test_unknown_dtype_says_what_to_write() -> None:
    with pytest.raises(ModelError, match="use auto, bf16, fp16 or fp32"):
        hardware.resolve_dtype("float8", CPU)
