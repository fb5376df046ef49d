"""One interface for every model role: teacher, student, judge, test model."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from codistill.errors import UserError

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}


@dataclass(frozen=True)
class Sampling:
    """Decoding parameters; temperature 0 means greedy."""

    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 512
    stop: tuple[str, ...] = ()
    seed: int | None = 0

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"sampling.n must be >= 1, got {self.n}")
        if self.temperature < 0:
            raise ValueError(f"sampling.temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"sampling.top_p must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise ValueError(f"sampling.max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.n > 1 and self.temperature == 0:
            raise ValueError("sampling.n > 1 needs temperature > 0 (greedy gives n equal texts)")

    @property
    def greedy(self) -> bool:
        """True when decoding is deterministic argmax."""
        return self.temperature == 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (used in cache keys)."""
        data = asdict(self)
        data["stop"] = list(self.stop)
        return data


@dataclass(frozen=True)
class Request:
    """One prompt: either chat messages or a raw completion prompt, never both."""

    messages: tuple[Message, ...] | None = None
    prompt: str | None = None

    def __post_init__(self) -> None:
        if (self.messages is None) == (self.prompt is None):
            raise ValueError("a Request takes exactly one of `messages` or `prompt`")

    @classmethod
    def chat(cls, *messages: Message) -> Request:
        """A chat request from messages."""
        return cls(messages=tuple(dict(m) for m in messages))

    @classmethod
    def user(cls, text: str, system: str | None = None) -> Request:
        """A single-turn chat request, with an optional system message."""
        msgs = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": text}
        ]
        return cls(messages=tuple(msgs))

    @classmethod
    def completion(cls, prompt: str) -> Request:
        """A plain completion request (base models)."""
        return cls(prompt=prompt)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (used in cache keys)."""
        if self.messages is not None:
            return {"messages": [dict(m) for m in self.messages]}
        return {"prompt": self.prompt}


@dataclass
class Generation:
    """The n completions of one request."""

    texts: list[str]
    prompt_tokens: int = 0
    completion_tokens: list[int] = field(default_factory=list)
    seconds: float = 0.0  # wall time spent producing it (0 when it came from the cache)
    finish_reasons: list[str] = field(default_factory=list)  # "stop" | "length" | ...
    cached: bool = False

    @property
    def text(self) -> str:
        """The first completion."""
        return self.texts[0]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Generation:
        """Inverse of `to_dict`."""
        return cls(**data)


Progress = Callable[[int], None]  # called with the number of requests just finished


class Generator(abc.ABC):
    """Batched text generation. Implementations: HTTP, transformers, fake; all cacheable."""

    #: Stable identity of the weights and backend, part of every cache key.
    identity: str = ""

    @abc.abstractmethod
    def generate(
        self,
        requests: Sequence[Request],
        sampling: Sampling,
        progress: Progress | None = None,
    ) -> list[Generation]:
        """Generate for every request, in order; `progress(k)` after each k finished."""

    def close(self) -> None:  # noqa: B027 - optional hook; most generators hold nothing
        """Release resources (connections, GPU memory)."""

    def __enter__(self) -> Generator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ModelError(UserError, RuntimeError):
    """A model could not be reached or loaded; the message says what to change."""


class GenerationFailed(ModelError):
    """Generation stopped part way; `partial[i]` holds request i's result when it finished.

    Callers that store results (the request cache, stage writers) keep the finished ones, so a
    failure late in a long batch loses nothing already computed.
    """

    def __init__(self, message: str, partial: list[Generation | None]) -> None:
        super().__init__(message)
        self.partial = partial

    @property
    def finished(self) -> int:
        """How many requests finished before the failure."""
        return sum(g is not None for g in self.partial)
