"""Fixtures for the model layer: a tiny real model, and real HTTP servers on free ports."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from codistill.models.fake import FakeGenerator
from codistill.models.server import OpenAIServer

# `tests.tiny` needs the repository root on sys.path; plain `pytest` (unlike `python -m pytest`)
# does not put it there unless pyproject sets pythonpath.
if str(Path(__file__).resolve().parents[2]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.tiny import tiny_model_and_tokenizer  # noqa: E402


@pytest.fixture(scope="module")
def tiny():  # noqa: ANN201 - (model, tokenizer)
    """A tiny random Llama and its tokenizer, shared by a module's tests (treat as read-only)."""
    return tiny_model_and_tokenizer()


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model saved as a transformers folder."""
    tiny_model_and_tokenizer(tmp_path_factory.mktemp("tiny"))
    return next(tmp_path_factory.getbasetemp().glob("tiny*/tiny-model"))


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CODE = "def add(a, b):\n    return a + b\n"


@pytest.fixture
def fake() -> FakeGenerator:
    """A scripted generator: code for 'add', a sampled reply list for 'poem', an echo otherwise."""
    return FakeGenerator(
        [
            ("add", CODE + "```\nExplanation follows."),
            ("poem", ["roses are red", "violets are blue", "code is fun", "tests pass"]),
        ],
        default=lambda request, sampling, i: f"echo {i}",
    )


@pytest.fixture
def serve(fake: FakeGenerator) -> Iterator:
    """Start OpenAIServer instances on free ports (closed after the test): serve(**options)."""
    servers: list[OpenAIServer] = []

    def start(generator=None, names=("fake-model",), **options) -> OpenAIServer:  # noqa: ANN001
        server = OpenAIServer(generator or fake, names, port=0, **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
