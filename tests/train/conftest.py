"""Tiny models for training tests: a 2-layer Llama and a byte-level BPE tokenizer built offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from codistill.records import Problem

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<pad>"]


def problems(n: int = 6) -> list[Problem]:
    """Small, distinct Python problems."""
    ops = [("add", "+"), ("sub", "-"), ("mul", "*"), ("maxi", "max"), ("mini", "min"), ("pow2", "**")]
    out = []
    for i in range(n):
        name, _ = ops[i % len(ops)]
        out.append(Problem(id=f"p{i}", question=f"Write a function {name}{i}(a, b) for two integers.",
                           entry_point=f"{name}{i}"))
    return out


def solutions(n: int = 6) -> list[tuple[Problem, str, str]]:
    """(problem, correct code, faulty code) triples for `problems(n)`."""
    triples = []
    for p in problems(n):
        name = p.entry_point
        triples.append((p, f"def {name}(a, b):\n    return a + b\n", f"def {name}(a, b):\n    return a - b\n"))
    return triples


def build_tiny(folder: Path, seed: int = 0, corpus: list[str] | None = None, vocab_size: int = 400) -> Path:
    """Save a tiny LlamaForCausalLM and its tokenizer (chat template included) into `folder`."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from codistill.prompting import answer_text, solve_prompt

    texts = list(corpus or [])
    for p, good, bad in solutions(6):
        texts += [solve_prompt(p), answer_text(good, "python"), answer_text(bad, "python")]
    raw = Tokenizer(models.BPE(unk_token=None))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    raw.train_from_iterator(texts * 3, trainer=trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<|im_end|>", pad_token="<pad>",
                                  bos_token="<|endoftext|>")
    tok.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                         bos_token_id=tok.bos_token_id, tie_word_embeddings=True)
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model folder shared by the session's tests (read-only: trainers write elsewhere)."""
    return build_tiny(tmp_path_factory.mktemp("tiny") / "model")


def answer_logprob(model_dir: Path, prompt: list[dict], answer: list[dict]) -> float:
    """Sum of log-probabilities the model gives `answer` after `prompt` (through the chat template)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    start = len(tok.apply_chat_template(prompt, add_generation_prompt=True, return_dict=False))
    ids = tok.apply_chat_template(prompt + answer, return_dict=False)
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].float()
    logps = torch.log_softmax(logits[:-1], dim=-1).gather(1, torch.tensor(ids[1:])[:, None])[:, 0]
    return float(logps[start - 1:].sum())


def weights(model_dir: Path) -> dict:
    """The saved tensors of a model folder."""
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


def kd_rows() -> tuple[list[dict], list[dict]]:
    """(training rows, held-out rows) of the distillation tests: correct answers to 4 + 2 problems."""
    from codistill.train import sft_rows

    pairs = [(p, good) for p, good, _ in solutions(6)]
    return sft_rows(pairs[:4]), sft_rows(pairs[4:])


def kd_teacher(root: Path, epochs: int) -> Path:
    """A tiny teacher with its own vocabulary (another tokenizer than the student's), trained by SFT
    on all six correct answers for `epochs` until it is confident."""
    from codistill.config import SFT
    from codistill.train import sft_rows, train_sft

    base = build_tiny(root / "base", seed=1, vocab_size=330,
                      corpus=["teacher " * 20, "return a * b", "lambda x: x + 1"])
    answers = sft_rows((p, good) for p, good, _ in solutions(6))
    return train_sft(base, answers, root / "sft", SFT(lr=1e-2, epochs=epochs, batch_size=2, max_length=256,
                                                       warmup_ratio=0.0), device="cpu", progress=False).model_dir

