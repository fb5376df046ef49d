"""Device and dtype choice, and content fingerprints of weight folders (part of identities)."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
from pathlib import Path

import torch

from codistill import paths
from codistill.models.base import ModelError

log = logging.getLogger("codistill.models")

DTYPES: dict[str, torch.dtype] = {
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
    "fp16": torch.float16,
    "float16": torch.float16,
    "half": torch.float16,
    "fp32": torch.float32,
    "float32": torch.float32,
    "float": torch.float32,
}
SHORT = {torch.bfloat16: "bf16", torch.float16: "fp16", torch.float32: "fp32"}


@functools.cache
def cpu_has_native_bf16() -> bool:
    """True when the CPU has bf16 instructions (AVX-512 BF16 or AMX), where bf16 runs faster."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(f in flags.split() for f in ("avx512_bf16", "amx_bf16"))


def resolve_device(device: str = "auto") -> torch.device:
    """'auto' picks CUDA when present, else CPU; anything else must be a valid torch device."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise ModelError(f"unknown device {device!r}: use auto, cpu, cuda or cuda:N") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ModelError(f"device {device!r} asked for, but torch sees no CUDA GPU: use --device cpu")
    return resolved


def resolve_dtype(dtype: str | torch.dtype = "auto", device: torch.device | None = None) -> torch.dtype:
    """'auto' is bf16 on CUDA and on CPUs with native bf16 (1.6-2.8x faster there), else fp32."""
    if isinstance(dtype, torch.dtype):
        return dtype
    device = device or resolve_device("auto")
    if dtype == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16 if device.type == "cpu" and cpu_has_native_bf16() else torch.float32
    try:
        resolved = DTYPES[dtype.lower()]
    except KeyError:
        raise ModelError(f"unknown dtype {dtype!r}: use auto, bf16, fp16 or fp32") from None
    if resolved is torch.bfloat16 and device.type == "cpu" and not cpu_has_native_bf16():
        _warn_slow_bf16()
    return resolved


@functools.cache
def _warn_slow_bf16() -> None:
    # Measured on an AVX2 EPYC: a 32x896 @ 896x4864 matmul took 428 ms in bf16, 7 ms in fp32.
    log.warning("bf16 on this CPU (no AVX-512 BF16 or AMX) is emulated and can run tens of times "
                "slower than fp32: set models.dtype to auto or float32 unless a result must be "
                "compared with earlier bf16 runs")


def short_dtype(dtype: torch.dtype) -> str:
    """'bf16', 'fp16' or 'fp32' (the form used in identities)."""
    return SHORT.get(dtype, str(dtype).removeprefix("torch."))


_FINGERPRINT_FILES = (".safetensors", ".bin", ".json", ".model", ".txt", ".jinja", ".gguf")


def folder_fingerprint(folder: Path) -> str:
    """sha256 over a model folder's weight, config and tokenizer files (first 12 hex digits).

    Hashing gigabytes on every load would be slow, so each file's digest is remembered in
    <codistill home>/fingerprints.json keyed by path, size and modification time.
    """
    folder = folder.resolve()
    memo_path = paths.home() / "fingerprints.json"
    try:
        memo = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        memo = {}
    total = hashlib.sha256()
    changed = False
    seen: set[str] = set()
    for file in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in _FINGERPRINT_FILES):
        stat = file.stat()
        key = f"{file}|{stat.st_size}|{stat.st_mtime_ns}"
        seen.add(key)
        if key not in memo:
            digest = hashlib.sha256()
            with file.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            memo[key] = digest.hexdigest()
            changed = True
        total.update(f"{file.relative_to(folder)}:{memo[key]}\n".encode())
    if changed:
        # Forget digests of this folder's files as they were before (rewritten checkpoints).
        memo = {k: v for k, v in memo.items() if k in seen or not k.startswith(f"{folder}/")}
        try:
            memo_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = memo_path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(memo))
            os.replace(tmp, memo_path)
        except OSError:
            pass  # the memo is only a speed-up
    return total.hexdigest()[:12]
