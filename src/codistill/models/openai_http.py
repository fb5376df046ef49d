"""OpenAI-compatible HTTP backend (vLLM, SGLang, llama.cpp server, Ollama, OpenAI, `codistill models serve`)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import random
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

import httpx

from codistill.models.base import (
    Generation,
    GenerationFailed,
    Generator,
    ModelError,
    Progress,
    Request,
    Sampling,
)
from codistill.models.stops import cut_at_stop

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}
T = TypeVar("T")


class _Retry(Exception):
    """A failure worth another attempt; `wait` overrides the backoff (Retry-After)."""

    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


class OpenAIGenerator(Generator):
    """Sends chat or completion requests concurrently (at most `concurrency` in flight).

    Retries 429, 5xx and timeouts with exponential backoff (honouring Retry-After); gives a
    message that says what to change for a bad key (401/403), an unknown model or path (404)
    and an endpoint nobody listens on. The API key is read from the environment variable
    `key_env` (default OPENAI_API_KEY); no key is sent when it is unset.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        key_env: str = "OPENAI_API_KEY",
        concurrency: int = 8,
        timeout: float = 600.0,
        max_retries: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        connect_retries: int = 2,
        identity: str | None = None,
    ) -> None:
        if concurrency < 1:
            raise ModelError(f"concurrency must be >= 1, got {concurrency}")
        if not model:
            raise ModelError("an OpenAI-compatible endpoint needs a model name (openai:<url>#<model>)")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.key_env = key_env
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.connect_retries = connect_retries
        # The server's weights are invisible from here: serve new weights under a new model
        # name, or pass `identity`, so cached answers of the old weights are not reused.
        self.identity = identity or f"openai:{self.base_url}#{model}"

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.key_env)
        return {"Authorization": f"Bearer {key}"} if key else {}

    def generate(
        self,
        requests: Sequence[Request],
        sampling: Sampling,
        progress: Progress | None = None,
    ) -> list[Generation]:
        """Generate for every request, in order; raises GenerationFailed keeping finished ones."""
        return _run_sync(lambda: self.agenerate(requests, sampling, progress))

    async def agenerate(
        self,
        requests: Sequence[Request],
        sampling: Sampling,
        progress: Progress | None = None,
    ) -> list[Generation]:
        """The async form of `generate`."""
        results: list[Generation | None] = [None] * len(requests)
        gate = asyncio.Semaphore(self.concurrency)
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        timeout = httpx.Timeout(self.timeout, connect=min(10.0, self.timeout))
        async with httpx.AsyncClient(timeout=timeout, limits=limits, headers=self._headers()) as client:

            async def one(i: int, request: Request) -> None:
                async with gate:
                    results[i] = await self._one(client, request, sampling)
                if progress:
                    progress(1)

            tasks = [asyncio.create_task(one(i, r)) for i, r in enumerate(requests)]
            try:
                await asyncio.gather(*tasks)
            except Exception as exc:  # noqa: BLE001 - any failure must keep the finished results
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                done = sum(r is not None for r in results)
                why = str(exc) if isinstance(exc, ModelError) else f"{type(exc).__name__}: {exc}"
                if len(requests) > 1:
                    why += f"\n({done} of {len(requests)} requests had finished; their results are kept)"
                raise GenerationFailed(why, results) from exc
        return [r for r in results if r is not None]

    async def _one(self, client: httpx.AsyncClient, request: Request, sampling: Sampling) -> Generation:
        chat = request.messages is not None
        body: dict[str, Any] = {
            "model": self.model,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_new_tokens,
        }
        if chat:
            body["messages"] = [dict(m) for m in request.messages or ()]
        else:
            body["prompt"] = request.prompt
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        started = time.perf_counter()
        texts: list[str] = []
        reasons: list[str] = []
        counts: list[int] = []
        prompt_tokens = 0
        # Servers that ignore `n` (Ollama, llama.cpp) answer with one choice: ask again for the
        # rest, each with its own seed so the samples differ.
        while len(texts) < sampling.n:
            want = sampling.n - len(texts)
            body["n"] = want
            if sampling.seed is not None:
                body["seed"] = sampling.seed + len(texts)
            data = await self._post(client, "/chat/completions" if chat else "/completions", body)
            choices = sorted(data.get("choices") or [], key=lambda c: c.get("index", 0))[:want]
            if not choices:
                raise ModelError(f"{self.base_url} answered without any choices: {str(data)[:300]}")
            usage = data.get("usage") or {}
            prompt_tokens = int(usage.get("prompt_tokens") or prompt_tokens)
            new = []
            for choice in choices:
                raw = (choice.get("message") or {}).get("content") if chat else choice.get("text")
                text, hit = cut_at_stop(raw or "", sampling.stop)
                new.append(text)
                reasons.append("stop" if hit else str(choice.get("finish_reason") or "stop"))
            texts += new
            counts += _split_tokens(int(usage.get("completion_tokens") or 0), new)
        return Generation(texts, prompt_tokens, counts, time.perf_counter() - started, reasons)

    async def _post(self, client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
        url = self.base_url + path
        failures = 0
        connect_failures = 0
        while True:
            try:
                return await self._attempt(client, url, body)
            except httpx.ConnectError as exc:
                connect_failures += 1
                if connect_failures > min(self.connect_retries, self.max_retries):
                    raise ModelError(
                        f"cannot connect to {self.base_url} ({exc or type(exc).__name__}). Is the server "
                        "running? Start one (e.g. `codistill models serve embedded:teacher --port 8000`, "
                        "`vllm serve <model>`, `ollama serve`) or fix the URL in the model spec"
                    ) from None
                wait = None
                last = "connection refused"
            except httpx.TimeoutException:
                last, wait = f"no answer within {self.timeout:g} s (timeout)", None
            except httpx.TransportError as exc:
                last, wait = f"connection broken ({type(exc).__name__}: {exc})", None
            except _Retry as exc:
                last, wait = str(exc), exc.wait
            failures += 1
            if failures > self.max_retries:
                hint = (" Raise the timeout (?timeout=SECONDS in the spec) or lower the concurrency."
                        if "timeout" in last else "")
                raise ModelError(f"{url}: giving up after {failures} attempts; last error: {last}.{hint}")
            delay = wait if wait is not None else self.backoff * 2 ** (failures - 1)
            await asyncio.sleep(min(delay, self.max_backoff) * (1 + 0.1 * random.random()))

    async def _attempt(self, client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await client.post(url, json=body)
        status = response.status_code
        if status == 200:
            try:
                return response.json()
            except ValueError:
                raise ModelError(f"{url} answered HTTP 200 with a body that is not JSON: "
                                 f"{response.text[:200]!r}") from None
        message = _error_message(response)
        if status in RETRY_STATUS:
            raise _Retry(f"HTTP {status}: {message}", _retry_after(response))
        if status in (401, 403):
            key_state = "is set" if os.environ.get(self.key_env) else "is not set"
            raise ModelError(
                f"{url} refused the API key (HTTP {status}: {message}). The key is read from the "
                f"environment variable {self.key_env}, which {key_state}: set it to a valid key, or "
                "name another variable with ?key_env=NAME in the model spec"
            )
        if status == 404:
            raise ModelError(await self._explain_404(client, url, message))
        raise ModelError(f"{url} refused the request (HTTP {status}): {message}")

    async def _explain_404(self, client: httpx.AsyncClient, url: str, message: str) -> str:
        served = await self._served(client)
        if served is None:
            return (f"{url} does not exist (HTTP 404: {message}). Check the base URL: it usually "
                    "ends in /v1, e.g. openai:http://localhost:8000/v1#model")
        if self.model not in served:
            return (f"model {self.model!r} is not served at {self.base_url} (HTTP 404: {message}); "
                    f"it serves: {', '.join(served) or '(nothing)'}. Fix the name after '#' in the spec")
        return f"{url} does not exist (HTTP 404: {message}); the server may not offer this endpoint"

    async def _served(self, client: httpx.AsyncClient) -> list[str] | None:
        try:
            response = await client.get(self.base_url + "/models")
            if response.status_code != 200:
                return None
            return [str(m.get("id")) for m in response.json().get("data", [])]
        except (httpx.HTTPError, ValueError, AttributeError):
            return None

    def post_json(self, path: str, bodies: Sequence[dict[str, Any]],
                  progress: Progress | None = None) -> list[dict[str, Any]]:
        """POST each body to base URL + `path` (at most `concurrency` at a time), with the retries and
        error messages of `generate`; the answers in order. For requests `generate` does not form
        (a teacher scoring given text with logprobs)."""

        async def ask() -> list[dict[str, Any]]:
            gate = asyncio.Semaphore(self.concurrency)
            timeout = httpx.Timeout(self.timeout, connect=min(10.0, self.timeout))
            async with httpx.AsyncClient(timeout=timeout, headers=self._headers()) as client:

                async def one(body: dict[str, Any]) -> dict[str, Any]:
                    async with gate:
                        answer = await self._post(client, path, {"model": self.model, **body})
                    if progress:
                        progress(1)
                    return answer

                tasks = [asyncio.create_task(one(b)) for b in bodies]
                try:
                    return list(await asyncio.gather(*tasks))
                except BaseException:
                    for task in tasks:  # the first failure ends the call: stop the rest before closing
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
                    raise

        return _run_sync(ask)

    def served_models(self) -> list[str] | None:
        """The model names the server lists at /models, or None when it does not answer."""

        async def ask() -> list[str] | None:
            timeout = httpx.Timeout(min(30.0, self.timeout))
            async with httpx.AsyncClient(timeout=timeout, headers=self._headers()) as client:
                return await self._served(client)

        return _run_sync(ask)


def _run_sync(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from synchronous code, even inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    # Called from inside an event loop (a notebook, an async app): asyncio.run would fail
    # there, so the coroutine runs on a loop of its own in a worker thread.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def _error_message(response: httpx.Response) -> str:
    """The `error.message` of an OpenAI-style error body, else the start of the body."""
    try:
        error = response.json().get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
    except (ValueError, AttributeError):
        pass
    return response.text[:300] or response.reason_phrase


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["retry-after"]))
    except (KeyError, ValueError):
        return None


def _split_tokens(total: int, texts: list[str]) -> list[int]:
    """Share a usage total among n choices by text length (servers report only the sum)."""
    if len(texts) == 1:
        return [total]
    chars = sum(len(t) for t in texts)
    if not chars:
        return [total // len(texts)] * len(texts)
    shares = [total * len(t) // chars for t in texts]
    shares[0] += total - sum(shares)
    return shares
