"""Logit distillation from a served teacher: its top-k logprobs over the answers, across tokenizers.

The teacher sits behind an `openai:` endpoint (teacher_scores.py asks it, once, for the top-k
logprobs of every answer token); the student is trained here. The two tokenizers cut the same
answer text differently, so they are compared where both start a token at the same character:
there both have read exactly the same text, and each side's distribution is its prediction of what
text comes next. Between two such points a span holds one or more tokens of each side; only the
first token of a span is compared, since the later ones are conditioned on different partial
pieces on each side, and a span's alternatives cannot be rebuilt from per-token top-k lists.

The distance is ULD's (Boizard et al., 2024): the L1 distance between the two distributions' sorted
probabilities, here the top k and a tail bucket holding the rest of the mass on each side. It needs
no shared vocabulary, but it compares only the shape of the two predictions. With `hybrid` (GOLD's
idea, the default), a teacher alternative whose text is one token of the student's vocabulary is
matched to that token directly (generalized KL, p log(p/q) - p + q per token, zero when equal), and
only the rest is compared sorted; this says which tokens are likely, not only how sure to be.
Cross-entropy on the answer (`crossentropy_weight`) adds the reference text. Student tokens after
the answer (the chat template's end-of-turn marker, which the teacher never scored) count as
certain: L1 to a one-hot distribution, 2 * (1 - p), so the student still learns to stop.
"""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path
from typing import Any

import torch
from transformers import Trainer

from codistill.cache import RequestCache
from codistill.config import KD, Lora
from codistill.train.common import (
    TrainError,
    TrainResult,
    bars,
    begin,
    disk_errors,
    fingerprint,
    finished_result,
    load_tokenizer,
    overrides,
    peft_config,
    rows_dataset,
    run_trainer,
    trainer_args,
)
from codistill.train.datasets import check_rows
from codistill.train.teacher_scores import Capability, ServedTeacher, TeacherToken


def train_kd_served(
    model_path: str | Path,
    teacher_spec: str,
    rows: list[dict[str, Any]],
    output_dir: Path,
    settings: KD,
    *,
    cache: RequestCache | str | Path | None = None,
    eval_rows: list[dict[str, Any]] | None = None,
    lora: Lora | None = None,
    seed: int = 0,
    device: str = "auto",
    progress: bool = True,
    max_steps: int | None = None,
    save_steps: float = 0.25,
    trl_args: dict[str, Any] | None = None,
) -> TrainResult:
    """`train_kd` with an `openai:` teacher: probe it, score every answer (cached), then distil.

    `trl_args` override fields of transformers' TrainingArguments here (no TRL trainer is involved).
    """
    from codistill.train.kd import eval_before, record_eval_after, save_metrics

    started = time.monotonic()
    output_dir = Path(output_dir)
    rows = check_rows(rows, "sft")
    held_out = check_rows(eval_rows, "sft") if eval_rows else None
    _check_settings(settings, lora)
    teacher = ServedTeacher(teacher_spec, _open_cache(cache), top_k=settings.top_k)
    recipe = {"kd": settings.model_dump(), "teacher": teacher.identity, "lora": lora.model_dump() if lora else None,
              "seed": seed, "max_steps": max_steps, "trl_args": trl_args or {}, "eval_rows": held_out or []}
    fp = fingerprint("kd", rows, recipe)
    if (done := finished_result(output_dir, "kd", fp)) is not None:
        return done
    capability = teacher.probe()  # before any work: an endpoint that cannot score stops the run here
    resume = begin(output_dir, "kd", fp, recipe)
    tokenizer = load_tokenizer(model_path)
    examples = served_examples(rows, tokenizer, teacher, capability, settings, progress)
    held = served_examples(held_out, tokenizer, teacher, capability, settings, progress) if held_out else None

    with bars(progress), disk_errors(output_dir):
        from transformers import AutoModelForCausalLM, TrainingArguments

        from codistill.train.sft import frozen_model

        base = trainer_args(output_dir, device=device, seed=seed, progress=progress, lr=settings.lr,
                            batch_size=settings.batch_size, grad_accum=settings.grad_accum,
                            epochs=settings.epochs, max_steps=max_steps, save_steps=save_steps)
        args = TrainingArguments(**{**base, "remove_unused_columns": False, "prediction_loss_only": True,
                                    "per_device_eval_batch_size": settings.batch_size, **overrides(trl_args)})
        model = (frozen_model(model_path, settings.freeze_layers) if settings.freeze_layers
                 else AutoModelForCausalLM.from_pretrained(str(model_path), dtype=torch.float32))
        if (peft := peft_config(lora)) is not None:
            from peft import get_peft_model

            model = get_peft_model(model, peft)
        from datasets import Dataset

        trainer = ServedKDTrainer(
            model=model, args=args, train_dataset=rows_dataset(examples, output_dir, args),
            eval_dataset=Dataset.from_list(held) if held else None, processing_class=tokenizer,
            data_collator=collate(tokenizer.pad_token_id, capability.top_k),
            settings=settings, teacher=teacher, capability=capability,
        )
        before = eval_before(trainer, output_dir, resume) if held else None
        result = run_trainer(trainer, kind="kd", output_dir=output_dir, fp=fp, model_path=model_path,
                             resume=resume, lora=lora, started=started)
        result.metrics["kd_served_spans"] = sum(len(e["kd_positions"]) for e in examples)
        result.metrics["kd_served_tokens"] = sum(sum(t != -100 for t in e["labels"]) for e in examples)
        if held:
            record_eval_after(trainer, result, output_dir, before)
        else:
            save_metrics(result, output_dir)
        return result


