"""OpenAIGenerator against a real local HTTP server (OpenAIServer) on a free port."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from codistill.models import GenerationFailed, ModelError, Request, Sampling, load_generator
from codistill.models.fake import FakeGenerator
from codistill.models.openai_http import OpenAIGenerator
from codistill.models.server import Failures

from .conftest import CODE, free_port

FAST = {"backoff": 0.05, "max_retries": 3}


def client(server, model: str = "fake-model", **options) -> OpenAIGenerator:  # noqa: ANN001
    return OpenAIGenerator(server.url, model, **{**FAST, **options})


def test_chat_and_completion_round_trip(serve) -> None:
    server = serve()
    gen = load_generator(f"openai:{server.url}#fake-model")
    assert gen.identity == f"openai:{server.url}#fake-model"
    chat, completion = gen.generate(
        [Request.user("please add two numbers"), Request.completion("write a poem")], Sampling()
    )
    assert chat.texts == [CODE + "```\nExplanation follows."]
    assert chat.finish_reasons == ["stop"] and chat.prompt_tokens == 4
    assert chat.completion_tokens == [len(chat.text.split())]
    assert completion.texts == ["roses are red"]
    assert chat.seconds > 0 and not chat.cached


def test_n_samples_stop_and_max_tokens(serve) -> None:
    server = serve()
    gen = client(server)
    [poem] = gen.generate([Request.user("a poem")], Sampling(n=3, temperature=0.8, seed=1))
    assert poem.texts == ["roses are red", "violets are blue", "code is fun"]
    [code] = gen.generate([Request.user("add")], Sampling(stop=("```",)))
    assert code.texts == [CODE] and code.finish_reasons == ["stop"]
    [short] = gen.generate([Request.user("add")], Sampling(max_new_tokens=3))
    assert short.texts == ["def add(a, b):"] and short.finish_reasons == ["length"]
    assert short.completion_tokens == [3]


def test_n_falls_back_to_separate_requests_when_server_ignores_it(serve, fake) -> None:
    def reply(request, sampling, i):  # noqa: ANN001
        return f"sample with seed {sampling.seed}"

    server = serve(FakeGenerator(reply), max_n=1)
    [gen] = client(server).generate([Request.user("x")], Sampling(n=3, temperature=1.0, seed=10))
    assert gen.texts == ["sample with seed 10", "sample with seed 11", "sample with seed 12"]
    assert server.stats["requests"] == 3


def test_retries_429_and_500_with_backoff_then_succeeds(serve) -> None:
    server = serve(failures=Failures(first=[429, 500, 503]))
    started = time.perf_counter()
    [gen] = client(server, backoff=0.1).generate([Request.user("add")], Sampling())
    elapsed = time.perf_counter() - started
    assert gen.text.startswith("def add")
    assert server.stats["failed_on_purpose"] == 3 and server.stats["requests"] == 4
    assert elapsed >= 0.1 + 0.2 + 0.4  # exponential backoff between the four attempts


def test_gives_up_after_max_retries_keeping_finished_results(serve) -> None:
    server = serve(failures=Failures(rates={500: 1.0}))
    with pytest.raises(GenerationFailed, match=r"giving up after 3 attempts; last error: HTTP 500") as info:
        client(server, max_retries=2).generate([Request.user("add")], Sampling())
    assert info.value.partial == [None]


def test_fatal_error_keeps_what_already_finished(serve) -> None:
    server = serve(FakeGenerator({"ok": "fine"}))  # no default: other prompts fail on the server
    requests = [Request.user("ok 1"), Request.user("ok 2"), Request.user("unscripted")]
    with pytest.raises(GenerationFailed, match="refused the request \\(HTTP 400\\).*no rule matches") as info:
        client(server, concurrency=1).generate(requests, Sampling())
    assert [g.text if g else None for g in info.value.partial] == ["fine", "fine", None]
    assert info.value.finished == 2


def test_401_names_the_key_variable(serve, monkeypatch) -> None:
    server = serve(api_key="s3cret")
    monkeypatch.delenv("MY_KEY", raising=False)
    with pytest.raises(ModelError, match="environment variable MY_KEY, which is not set"):
        load_generator(f"openai:{server.url}#fake-model?key_env=MY_KEY&backoff=0.01").generate(
            [Request.user("add")], Sampling()
        )
    monkeypatch.setenv("MY_KEY", "wrong")
    with pytest.raises(ModelError, match="HTTP 401.*MY_KEY, which is set"):
        client(server, key_env="MY_KEY").generate([Request.user("add")], Sampling())
    monkeypatch.setenv("MY_KEY", "s3cret")
    [gen] = client(server, key_env="MY_KEY").generate([Request.user("add")], Sampling())
    assert gen.text.startswith("def add")


def test_404_unknown_model_lists_served_ones(serve) -> None:
    server = serve(names=("teacher", "judge"))
    with pytest.raises(ModelError, match="model 'techer' is not served at .*it serves: teacher, judge"):
        client(server, model="techer").generate([Request.user("add")], Sampling())


def test_404_wrong_path_suggests_v1(serve) -> None:
    server = serve()
    base = server.url.removesuffix("/v1")
    with pytest.raises(ModelError, match="does not exist.*usually ends in /v1"):
        OpenAIGenerator(base, "fake-model", **FAST).generate([Request.user("add")], Sampling())


def test_dead_endpoint_says_which_url_and_how_to_start_one() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    started = time.perf_counter()
    with pytest.raises(ModelError, match=f"cannot connect to {url}.*codistill models serve"):
        OpenAIGenerator(url, "m", **FAST).generate([Request.user("add")], Sampling())
    assert time.perf_counter() - started < 5


def test_timeout_is_retried_then_explained(serve) -> None:
    server = serve(delay=1.0)
    with pytest.raises(ModelError, match="giving up after 2 attempts.*timeout.*Raise the timeout"):
        client(server, timeout=0.2, max_retries=1).generate([Request.user("add")], Sampling())


def test_concurrency_is_bounded_and_server_batches(serve) -> None:
    server = serve(delay=0.2, batch_wait=0.05)
    requests = [Request.user(f"echo {i}") for i in range(8)]
    results = client(server, concurrency=3).generate(requests, Sampling())
    assert [g.text for g in results] == ["echo 0"] * 8  # the fake echoes its sample index
    assert server.stats["max_in_flight"] == 3
    assert server.batcher.calls < 8  # concurrent requests shared generate calls


def test_generate_works_inside_a_running_event_loop(serve) -> None:
    server = serve()

    async def inside() -> str:
        return client(server).generate([Request.user("add")], Sampling())[0].text

    assert asyncio.run(inside()).startswith("def add")


def test_progress_reports_each_request(serve) -> None:
    server = serve()
    seen: list[int] = []
    client(server).generate([Request.user(f"echo {i}") for i in range(5)], Sampling(), progress=seen.append)
    assert sum(seen) == 5


def test_tiny_real_model_behind_the_server(serve, tiny) -> None:
    from codistill.models.local import LocalGenerator

    local = LocalGenerator(*tiny, batch_size=4)
    server = serve(local, names=("tiny",))
    requests = [Request.user("Write a function that reverses a string."), Request.completion("def add(a, b):")]
    direct = local.generate(requests, Sampling(max_new_tokens=16))
    remote = client(server, model="tiny").generate(requests, Sampling(max_new_tokens=16))
    assert [g.texts for g in remote] == [g.texts for g in direct]
    assert [g.completion_tokens for g in remote] == [g.completion_tokens for g in direct]
    assert [g.prompt_tokens for g in remote] == [g.prompt_tokens for g in direct]


def test_a_bad_request_does_not_fail_requests_batched_with_it(serve) -> None:
    server = serve(FakeGenerator({"ok": "fine"}), batch_wait=0.3)
    good, bad = client(server, concurrency=4), client(server, max_retries=0)
    errors: list[Exception] = []
    thread = threading.Thread(target=lambda: _catch(errors, bad, "unscripted"))
    thread.start()
    results = good.generate([Request.user(f"ok {i}") for i in range(3)], Sampling())
    thread.join()
    assert [g.text for g in results] == ["fine"] * 3
    assert len(errors) == 1 and "no rule matches" in str(errors[0])
    assert server.batcher.calls >= 2


def _catch(errors: list[Exception], gen: OpenAIGenerator, prompt: str) -> None:
    try:
        gen.generate([Request.user(prompt)], Sampling())
    except ModelError as exc:
        errors.append(exc)
