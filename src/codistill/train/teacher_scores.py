"""A teacher behind an OpenAI-compatible endpoint, asked for its top-k logprobs over given text.

Logit distillation needs the teacher's next-token distribution at every token of an answer it may
not have written, so the endpoint must score text it is given: `/v1/completions` with `echo` and
`logprobs` (OpenAI's legacy form, which vLLM and llama-cpp-python's server answer) or vLLM's
`prompt_logprobs` extension. Chat `top_logprobs` cover only tokens the server generates itself.
`ServedTeacher.probe` finds out which form an endpoint answers before any work and, where none,
says what the endpoint can serve instead. Every answer is kept in the request cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from codistill.cache import RequestCache, value_key
from codistill.models.base import ModelError
from codistill.train.common import TrainError

# Predictable to any language model: the probe also checks which token each distribution is for.
PROBE_TEXT = ", ".join(str(i) for i in range(1, 25))
FORMS = ("echo", "prompt_logprobs")
PROBE_VERSION = 1


@dataclass(frozen=True)
class TeacherToken:
    """One teacher token of a scored completion and the teacher's distribution where it stands."""

    text: str
    offset: int  # character offset in the completion; negative when it starts in the prompt
    logprob: float | None  # of this token; None where the server did not say
    top: tuple[tuple[str, float], ...]  # the most likely tokens at this position, most likely first


@dataclass(frozen=True)
class Capability:
    """What an endpoint answered to the probe."""

    form: str  # "echo" or "prompt_logprobs"
    top_k: int  # alternatives it returned per position (at most the top_k asked)
    # 1 where the server reports each distribution one token early (llama-cpp-python 0.3 on models
    # that add no BOS token: the distribution it lists at token i is the one for token i + 1).
    shift: int = 0


