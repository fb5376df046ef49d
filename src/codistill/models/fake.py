"""A scripted, deterministic Generator for tests and dry runs: rules map prompts to replies."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codistill.models.base import Generation, Generator, ModelError, Progress, Request, Sampling
from codistill.models.stops import cut_at_stop

# A reply: fixed text, a list of texts (sample i of n gets item i mod len), or a function.
Reply = str | Sequence[str] | Callable[[Request, Sampling, int], str]
Script = (
    Callable[[Request, Sampling, int], str]  # (request, sampling, sample index) -> text
    | Mapping[str, Reply]  # substring of the prompt text -> reply, first match wins
    | Sequence[tuple[str | re.Pattern[str], Reply]]  # (substring or compiled regex, reply)
)


@dataclass(frozen=True)
class Call:
    """One recorded `generate` call."""

    requests: tuple[Request, ...]
    sampling: Sampling


def prompt_text(request: Request) -> str:
    """The text rules match against: the last user message, or the completion prompt."""
    if request.prompt is not None:
        return request.prompt
    users = [m["content"] for m in request.messages or () if m.get("role") == "user"]
    return users[-1] if users else (request.messages or ({"content": ""},))[-1]["content"]


def count_tokens(text: str) -> int:
    """The fake's token count: whitespace-separated words (deterministic and easy to predict)."""
    return len(text.split())


def apply_limits(text: str, sampling: Sampling) -> tuple[str, int, str]:
    """Cut a reply at the first stop string or at max_new_tokens words: (text, tokens, finish)."""
    text, _ = cut_at_stop(text, sampling.stop)
    words = list(re.finditer(r"\S+", text))
    if len(words) > sampling.max_new_tokens:
        return text[: words[sampling.max_new_tokens - 1].end()], sampling.max_new_tokens, "length"
    return text, len(words), "stop"


class FakeGenerator(Generator):
    """Answers from a script; records every call; the same input always gives the same output.

    `FakeGenerator({"reverse": "def reverse(s): return s[::-1]"}, default="pass")` replies by
    substring of the last user message (or the completion prompt). Rules are tried in order;
    with no match and no `default`, `generate` raises, so a test notices an unscripted prompt.
    """

    def __init__(self, script: Script, *, default: Reply | None = None, name: str = "fake") -> None:
        self._fn: Callable[[Request, Sampling, int], str] | None = None
        self._rules: list[tuple[str | re.Pattern[str], Reply]] = []
        if isinstance(script, str | bytes):
            raise TypeError("FakeGenerator takes a callable, a mapping or a list of (pattern, reply)")
        if callable(script):
            self._fn = script
        elif isinstance(script, Mapping):
            self._rules = list(script.items())
        else:
            self._rules = [(pattern, reply) for pattern, reply in script]
        self.default = default
        self.name = name
        self.identity = f"fake:{name}"
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: str | Path, name: str | None = None) -> FakeGenerator:
        """Load a script JSON: {"rules": [{"match"|"regex": ..., "reply": text or [texts]}], "default": text}."""
        path = Path(path).expanduser()
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ModelError(f"fake model script {path} does not exist") from None
        except json.JSONDecodeError as exc:
            raise ModelError(f"fake model script {path} is not valid JSON: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("rules", []), list):
            raise ModelError(f"fake model script {path}: expected an object with a 'rules' list")
        rules: list[tuple[str | re.Pattern[str], Reply]] = []
        for i, rule in enumerate(data.get("rules", [])):
            if not isinstance(rule, dict) or "reply" not in rule or not ({"match", "regex"} & set(rule)):
                raise ModelError(f"fake model script {path}: rule {i} needs 'reply' and 'match' or 'regex'")
            try:
                pattern = re.compile(rule["regex"]) if "regex" in rule else str(rule["match"])
            except re.error as exc:
                raise ModelError(f"fake model script {path}: rule {i} has a bad regex: {exc}") from None
            rules.append((pattern, rule["reply"]))
        # The identity hashes the script, so editing it never reuses cached replies.
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        return cls(rules, default=data.get("default"), name=name or data.get("name") or f"{path.stem}-{digest}")

    @property
    def requests(self) -> list[Request]:
        """Every request seen so far, across calls, in order."""
        return [r for call in self.calls for r in call.requests]

    def _reply(self, request: Request, sampling: Sampling, index: int) -> str:
        if self._fn is not None:
            return self._fn(request, sampling, index)
        text = prompt_text(request)
        for pattern, reply in self._rules:
            hit = pattern.search(text) if isinstance(pattern, re.Pattern) else pattern in text
            if hit:
                return _pick(reply, request, sampling, index)
        if self.default is None:
            raise ModelError(f"FakeGenerator {self.name!r}: no rule matches prompt {text[:200]!r}")
        return _pick(self.default, request, sampling, index)

    def generate(
        self,
        requests: Sequence[Request],
        sampling: Sampling,
        progress: Progress | None = None,
    ) -> list[Generation]:
        """Reply to every request from the script, applying stop strings and max_new_tokens."""
        with self._lock:
            self.calls.append(Call(tuple(requests), sampling))
        out = []
        for request in requests:
            texts, counts, reasons = [], [], []
            for i in range(sampling.n):
                text, tokens, reason = apply_limits(self._reply(request, sampling, i), sampling)
                texts.append(text)
                counts.append(tokens)
                reasons.append(reason)
            prompt = " ".join(m["content"] for m in request.messages or ()) or request.prompt or ""
            out.append(Generation(texts, count_tokens(prompt), counts, 0.0, reasons))
            if progress:
                progress(1)
        return out


def _pick(reply: Reply, request: Request, sampling: Sampling, index: int) -> str:
    if callable(reply):
        return reply(request, sampling, index)
    if isinstance(reply, str):
        return reply
    if not reply:
        raise ModelError("FakeGenerator: a reply list is empty")
    return str(reply[index % len(reply)])


def fake_from_dict(data: dict[str, Any]) -> FakeGenerator:
    """Build a FakeGenerator from the same structure `from_file` reads (handy in tests)."""
    rules = [
        (re.compile(r["regex"]) if "regex" in r else r["match"], r["reply"]) for r in data.get("rules", [])
    ]
    return FakeGenerator(rules, default=data.get("default"), name=data.get("name", "fake"))