def _check_settings(settings: KD, lora: Lora | None) -> None:
    if settings.freeze_layers and lora is not None and lora.enabled:
        raise TrainError("train.kd.freeze_layers is for full fine-tuning; with LoRA the base model is "
                         "frozen already: set freeze_layers to 0 or disable train.lora")
    if settings.teacher_temperature != 1.0:
        raise TrainError("train.kd.teacher_temperature cannot soften a served teacher: its top-k logprobs are "
                         "not its whole distribution. Set teacher_temperature to 1 (student_temperature works)")


def _open_cache(cache: RequestCache | str | Path | None) -> RequestCache:
    if isinstance(cache, RequestCache):
        return cache
    from codistill import paths

    return RequestCache(cache or paths.request_cache_path())


def served_examples(rows: list[dict[str, Any]], tokenizer: Any, teacher: ServedTeacher, capability: Capability,
                    settings: KD, progress: bool = True) -> list[dict[str, Any]]:
    """Each row tokenized for the student, with the teacher's distributions at the aligned tokens."""
    from codistill.evaluate.progress import Bars

    texts = [_texts(row, tokenizer, settings.teacher_prompt) for row in rows]
    with Bars(progress) as bar:
        bar.add("score", f"teacher scores ({teacher.spec})", len(rows))
        scores = teacher.score([(t["teacher_prompt"], t["answer"]) for t in texts], capability,
                               lambda k: bar.advance("score", k))
    vocab = student_vocab(tokenizer)
    return [example(t, s, tokenizer, vocab, capability.top_k, settings.max_length)
            for t, s in zip(texts, scores, strict=True)]


def student_vocab(tokenizer: Any) -> dict[str, int]:
    """Token text -> student token id, for the tokens that decode to a text of their own."""
    special = set(tokenizer.all_special_ids)
    texts = tokenizer.batch_decode([[i] for i in range(len(tokenizer))])
    vocab: dict[str, int] = {}
    for i, text in enumerate(texts):
        if i not in special and text and "\ufffd" not in text:
            vocab.setdefault(text, i)
    return vocab


def _texts(row: dict[str, Any], tokenizer: Any, teacher_prompt: str) -> dict[str, Any]:
    """The student's whole text, where the answer starts and ends in it, and the teacher's prompt."""
    prefix = tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True, tokenize=False)
    full = tokenizer.apply_chat_template([*row["prompt"], *row["completion"]], tokenize=False)
    answer = "".join(m["content"] for m in row["completion"])
    if not full.startswith(prefix) or full.find(answer, len(prefix)) != len(prefix):
        raise TrainError(f"row {row.get('id')!r}: the student's chat template does not put the answer right after "
                         "the prompt's generation marker, so the teacher's scores cannot be placed on its tokens")
    question = next(m["content"] for m in reversed(row["prompt"]) if m["role"] == "user")
    shown = teacher_prompt.replace("{prompt}", question) if teacher_prompt else prefix
    return {"full": full, "start": len(prefix), "end": len(prefix) + len(answer), "answer": answer,
            "teacher_prompt": shown, "prompt": json.dumps(row["prompt"], ensure_ascii=False)}


