"""Local transformers backend: batched generation with left padding, on CPU or GPU."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import GenerationConfig, StoppingCriteriaList

from codistill.models import embedded
from codistill.models.base import (
    Generation,
    GenerationFailed,
    Generator,
    ModelError,
    Progress,
    Request,
    Sampling,
)
from codistill.models.embedded import EmbeddedModel
from codistill.models.hardware import folder_fingerprint, resolve_device, resolve_dtype, short_dtype
from codistill.models.local_batching import (
    StopOnStrings,
    encode,
    finish_row,
    left_pad,
    plan_batches,
)


def _ids(value: int | Iterable[int] | None) -> list[int]:
    if value is None:
        return []
    return [value] if isinstance(value, int) else [int(v) for v in value]


class LocalGenerator(Generator):
    """Generates with an in-memory transformers model; `.model` may be the one being trained.

    Determinism: with a seed, a batch's random state is reset from (seed, batch index), so the
    same requests, sampling, batch size, device and dtype give the same texts. Greedy decoding
    does not depend on the seed, but left padding in bf16 can change a few tokens compared
    with generating the same request alone.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        batch_size: int = 8,
        identity: str | None = None,
        eos_token_ids: Sequence[int] = (),
        ignore_eos: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ModelError(f"batch_size must be >= 1, got {batch_size}")
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.ignore_eos = ignore_eos
        eos = _ids(model.generation_config.eos_token_id) + _ids(tokenizer.eos_token_id)
        self.eos_ids = list(dict.fromkeys(eos + list(eos_token_ids)))
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else None
        if pad is None and not self.eos_ids:
            raise ModelError("the tokenizer has neither a pad nor an eos token; set tokenizer.pad_token")
        self.pad_id = pad if pad is not None else self.eos_ids[0]
        # An in-memory model may change (it is being trained), so by default its identity is
        # unique to this wrapper and a cache never serves stale text; pass `identity` to share.
        dtype = short_dtype(next(model.parameters()).dtype)
        name = getattr(model, "name_or_path", "") or type(model).__name__
        self.identity = identity or f"memory:{name}/{dtype}#{uuid.uuid4().hex[:12]}"

    @classmethod
    def from_pretrained(
        cls,
        path_or_id: str | Path,
        *,
        revision: str | None = None,
        dtype: str = "auto",
        device: str = "auto",
        identity: str | None = None,
        **kwargs: Any,
    ) -> LocalGenerator:
        """Load a transformers folder or hub id; identity = source @ content hash or commit / dtype."""
        folder = Path(path_or_id).expanduser()
        if folder.is_dir():
            source, version = str(folder.resolve()), folder_fingerprint(folder)
        else:
            folder = _from_hub(str(path_or_id), revision)
            source, version = str(path_or_id), folder.name[:12]  # the snapshot folder is the commit
        dev = resolve_device(device)
        dt = resolve_dtype(dtype, dev)
        model, tokenizer = _load(folder, dt, dev, str(path_or_id))
        return cls(model, tokenizer, identity=identity or f"hf:{source}@{version}/{short_dtype(dt)}", **kwargs)

    @classmethod
    def from_embedded(
        cls, name: str | EmbeddedModel, *, dtype: str = "auto", device: str = "auto", **kwargs: Any
    ) -> LocalGenerator:
        """Load an embedded model by name, alias or registry entry (converting it on first use)."""
        entry = embedded.get(name)
        folder = embedded.prepare(entry)
        dev = resolve_device(device)
        dt = resolve_dtype(dtype, dev)
        model, tokenizer = _load(folder, dt, dev, entry.spec)
        ident = kwargs.pop("identity", None) or f"embedded:{entry.name}@{entry.sha256[:12]}/{short_dtype(dt)}"
        return cls(model, tokenizer, identity=ident, **kwargs)

    @property
    def device(self) -> torch.device:
        """Where the model's weights are."""
        return next(self.model.parameters()).device

    def _config(self, sampling: Sampling) -> GenerationConfig:
        # Every decoding knob is set here, so defaults a checkpoint ships (temperature, top_k,
        # repetition penalty) never change what `sampling` asks for.
        eos = None if self.ignore_eos else self.eos_ids
        common = dict(max_new_tokens=sampling.max_new_tokens, num_beams=1, eos_token_id=eos,
                      pad_token_id=self.pad_id, use_cache=True, repetition_penalty=1.0)
        if sampling.greedy:
            return GenerationConfig(do_sample=False, **common)
        return GenerationConfig(do_sample=True, temperature=sampling.temperature,
                                top_p=sampling.top_p, top_k=0, **common)

    def generate(
        self,
        requests: Sequence[Request],
        sampling: Sampling,
        progress: Progress | None = None,
    ) -> list[Generation]:
        """Generate for every request in batches of similar prompt length; results in order."""
        prompts = [encode(self.tokenizer, r) for r in requests]
        limit = getattr(self.model.config, "max_position_embeddings", None)
        for i, ids in enumerate(prompts):
            if limit and len(ids) + sampling.max_new_tokens > limit:
                raise ModelError(
                    f"request {i}: {len(ids)} prompt tokens + max_new_tokens "
                    f"{sampling.max_new_tokens} exceed the model's context of {limit} tokens"
                )
        texts: list[list[str | None]] = [[None] * sampling.n for _ in requests]
        counts = [[0] * sampling.n for _ in requests]
        reasons = [[""] * sampling.n for _ in requests]
        seconds = [0.0] * len(requests)
        left = [sampling.n] * len(requests)
        config = self._config(sampling)
        eos = set() if self.ignore_eos else set(self.eos_ids)
        model, was_training = self.model, self.model.training
        saved_config = model.generation_config
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        model.eval()
        # The checkpoint's generation config is swapped for a bare one during the call because
        # generate() fills every unset knob from it.
        model.generation_config = GenerationConfig(
            bos_token_id=saved_config.bos_token_id, eos_token_id=config.eos_token_id, pad_token_id=self.pad_id
        )
        try:
            with torch.random.fork_rng(devices=devices), torch.inference_mode():
                for b, rows in enumerate(plan_batches(prompts, sampling.n, self.batch_size)):
                    if sampling.seed is not None:
                        torch.manual_seed((sampling.seed * 1_000_003 + b) % 2**63)
                    started = time.perf_counter()
                    ids, mask = left_pad(rows, self.pad_id, self.device)
                    stopper = StopOnStrings(self.tokenizer, sampling.stop, ids.shape[1]) if sampling.stop else None
                    out = model.generate(
                        input_ids=ids,
                        attention_mask=mask,
                        generation_config=config,
                        stopping_criteria=StoppingCriteriaList([stopper]) if stopper else None,
                    )
                    new = out[:, ids.shape[1] :].tolist()
                    share = (time.perf_counter() - started) / len(rows)
                    done = 0
                    for i, row in enumerate(rows):
                        stop_at = stopper.done_at.get(i) if stopper else None
                        text, n_tokens, reason = finish_row(self.tokenizer, new[i], eos, stop_at, sampling.stop)
                        texts[row.request][row.sample] = text
                        counts[row.request][row.sample] = n_tokens
                        reasons[row.request][row.sample] = reason
                        seconds[row.request] += share
                        left[row.request] -= 1
                        done += left[row.request] == 0
                    if progress and done:
                        progress(done)
        except Exception as exc:
            # Keep the requests whose every sample finished (e.g. before running out of memory).
            partial = [
                Generation([t or "" for t in texts[r]], len(prompts[r]), counts[r], seconds[r], reasons[r])
                if left[r] == 0 else None
                for r in range(len(requests))
            ]
            finished = sum(g is not None for g in partial)
            raise GenerationFailed(
                f"local generation failed ({type(exc).__name__}: {exc}); {finished} of {len(requests)} "
                "requests had finished and are kept", partial
            ) from exc
        finally:
            model.generation_config = saved_config
            if was_training:
                model.train()
        return [
            Generation([t or "" for t in texts[r]], len(prompts[r]), counts[r], seconds[r], reasons[r])
            for r in range(len(requests))
        ]

    def close(self) -> None:
        """Drop the model so its memory can be freed."""
        self.model = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _from_hub(repo_id: str, revision: str | None) -> Path:
    """Download (or find in the local hub cache) a model snapshot; its folder name is the commit."""
    from huggingface_hub import snapshot_download

    patterns = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "*.tiktoken"]
    try:
        return Path(snapshot_download(repo_id, revision=revision, allow_patterns=patterns))
    except Exception as exc:  # noqa: BLE001 - hub errors come in many types; all mean the same
        raise ModelError(
            f"could not get {repo_id!r} from the Hugging Face hub ({type(exc).__name__}: {exc}). "
            "If it is a local folder, check the path; if it is a hub id, check the name and the "
            "network (or set HF_HUB_OFFLINE=1 to use the local hub cache)"
        ) from None


def _load(folder: Path, dtype: torch.dtype, device: torch.device, label: str) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype)
        tokenizer = AutoTokenizer.from_pretrained(folder)
    except (OSError, ValueError) as exc:
        raise ModelError(f"could not load {label} from {folder}: {exc}") from None
    return model.to(device).eval(), tokenizer
