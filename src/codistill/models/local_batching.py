"""Pieces of batched local generation: prompt encoding, row planning, padding, stop strings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import StoppingCriteria

from codistill.models.base import ModelError, Request
from codistill.models.stops import cut_at_stop


def encode(tokenizer, request: Request) -> list[int]:  # noqa: ANN001 - any HF tokenizer
    """Token ids of a request: chat messages through the chat template, or the raw prompt."""
    if request.messages is not None:
        if not getattr(tokenizer, "chat_template", None):
            raise ModelError(
                "this model's tokenizer has no chat template: send completion requests "
                "(Request.completion) or use an instruct/chat model"
            )
        text = tokenizer.apply_chat_template(
            [dict(m) for m in request.messages], tokenize=False, add_generation_prompt=True
        )
        # The template already writes any BOS token the model expects.
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])
    return list(tokenizer(request.prompt)["input_ids"])


@dataclass(frozen=True)
class Row:
    """One sequence to generate: sample `sample` of request `request`."""

    request: int
    sample: int
    ids: tuple[int, ...]


def plan_batches(prompts: Sequence[list[int]], n: int, batch_size: int) -> list[list[Row]]:
    """n rows per request, longest prompts first (similar lengths share a batch, OOM shows early)."""
    rows = [Row(r, k, tuple(ids)) for r, ids in enumerate(prompts) for k in range(n)]
    rows.sort(key=lambda row: (-len(row.ids), row.request, row.sample))
    return [rows[i : i + batch_size] for i in range(0, len(rows), batch_size)]


def left_pad(rows: Sequence[Row], pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """input_ids and attention_mask, padded on the left so every row ends where generation starts."""
    width = max(len(row.ids) for row in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        if row.ids:
            ids[i, width - len(row.ids) :] = torch.tensor(row.ids, dtype=torch.long)
            mask[i, width - len(row.ids) :] = 1
    return ids.to(device), mask.to(device)


class StopOnStrings(StoppingCriteria):
    """Marks a row finished once its new text contains a stop string; remembers at which length.

    Only a window of the last tokens is decoded each step: a stop string of c characters spans
    at most c tokens, plus a few for bytes of a character split across tokens.
    """

    def __init__(self, tokenizer, stops: Sequence[str], prompt_width: int) -> None:  # noqa: ANN001
        self.tokenizer = tokenizer
        self.stops = [s for s in stops if s]
        self.prompt_width = prompt_width
        self.window = max((len(s) for s in self.stops), default=0) + 8
        self.done_at: dict[int, int] = {}  # row -> number of new tokens when the stop appeared

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: object) -> torch.Tensor:
        new = input_ids[:, self.prompt_width :]
        flags = []
        for i in range(new.shape[0]):
            if i not in self.done_at:
                tail = self.tokenizer.decode(new[i, -self.window :].tolist(), skip_special_tokens=True)
                if any(stop in tail for stop in self.stops):
                    self.done_at[i] = new.shape[1]
            flags.append(i in self.done_at)
        return torch.tensor(flags, dtype=torch.bool, device=input_ids.device)


def finish_row(
    tokenizer,  # noqa: ANN001
    new_ids: list[int],
    eos_ids: set[int],
    stop_at: int | None,
    stops: Sequence[str],
) -> tuple[str, int, str]:
    """Decode one row's new tokens: (text, completion tokens, finish reason)."""
    end, reason = len(new_ids), "length"
    eos_pos = next((i for i, t in enumerate(new_ids) if t in eos_ids), None)
    if eos_pos is not None:
        end, reason = eos_pos + 1, "stop"
    if stop_at is not None and stop_at < end:
        end, reason = stop_at, "stop"
    body = new_ids[: end - 1] if eos_pos is not None and end == eos_pos + 1 else new_ids[:end]
    text, hit = cut_at_stop(tokenizer.decode(body, skip_special_tokens=True), stops)
    return text, end, "stop" if hit else reason
