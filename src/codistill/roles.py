"""The models of a run, by role: teacher, student, judge, test model — each behind the cache.

Generators are created lazily: a fully cached rerun never loads model weights.
"""

from __future__ import annotations

from pathlib import Path

from codistill import paths
from codistill.cache import CachedGenerator, RequestCache
from codistill.config import RunConfig
from codistill.models.base import Generator, ModelError
from codistill.models.spec import load_generator, parse_spec


def open_cache(config: RunConfig) -> RequestCache:
    """The run's request cache (the user cache unless the config names one)."""
    return RequestCache(config.cache or paths.request_cache_path())


def spec_identity(spec: str, dtype: str = "auto", device: str = "auto") -> str:
    """The cache identity of a spec's generator, computed without loading the weights.

    It names the weights exactly (the embedded model's sha256, a folder's content hash, a hub
    revision, an endpoint's model) and the dtype, since bf16 changes some greedy outputs.
    """
    parsed = parse_spec(spec)
    if parsed.kind == "openai":
        return parsed.options.get("identity") or f"openai:{parsed.target}#{parsed.model}"
    if parsed.kind == "fake":
        return load_generator(parsed).identity  # cheap: a scripted table
    from codistill.models.hardware import (
        folder_fingerprint,
        resolve_device,
        resolve_dtype,
        short_dtype,
    )

    dt = short_dtype(resolve_dtype(parsed.options.get("dtype", dtype),
                                   resolve_device(parsed.options.get("device", device))))
    if parsed.kind == "embedded":
        from codistill.models import embedded

        entry = embedded.get(parsed.target)
        return f"embedded:{entry.name}@{entry.sha256[:12]}/{dt}"
    folder = Path(parsed.target)
    if folder.is_dir():
        # The content hash alone: the same weights answer the same way wherever they lie.
        return f"hf:local@{folder_fingerprint(folder)}/{dt}"
    return f"hf:{parsed.target}@{parsed.revision or 'main'}/{dt}"


def role_generator(spec: str, config: RunConfig, cache: RequestCache, *,
                   student: bool = False) -> CachedGenerator:
    """A cached, lazily loaded generator for `spec` with the run's device settings.

    `student`: the student or a model trained from it, loaded in `models.student_dtype`.
    """
    m = config.models
    dtype = (m.student_dtype or m.dtype) if student else m.dtype

    def factory() -> Generator:
        return load_generator(spec, dtype=dtype, device=m.device, batch_size=m.batch_size,
                              concurrency=m.concurrency)

    return CachedGenerator(factory, cache, identity=spec_identity(spec, dtype, m.device),
                           chunk_size=max(m.batch_size * 2, 16))


def trainable_path(spec: str) -> Path | str:
    """A folder (or hub id) that the trainers can load for a student spec."""
    parsed = parse_spec(spec)
    if parsed.kind == "embedded":
        from codistill.models.embedded import prepare

        return prepare(parsed.target)
    if parsed.kind == "hf":
        return parsed.target
    raise ModelError(
        f"the student {spec!r} cannot be trained here: training needs local weights "
        "(embedded:..., hf:<id or folder>, or a folder), not an HTTP endpoint"
    )