class ServedTeacher:
    """Scores (prompt text, completion text) pairs through an `openai:` endpoint, with the cache."""

    def __init__(self, spec: str, cache: RequestCache, *, top_k: int = 20) -> None:
        from codistill.models.openai_http import OpenAIGenerator
        from codistill.models.spec import load_generator

        client = load_generator(spec)
        if not isinstance(client, OpenAIGenerator):
            raise TrainError(f"{spec} is not an OpenAI-compatible endpoint (openai:<url>#<model>)")
        self.spec, self.client, self.cache, self.top_k = spec, client, cache, top_k
        self.identity = client.identity

    def probe(self) -> Capability:
        """How this endpoint scores given text; a TrainError saying what it can serve when it cannot.

        The answer is cached (by endpoint identity and k): a rerun asks nothing again.
        """
        key = value_key("teacher-probe", self.identity, {"top_k": self.top_k, "version": PROBE_VERSION})
        if (known := self.cache.get_json(key)) is not None:
            return Capability(**known)
        notes = []
        for form in FORMS:
            try:
                [answer] = self.client.post_json("/completions", [self._body(form, PROBE_TEXT)])
            except ModelError as exc:
                if str(exc).startswith("cannot connect"):
                    raise TrainError(f"served teacher {self.spec}: {exc}") from None
                notes.append(f"{form}: {exc}")
                continue
            tokens = parse_scores(form, answer, PROBE_TEXT)
            widths = sorted(len(t[3]) for t in tokens or [] if t[3])
            if not widths:
                notes.append(f"{form}: the answer holds no logprobs of the prompt's tokens")
                continue
            width = min(widths[len(widths) // 2], self.top_k)
            if width < 2:
                notes.append(f"{form}: only the top-1 logprob per token, too little to match distributions")
                continue
            found = Capability(form, width, _shift(tokens or []))
            self.cache.put_json(key, self.identity, asdict(found))
            return found
        raise TrainError(self._cannot_score(notes))

    def score(self, pairs: Sequence[tuple[str, str]], capability: Capability,
              progress: Callable[[int], None] | None = None) -> list[list[TeacherToken]]:
        """The teacher's tokens of each completion, each with the top-k distribution where it stands.

        The prompt text is scored too (it conditions the completion) but only the completion's tokens
        come back. Answers are cached after every chunk, so a killed run keeps what was scored.
        """
        texts = [prompt + completion for prompt, completion in pairs]
        keys = [value_key("teacher-scores", self.identity,
                          {"form": capability.form, "top_k": self.top_k, "text": t}) for t in texts]
        raw: list[Any] = [self.cache.get_json(k) for k in keys]
        if progress and (hits := sum(r is not None for r in raw)):
            progress(hits)
        missing = [i for i, r in enumerate(raw) if r is None]
        chunk = max(4 * self.client.concurrency, 8)
        for start in range(0, len(missing), chunk):
            part = missing[start:start + chunk]
            try:
                answers = self.client.post_json(
                    "/completions", [self._body(capability.form, texts[i]) for i in part], progress)
            except ModelError as exc:
                done = len(texts) - len(missing) + start
                raise TrainError(f"served teacher {self.spec}: {exc}\n({done} of {len(texts)} answers are "
                                 "scored and cached; rerun to ask only for the rest)") from None
            for i, answer in zip(part, answers, strict=True):
                tokens = parse_scores(capability.form, answer, texts[i])
                if tokens is None:
                    raise TrainError(f"served teacher {self.spec} answered without prompt logprobs although "
                                     f"the probe found {capability.form}; its answer: {str(answer)[:300]}")
                self.cache.put_json(keys[i], self.identity, tokens)
                raw[i] = tokens
        return [_completion_tokens(r, len(p), capability, self.top_k) for r, (p, _) in zip(raw, pairs, strict=True)]

    def _body(self, form: str, text: str) -> dict[str, Any]:
        # One new token, not zero: llama-cpp-python reads max_tokens <= 0 as "up to the context".
        body: dict[str, Any] = {"prompt": text, "max_tokens": 1, "temperature": 0.0}
        if form == "echo":
            return {**body, "echo": True, "logprobs": self.top_k}
        # vLLM: the prompt token ids say which entry of each position is the prompt's own token.
        return {**body, "prompt_logprobs": self.top_k, "return_token_ids": True}

    def _cannot_score(self, notes: list[str]) -> str:
        why = "; ".join(notes)
        fix = ("serve the teacher where given text can be scored (vLLM's /v1/completions with echo and "
               "logprobs or prompt_logprobs, up to its --max-logprobs; llama-cpp-python's server, whose "
               "logits_all is on by default), use a local teacher (embedded:teacher, hf:<id> or a folder), "
               "or set train.kd.enabled to false for sequence-level SFT on the teacher's answers")
        if self._chat_logprobs():
            return (f"served teacher {self.spec} cannot score given text ({why}). It returns top_logprobs "
                    "only for tokens it generates itself (chat), which would serve off-policy distillation "
                    "of its own answers but not the scoring of the training answers that train.kd needs: "
                    f"{fix}")
        return f"served teacher {self.spec} returns no logprobs for given text ({why}): {fix}"

    def _chat_logprobs(self) -> bool:
        """True when the endpoint lists top_logprobs for the chat tokens it generates."""
        body = {"messages": [{"role": "user", "content": "Continue: " + PROBE_TEXT[:20]}], "max_tokens": 1,
                "temperature": 0.0, "logprobs": True, "top_logprobs": min(self.top_k, 5)}
        try:
            [answer] = self.client.post_json("/chat/completions", [body])
            content = ((answer.get("choices") or [{}])[0].get("logprobs") or {}).get("content") or []
        except (ModelError, AttributeError, IndexError, TypeError):
            return False
        return any(isinstance(c, dict) and c.get("top_logprobs") for c in content)


def parse_scores(form: str, answer: dict[str, Any], text: str) -> list[list[Any]] | None:
    """The scored text's tokens as the server reported them: [text, offset, logprob, [[token, logprob], ...]]
    each, offsets into `text`; None when the answer holds no prompt logprobs."""
    try:
        choice = (answer.get("choices") or [])[0]
    except (AttributeError, IndexError):
        return None
    if form == "echo":
        return _parse_echo(choice.get("logprobs") or {}, text)
    return _parse_prompt_logprobs(choice, answer, text)


def _parse_echo(logprobs: dict[str, Any], text: str) -> list[list[Any]] | None:
    tokens, tops = logprobs.get("tokens") or [], logprobs.get("top_logprobs") or []
    if not tokens or len(tops) != len(tokens):
        return None
    values = logprobs.get("token_logprobs") or [None] * len(tokens)
    offsets = logprobs.get("text_offset")
    if not offsets or len(offsets) != len(tokens) or any(b < a for a, b in zip(offsets, offsets[1:], strict=False)):
        offsets = _offsets_from_end(tokens, text)
        if offsets[-1] is None:  # the token generated after the text ends the list
            offsets = [*_offsets_from_end(tokens[:-1], text), None]
    out = []
    for token, offset, value, top in zip(tokens, offsets, values, tops, strict=True):
        if offset is None or offset >= len(text):  # the generated token after the text
            continue
        out.append([token, offset, value, _top_list(top)])
    return out if any(row[3] for row in out) else None


def _parse_prompt_logprobs(choice: dict[str, Any], answer: dict[str, Any], text: str) -> list[list[Any]] | None:
    entries = choice.get("prompt_logprobs") or answer.get("prompt_logprobs")
    ids = choice.get("prompt_token_ids") or answer.get("prompt_token_ids")
    if not entries or not ids or len(ids) != len(entries):
        return None
    tokens, values, tops = [], [], []
    for token_id, entry in zip(ids, entries, strict=True):
        entry = entry or {}
        own = entry.get(str(token_id)) or entry.get(token_id) or {}
        tokens.append(own.get("decoded_token") or "")
        values.append(own.get("logprob"))
        tops.append([[e.get("decoded_token") or "", e.get("logprob")] for e in entry.values() if isinstance(e, dict)])
    offsets = _offsets_from_end(tokens, text)
    out = [[t, o, v, _top_list(top)] for t, o, v, top in zip(tokens, offsets, values, tops, strict=True)
           if o is not None]
    return out if any(row[3] for row in out) else None


def _top_list(top: Any) -> list[list[Any]]:
    """A position's alternatives as [[token, logprob], ...], most likely first (dicts or lists of objects)."""
    if isinstance(top, dict):
        pairs = [[str(k), float(v)] for k, v in top.items() if v is not None]
    elif isinstance(top, list):
        pairs = [[str(e.get("token", "")), float(e["logprob"])] if isinstance(e, dict) else [str(e[0]), float(e[1])]
                 for e in top if e is not None]
    else:
        return []
    return sorted(pairs, key=lambda p: -p[1])


def _offsets_from_end(tokens: list[str], text: str) -> list[int | None]:
    """Each token's offset, found by laying the token texts back from the end of `text`.

    From the end, because the completion is what matters and a token the server decodes
    differently (a BOS marker, half of a multi-byte character) then only loses what lies before it.
    """
    offsets: list[int | None] = [None] * len(tokens)
    cursor = len(text)
    for i in range(len(tokens) - 1, -1, -1):
        if not text[:cursor].endswith(tokens[i]):
            break
        cursor -= len(tokens[i])
        offsets[i] = cursor
    return offsets


def _shift(tokens: list[list[Any]]) -> int:
    """1 when the distribution listed at each token predicts the next token instead (probe text only)."""
    same = later = counted = 0
    for here, after in zip(tokens, tokens[1:], strict=False):
        if not here[3]:
            continue
        counted += 1
        best = here[3][0][0]
        same += best == here[0]
        later += best == after[0]
    return int(counted > 0 and later >= counted / 2 and later > 2 * same)


def _completion_tokens(raw: list[list[Any]], start: int, capability: Capability, top_k: int) -> list[TeacherToken]:
    """The tokens at or after `start` (the completion), with each one's own distribution."""
    out = []
    for i, (text, offset, value, top) in enumerate(raw):
        if offset + len(text) <= start:
            continue
        if capability.shift:
            top = raw[i - 1][3] if i > 0 else []
            value = next((lp for t, lp in top if t == text), None)
        out.append(TeacherToken(text, offset - start, value, tuple((t, lp) for t, lp in top[:top_k])))
    return out
