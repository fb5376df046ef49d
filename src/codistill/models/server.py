"""An OpenAI-compatible HTTP server in front of any Generator (`codistill models serve`)."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from codistill.models.base import Generation, Generator, ModelError, Request, Sampling
from codistill.models.request_batcher import Batcher


class ApiError(Exception):
    """An error answered in OpenAI's format: {"error": {"message", "type", "param", "code"}}."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.param, self.code = status, kind, param, code

    def body(self) -> dict[str, Any]:
        """The JSON error body."""
        return {"error": {"message": str(self), "type": self.kind, "param": self.param, "code": self.code}}


@dataclass
class Failures:
    """Injected failures, for testing clients: `first` statuses in order, then `rates` by chance."""

    first: list[int] = field(default_factory=list)
    rates: dict[int, float] = field(default_factory=dict)
    seed: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, text: str, seed: int = 0) -> Failures:
        """'429:0.1,500:0.05' (fractions of requests) or '429,500' (the first requests, in order)."""
        first, rates = [], {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            status, _, rate = part.partition(":")
            try:
                if rate:
                    rates[int(status)] = float(rate)
                else:
                    first.append(int(status))
            except ValueError:
                raise ValueError(f"bad failure spec {part!r}: write STATUS or STATUS:FRACTION") from None
        return cls(first, rates, seed)

    def draw(self) -> int | None:
        """The status to fail this request with, or None."""
        with self._lock:
            if self.first:
                return self.first.pop(0)
            roll = self._rng.random()
            for status, rate in self.rates.items():
                if roll < rate:
                    return status
                roll -= rate
        return None


class OpenAIServer:
    """Serves one Generator under one or more model names at http://host:port/v1."""

    def __init__(
        self,
        generator: Generator,
        names: Sequence[str],
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        api_key: str | None = None,
        failures: Failures | None = None,
        delay: float = 0.0,
        max_n: int | None = None,
        default_max_tokens: int = 512,
        max_batch: int = 32,
        batch_wait: float = 0.02,
        verbose: bool = False,
    ) -> None:
        self.generator = generator
        self.names = list(names)
        self.api_key = api_key
        self.failures = failures or Failures()
        self.delay = delay
        self.max_n = max_n  # answer with at most this many choices, like servers that ignore n
        self.default_max_tokens = default_max_tokens
        self.verbose = verbose
        self.batcher = Batcher(generator, max_batch=max_batch, wait=batch_wait)
        self.stats = {"requests": 0, "in_flight": 0, "max_in_flight": 0, "failed_on_purpose": 0}
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.app = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None
        self._serving = False

    @property
    def url(self) -> str:
        """The base URL clients use (ends in /v1)."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> OpenAIServer:
        """Serve in a background thread."""
        self._serving = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self._serving = True
        self.httpd.serve_forever()

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._serving:  # shutdown() waits for a serve loop, and would hang without one
            self.httpd.shutdown()
            self._serving = False
        self.httpd.server_close()
        self.batcher.close()

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- request handling (called from handler threads) --

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        """Answer one HTTP request: (status, JSON body)."""
        with self._lock:
            self.stats["requests"] += 1
            self.stats["in_flight"] += 1
            self.stats["max_in_flight"] = max(self.stats["max_in_flight"], self.stats["in_flight"])
        try:
            return 200, self._route(method, path.split("?")[0].rstrip("/"), headers, body)
        except ApiError as exc:
            return exc.status, exc.body()
        except ModelError as exc:  # the generator refused this request (too long, no template)
            return 400, ApiError(400, str(exc)).body()
        except Exception as exc:  # noqa: BLE001 - a server answers errors, it does not die
            return 500, ApiError(500, f"{type(exc).__name__}: {exc}", "server_error").body()
        finally:
            with self._lock:
                self.stats["in_flight"] -= 1

    def _route(self, method: str, path: str, headers: Any, body: bytes) -> dict[str, Any]:
        if path in ("/health", "/v1/health"):
            return {"status": "ok"}
        if self.api_key is not None and headers.get("Authorization", "") != f"Bearer {self.api_key}":
            raise ApiError(401, "Incorrect or missing API key (send 'Authorization: Bearer <key>')",
                           code="invalid_api_key")
        routes = {"/v1/models": "GET", "/v1/chat/completions": "POST", "/v1/completions": "POST"}
        if path.startswith("/v1/models/") and method == "GET":
            return self._model_card(path.removeprefix("/v1/models/"))
        if path not in routes:
            raise ApiError(404, f"no endpoint {path}; this server offers {', '.join(routes)}",
                           code="unknown_url")
        if method != routes[path]:
            raise ApiError(405, f"{path} takes {routes[path]}, not {method}")
        if path == "/v1/models":
            return {"object": "list", "data": [self._model_card(n) for n in self.names]}
        status = self.failures.draw()
        if status is not None:
            with self._lock:
                self.stats["failed_on_purpose"] += 1
            raise ApiError(status, f"injected failure (HTTP {status}) for testing", "server_error")
        if self.delay:
            time.sleep(self.delay)
        try:
            data = json.loads(body or b"{}")
        except json.JSONDecodeError as exc:
            raise ApiError(400, f"the request body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ApiError(400, "the request body must be a JSON object")
        model = data.get("model")
        if model not in self.names:
            raise ApiError(404, f"The model '{model}' does not exist; this server serves: "
                                f"{', '.join(self.names)}", param="model", code="model_not_found")
        if data.get("stream"):
            raise ApiError(400, "streaming is not supported by this server; send stream=false",
                           param="stream")
        chat = path == "/v1/chat/completions"
        requests = _chat_requests(data) if chat else _completion_requests(data)
        sampling = self._sampling(data)
        results = self.batcher.submit(requests, sampling)
        return _response(model, chat, results)

    def _model_card(self, name: str) -> dict[str, Any]:
        if name not in self.names:
            raise ApiError(404, f"The model '{name}' does not exist", param="model", code="model_not_found")
        return {"id": name, "object": "model", "created": 0, "owned_by": "codistill",
                "root": getattr(self.generator, "identity", name)}

    def _sampling(self, data: dict[str, Any]) -> Sampling:
        n = _number(data, "n", 1, int)
        if self.max_n is not None:
            n = min(n, self.max_n)
        stop = data.get("stop") or ()
        if isinstance(stop, str):
            stop = (stop,)
        if not isinstance(stop, list | tuple) or not all(isinstance(s, str) for s in stop):
            raise ApiError(400, "stop must be a string or a list of strings", param="stop")
        max_tokens = data.get("max_completion_tokens", data.get("max_tokens"))
        seed = data.get("seed")
        if seed is not None and not isinstance(seed, int):
            raise ApiError(400, f"seed must be an integer, got {seed!r}", param="seed")
        try:
            return Sampling(
                n=n,
                temperature=_number(data, "temperature", 1.0, float),
                top_p=_number(data, "top_p", 1.0, float),
                max_new_tokens=int(max_tokens) if max_tokens is not None else self.default_max_tokens,
                stop=tuple(stop),
                seed=seed,
            )
        except (ValueError, TypeError) as exc:
            raise ApiError(400, str(exc).replace("sampling.", "").replace("max_new_tokens", "max_tokens")) from None


def _number(data: dict[str, Any], key: str, default: float, kind: type) -> Any:
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and value != int(value)):
        raise ApiError(400, f"{key} must be {'an integer' if kind is int else 'a number'}, got {value!r}",
                       param=key)
    return kind(value)


def _content(content: Any, i: int) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    raise ApiError(400, f"messages[{i}].content must be a string or a list of text parts", param="messages")


def _chat_requests(data: dict[str, Any]) -> list[Request]:
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "messages must be a non-empty list", param="messages")
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise ApiError(400, f"messages[{i}] needs a role and a content", param="messages")
        out.append({"role": m["role"], "content": _content(m.get("content", ""), i)})
    return [Request.chat(*out)]


def _completion_requests(data: dict[str, Any]) -> list[Request]:
    prompt = data.get("prompt")
    prompts = [prompt] if isinstance(prompt, str) else prompt
    if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) for p in prompts):
        raise ApiError(400, "prompt must be a string or a list of strings (token ids are not supported)",
                       param="prompt")
    return [Request.completion(p) for p in prompts]


def _response(model: str, chat: bool, results: list[Generation]) -> dict[str, Any]:
    choices = []
    for gen in results:
        for text, reason in zip(gen.texts, gen.finish_reasons or ["stop"] * len(gen.texts), strict=False):
            index = len(choices)
            if chat:
                choices.append({"index": index, "message": {"role": "assistant", "content": text},
                                "finish_reason": reason})
            else:
                choices.append({"index": index, "text": text, "finish_reason": reason, "logprobs": None})
    prompt_tokens = sum(g.prompt_tokens for g in results)
    completion_tokens = sum(sum(g.completion_tokens) for g in results)
    return {
        "id": f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion" if chat else "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients reuse connections
    server_version = "codistill"

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, payload = self.server.app.handle(method, self.path, self.headers, body)  # type: ignore[attr-defined]
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._answer("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._answer("POST")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.app.verbose:  # type: ignore[attr-defined]
            super().log_message(format, *args)
