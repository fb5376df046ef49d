"""The model-spec syntax: every form parses, every mistake is explained."""

from __future__ import annotations

import json

import pytest

from codistill.models import FakeGenerator, ModelSpec, SpecError, load_generator, parse_spec


@pytest.mark.parametrize(
    ("spec", "kind", "target", "extra"),
    [
        ("embedded:teacher", "embedded", "qwen2.5-coder-0.5b", {}),
        ("embedded:student", "embedded", "smollm2-135m", {}),
        ("embedded:qwen2.5-coder-0.5b?dtype=fp32", "embedded", "qwen2.5-coder-0.5b", {"options": {"dtype": "fp32"}}),
        ("hf:Qwen/Qwen2.5-Coder-1.5B-Instruct", "hf", "Qwen/Qwen2.5-Coder-1.5B-Instruct", {"revision": None}),
        ("hf:Qwen/Qwen2.5-Coder-1.5B-Instruct@main", "hf", "Qwen/Qwen2.5-Coder-1.5B-Instruct", {"revision": "main"}),
        ("openai:http://localhost:8000/v1#qwen", "openai", "http://localhost:8000/v1", {"model": "qwen"}),
        ("openai:https://api.openai.com/v1/#gpt-4o-mini?key_env=OAI&concurrency=4", "openai",
         "https://api.openai.com/v1", {"model": "gpt-4o-mini", "options": {"key_env": "OAI", "concurrency": "4"}}),
        ("openai:http://h:11434/v1#qwen2.5-coder:0.5b", "openai", "http://h:11434/v1", {"model": "qwen2.5-coder:0.5b"}),
        ("fake:script.json", "fake", "script.json", {}),
    ],
)
def test_valid_forms(spec: str, kind: str, target: str, extra: dict) -> None:
    parsed = parse_spec(spec)
    assert (parsed.kind, parsed.target) == (kind, target)
    for key, value in extra.items():
        assert getattr(parsed, key) == value
    assert str(parsed) == spec


def test_existing_folder_is_a_local_model(tmp_path) -> None:
    folder = tmp_path / "odd@name:with?marks"
    folder.mkdir()
    for spec in (str(folder), f"hf:{folder}"):
        parsed = parse_spec(spec)
        assert parsed == ModelSpec(raw=spec, kind="hf", target=str(folder))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "it is empty"),
        ("Qwen/Qwen2.5-Coder-1.5B", "write hf:Qwen/Qwen2.5-Coder-1.5B for a hub model"),
        ("./no/such/folder", "not an existing folder"),
        ("embedded:gpt5", "unknown embedded model 'gpt5'; known: qwen2.5-coder-0.5b"),
        ("openai:localhost:8000/v1#m", "needs a base URL starting with http://"),
        ("openai:http://localhost:8000/v1", "needs the model name after '#'"),
        ("hf:./missing", "folder './missing' does not exist"),
        ("hf:org/name@", "nothing after '@'"),
        ("fake:", "needs the path of a script JSON"),
        ("openai:http://h/v1#m?=x&&", "are not key=value pairs"),
    ],
)
def test_mistakes_are_explained_with_the_valid_forms(spec: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(spec)
    assert message in str(info.value)
    assert "openai:<base url>#<model>" in str(info.value)  # the valid forms are listed


def test_unknown_and_mistyped_options_are_refused(tmp_path) -> None:
    with pytest.raises(SpecError, match=r"unknown option\(s\) \['batch'\] for openai"):
        load_generator("openai:http://h/v1#m?batch=3")
    with pytest.raises(SpecError, match="option concurrency='many' is not an integer"):
        load_generator("openai:http://h/v1#m?concurrency=many")


def test_spec_options_override_keyword_arguments() -> None:
    gen = load_generator("openai:http://h:1/v1#m?concurrency=2&timeout=5&identity=mine", concurrency=9)
    assert (gen.concurrency, gen.timeout, gen.identity) == (2, 5.0, "mine")


def test_fake_spec_loads_a_script(tmp_path) -> None:
    script = tmp_path / "teacher.json"
    script.write_text(json.dumps({"rules": [{"match": "add", "reply": "def add(a, b): return a + b"}]}))
    gen = load_generator(f"fake:{script}")
    assert isinstance(gen, FakeGenerator) and gen.identity.startswith("fake:teacher-")