def example(texts: dict[str, Any], scores: list[TeacherToken], tokenizer: Any, vocab: dict[str, int],
            top_k: int, max_length: int) -> dict[str, Any]:
    """Student token ids and labels (answer only), plus, at each aligned span start, the teacher's top-k
    probabilities (most likely first) and the student token id each alternative is (-1: none)."""
    encoded = tokenizer(texts["full"], add_special_tokens=False, return_offsets_mapping=True)
    ids, spans = encoded["input_ids"][:max_length], encoded["offset_mapping"][:max_length]
    start, end = texts["start"], texts["end"]
    labels = [token if stop > start else -100 for token, (_, stop) in zip(ids, spans, strict=True)]
    student: dict[int, int] = {}  # character offset in the answer -> first student token starting there
    stops = []
    for i, (first, _) in enumerate(spans):
        if labels[i] == -100 or i == 0:
            continue
        if start <= first < end:
            student.setdefault(first - start, i)
        elif first >= end:
            stops.append(i)
    teacher: dict[int, TeacherToken] = {}
    for token in scores:
        if token.offset >= 0:
            teacher.setdefault(token.offset, token)
    positions, probs, matches = [], [], []
    for offset in sorted(student.keys() & teacher.keys()):
        top = sorted(teacher[offset].top, key=lambda alt: -alt[1])[:top_k]
        if not top:
            continue
        positions.append(student[offset])
        seen: set[int] = set()
        match = []
        for text, _ in top:
            token = vocab.get(text, -1)
            match.append(token if token not in seen else -1)
            seen.add(token)
        pad = top_k - len(top)
        probs.append([math.exp(lp) for _, lp in top] + [0.0] * pad)
        matches.append(match + [-1] * pad)
    return {"input_ids": ids, "labels": labels, "kd_positions": positions, "kd_teacher": probs,
            "kd_ids": matches, "stop_positions": stops, "prompt": texts["prompt"]}


