"""OpenAIServer speaks the protocol: raw HTTP in, OpenAI-shaped JSON (and errors) out."""

from __future__ import annotations

import httpx
import pytest

from codistill.models.server import Failures

from .conftest import CODE


def post(server, path: str, body: dict, **headers) -> httpx.Response:  # noqa: ANN001
    return httpx.post(server.url + path, json=body, headers=headers, timeout=10)


def test_models_endpoint_lists_served_names(serve) -> None:
    server = serve(names=("teacher", "embedded:teacher"))
    data = httpx.get(server.url + "/models").json()
    assert [m["id"] for m in data["data"]] == ["teacher", "embedded:teacher"]
    assert data["object"] == "list" and data["data"][0]["root"].startswith("fake:")
    assert httpx.get(server.url + "/models/teacher").json()["id"] == "teacher"
    assert httpx.get(server.url + "/models/nope").status_code == 404
    assert httpx.get(server.url.removesuffix("/v1") + "/health").json() == {"status": "ok"}


def test_chat_completion_shape_and_usage(serve) -> None:
    server = serve()
    body = {"model": "fake-model", "messages": [{"role": "user", "content": [{"type": "text", "text": "add"}]}],
            "temperature": 0, "max_tokens": 100, "stop": "```", "seed": 3}
    data = post(server, "/chat/completions", body).json()
    assert data["object"] == "chat.completion" and data["id"].startswith("chatcmpl-")
    assert data["choices"] == [{"index": 0, "message": {"role": "assistant", "content": CODE},
                                "finish_reason": "stop"}]
    assert data["usage"] == {"prompt_tokens": 1, "completion_tokens": 7, "total_tokens": 8}


def test_completions_take_a_list_of_prompts_with_n(serve) -> None:
    server = serve()
    body = {"model": "fake-model", "prompt": ["a poem", "add"], "n": 2, "temperature": 0.5, "max_tokens": 2}
    data = post(server, "/completions", body).json()
    assert data["object"] == "text_completion"
    assert [c["text"] for c in data["choices"]] == ["roses are", "violets are", "def add(a,", "def add(a,"]
    assert [c["index"] for c in data["choices"]] == [0, 1, 2, 3]
    assert {c["finish_reason"] for c in data["choices"]} == {"length"}
    assert data["usage"]["completion_tokens"] == 8


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"model": "other", "messages": [{"role": "user", "content": "x"}]}, 404,
         "The model 'other' does not exist; this server serves: fake-model"),
        ({"model": "fake-model", "messages": []}, 400, "messages must be a non-empty list"),
        ({"model": "fake-model", "messages": [{"content": "x"}]}, 400, "messages[0] needs a role"),
        ({"model": "fake-model", "messages": [{"role": "user", "content": "x"}], "stream": True}, 400,
         "streaming is not supported"),
        ({"model": "fake-model", "messages": [{"role": "user", "content": "x"}], "n": 2, "temperature": 0}, 400,
         "n > 1 needs temperature > 0"),
        ({"model": "fake-model", "messages": [{"role": "user", "content": "x"}], "top_p": 0}, 400,
         "top_p must be in (0, 1]"),
        ({"model": "fake-model", "messages": [{"role": "user", "content": "x"}], "max_tokens": 0}, 400,
         "max_tokens must be >= 1"),
        ({"model": "fake-model", "messages": [{"role": "user", "content": "x"}], "n": "two"}, 400,
         "n must be an integer"),
        ({"model": "fake-model", "messages": [{"role": "user", "content": "x"}], "stop": [1]}, 400,
         "stop must be a string or a list of strings"),
    ],
)
def test_bad_requests_get_openai_error_bodies(serve, body: dict, status: int, message: str) -> None:
    response = post(serve(), "/chat/completions", body)
    assert response.status_code == status
    error = response.json()["error"]
    assert message in error["message"] and set(error) == {"message", "type", "param", "code"}


def test_wrong_path_method_and_json(serve) -> None:
    server = serve()
    assert post(server, "/embeddings", {}).status_code == 404
    assert httpx.get(server.url + "/chat/completions").status_code == 405
    bad = httpx.post(server.url + "/chat/completions", content=b"{oops", timeout=10)
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["error"]["message"]
    tokens = post(server, "/completions", {"model": "fake-model", "prompt": [1, 2]})
    assert tokens.status_code == 400 and "token ids are not supported" in tokens.json()["error"]["message"]


def test_api_key_is_checked(serve) -> None:
    server = serve(api_key="k")
    body = {"model": "fake-model", "messages": [{"role": "user", "content": "add"}]}
    denied = post(server, "/chat/completions", body)
    assert denied.status_code == 401 and denied.json()["error"]["code"] == "invalid_api_key"
    assert post(server, "/chat/completions", body, Authorization="Bearer k").status_code == 200


def test_failure_injection_first_then_rates() -> None:
    failures = Failures.parse("429,500,503:0.5", seed=1)
    drawn = [failures.draw() for _ in range(400)]
    assert drawn[:2] == [429, 500]
    assert 150 < drawn[2:].count(503) < 250 and set(drawn[2:]) == {None, 503}
    with pytest.raises(ValueError, match="write STATUS or STATUS:FRACTION"):
        Failures.parse("oops:x")


def test_closing_a_server_that_never_started_returns(fake) -> None:
    from codistill.models.server import OpenAIServer

    server = OpenAIServer(fake, ["m"], port=0)
    server.close()  # must not hang waiting for a serve loop that never ran
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/models", timeout=2)