def collate(pad_id: int, top_k: int) -> Any:
    """Pads a batch of `example` dicts into tensors (masks mark the real entries)."""

    def pad(seqs: list[list[Any]], value: Any, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        width = max((len(s) for s in seqs), default=0) or 1
        shape = (len(seqs), width, len(value)) if isinstance(value, list) else (len(seqs), width)
        out = torch.full(shape, value[0] if isinstance(value, list) else value, dtype=dtype)
        mask = torch.zeros((len(seqs), width), dtype=torch.bool)
        for row, seq in enumerate(seqs):
            if seq:
                out[row, :len(seq)] = torch.tensor(seq, dtype=dtype)
                mask[row, :len(seq)] = True
        return out, mask

    def call(batch: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        ids, attention = pad([b["input_ids"] for b in batch], pad_id, torch.long)
        labels, _ = pad([b["labels"] for b in batch], -100, torch.long)
        positions, kd_mask = pad([b["kd_positions"] for b in batch], 0, torch.long)
        teacher, _ = pad([b["kd_teacher"] for b in batch], [0.0] * top_k, torch.float32)
        matched, _ = pad([b["kd_ids"] for b in batch], [-1] * top_k, torch.long)
        stops, stop_mask = pad([b["stop_positions"] for b in batch], 0, torch.long)
        return {"input_ids": ids, "attention_mask": attention.long(), "labels": labels, "kd_positions": positions,
                "kd_mask": kd_mask, "kd_teacher": teacher, "kd_ids": matched, "stop_positions": stops,
                "stop_mask": stop_mask, "prompt": [b["prompt"] for b in batch]}

    return call


def uld_distance(student_probs: torch.Tensor, teacher_probs: torch.Tensor,
                 matched: torch.Tensor | None = None) -> torch.Tensor:
    """Per row: L1 between sorted top-k probabilities plus a tail bucket (ULD); with `matched` (the
    student token id of each teacher alternative, -1 for none), those alternatives are compared with
    their own student token instead (generalized KL) and only the rest sorted.

    >>> uld_distance(torch.tensor([[0.1, 0.6, 0.3]]), torch.tensor([[0.6, 0.3]])).tolist()
    [0.0]
    """
    rows, vocab = student_probs.shape
    if matched is None:
        matched = torch.full_like(teacher_probs, -1, dtype=torch.long)
    hit = matched >= 0
    ours = student_probs.gather(1, matched.clamp_min(0)).clamp_min(1e-12)
    theirs = teacher_probs.clamp_min(1e-12)
    direct = torch.where(hit, teacher_probs * (theirs.log() - ours.log()) - teacher_probs + ours, 0).sum(-1)
    # The rest of the student's mass: its distribution without the matched tokens (column V is a sink).
    rest = torch.cat([student_probs, student_probs.new_zeros(rows, 1)], dim=-1)
    rest = rest.scatter(1, torch.where(hit, matched, vocab), 0.0)[:, :vocab]
    k = teacher_probs.shape[-1]
    # As many of the student's largest remaining probabilities as the teacher has unmatched alternatives.
    count = (~hit & (teacher_probs > 0)).sum(-1, keepdim=True)
    top = rest.topk(k, dim=-1).values
    top = torch.where(torch.arange(k, device=top.device) < count, top, 0.0)
    unmatched = torch.where(hit, 0.0, teacher_probs).sort(dim=-1, descending=True).values
    tail = (1 - teacher_probs.sum(-1, keepdim=True)).clamp_min(0)
    sorted_l1 = (torch.cat([top, rest.sum(-1, keepdim=True) - top.sum(-1, keepdim=True)], dim=-1)
                 - torch.cat([unmatched, tail], dim=-1)).abs().sum(-1)
    return direct + sorted_l1


class ServedKDTrainer(Trainer):
    """A Trainer whose loss is (hybrid) ULD against served teacher scores plus weighted cross-entropy.

    On a share `on_policy` of the training steps the student first answers the batch's prompts
    itself (sampled) and the teacher scores those answers through the endpoint: GKD's on-policy
    distillation, which needs an endpoint that scores given text.
    """

    loss_is_scaled_for_ga = False  # a mean per micro-batch: the Trainer divides by the accumulation steps

    def __init__(self, *args: Any, settings: KD, teacher: ServedTeacher, capability: Capability,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings, self.teacher, self.capability = settings, teacher, capability
        self._vocab: dict[str, int] | None = None
        self._losses: dict[str, list[float]] = {"on_policy_loss": [], "off_policy_loss": []}

    def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False,
                     num_items_in_batch: Any = None) -> Any:
        kind = None
        if model.training:
            # One draw per optimizer step (seeded), so a resumed run repeats the same choices.
            draw = random.Random(self.args.seed * 1_000_003 + self.state.global_step).random()
            kind = "on_policy_loss" if draw < self.settings.on_policy else "off_policy_loss"
            if kind == "on_policy_loss":
                inputs = self._own_answers(model, inputs["prompt"])
        outputs = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
        loss = self._loss(outputs.logits.float(), inputs)
        if kind:
            self._losses[kind].append(float(loss.detach()))
        return (loss, outputs) if return_outputs else loss

    def _loss(self, logits: torch.Tensor, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        s = self.settings
        # The distribution for token p is the output at p - 1.
        rows, slots = inputs["kd_mask"].nonzero(as_tuple=True)
        at = inputs["kd_positions"][rows, slots] - 1
        student = torch.softmax(logits[rows, at] / s.student_temperature, dim=-1)
        matched = inputs["kd_ids"][rows, slots] if s.hybrid else None
        distances = [uld_distance(student, inputs["kd_teacher"][rows, slots], matched)]
        rows, slots = inputs["stop_mask"].nonzero(as_tuple=True)
        if len(rows):
            where = inputs["stop_positions"][rows, slots]
            certain = torch.softmax(logits[rows, where - 1], dim=-1)
            distances.append(2 * (1 - certain.gather(1, inputs["input_ids"][rows, where][:, None])[:, 0]))
        distance = torch.cat(distances)
        distill = distance.mean() if distance.numel() else logits.sum() * 0
        labels = inputs["labels"][:, 1:]
        ce = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                               ignore_index=-100) if (labels != -100).any() else logits.sum() * 0
        return s.distillation_weight * distill + s.crossentropy_weight * ce

    def _own_answers(self, model: Any, prompts: list[str]) -> dict[str, Any]:
        """A batch of the student's own sampled answers to `prompts`, scored by the served teacher."""
        s, tokenizer = self.settings, self.processing_class
        messages = [json.loads(p) for p in prompts]
        prefixes = [tokenizer.apply_chat_template(m, add_generation_prompt=True, tokenize=False) for m in messages]
        side, tokenizer.padding_side = tokenizer.padding_side, "left"
        try:
            encoded = tokenizer(prefixes, add_special_tokens=False, padding=True, return_tensors="pt")
        finally:
            tokenizer.padding_side = side
        student = self.accelerator.unwrap_model(model)
        student.eval()
        try:
            with torch.no_grad():
                out = student.generate(**encoded.to(self.args.device), do_sample=True, temperature=s.temperature,
                                       max_new_tokens=s.max_completion_length, pad_token_id=tokenizer.pad_token_id)
        finally:
            student.train()
        answers = tokenizer.batch_decode(out[:, encoded["input_ids"].shape[1]:], skip_special_tokens=True)
        rows = [{"prompt": m, "completion": [{"role": "assistant", "content": a}]}
                for m, a in zip(messages, answers, strict=True)]
        texts = [_texts(row, tokenizer, s.teacher_prompt) for row in rows]
        scores = self.teacher.score([(t["teacher_prompt"], t["answer"]) for t in texts], self.capability)
        if self._vocab is None:
            self._vocab = student_vocab(tokenizer)
        batch = [example(t, sc, tokenizer, self._vocab, self.capability.top_k, s.max_length)
                 for t, sc in zip(texts, scores, strict=True)]
        return self._prepare_inputs(collate(tokenizer.pad_token_id, self.capability.top_k)(batch))

    def log(self, logs: dict[str, float], *args: Any, **kwargs: Any) -> None:
        """Adds the mean on- and off-policy losses since the last log (GOLD's names)."""
        if "loss" in logs:
            for name, values in self._losses.items():
                if values:
                    logs[name] = math.fsum(values) / len(values)
                    values.clear()
        super().log(logs, *args, **kwargs)
