"""A tiny real causal LM and tokenizer, built offline in milliseconds, for tests of any stage.

    from tests.tiny import tiny_model_and_tokenizer
    model, tokenizer = tiny_model_and_tokenizer()            # in memory
    model, tokenizer = tiny_model_and_tokenizer(tmp_path)    # also saved: tmp_path / "tiny-model"

The model is a 2-layer Llama with random weights (its text is gibberish but deterministic for a
seed); the tokenizer is a byte-level BPE trained here on a few lines of code, so it can encode
any text, with a ChatML chat template and `<|im_end|>` as the eos token.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

CORPUS = [
    "def add(a, b):\n    return a + b\n",
    "def is_even(n: int) -> bool:\n    return n % 2 == 0\n",
    "for i in range(10):\n    print(i)\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n",
    "Write a function that reverses a string.",
    "assert add(1, 2) == 3\n",
    "function add(a, b) { return a + b; }\n",
    "#include <stdio.h>\nint main(void) { return 0; }\n",
]
SPECIAL = ["<|pad|>", "<|im_start|>", "<|im_end|>"]


def tiny_tokenizer(vocab_size: int = 320) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained on CORPUS, with pad, ChatML and eos special tokens."""
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(CORPUS, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<|pad|>", eos_token="<|im_end|>", bos_token=None
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def tiny_model_and_tokenizer(
    tmp_path: Path | None = None,
    seed: int = 0,
    hidden_size: int = 32,
    layers: int = 2,
    context: int = 512,
) -> tuple[LlamaForCausalLM, PreTrainedTokenizerFast]:
    """A random tiny Llama and its tokenizer; saved to tmp_path / "tiny-model" when given."""
    tokenizer = tiny_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=context,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
        tie_word_embeddings=True,
        # Wider than the usual 0.02 so random weights give varied text rather than one token
        # repeated, which lets tests find stop strings and tell samples apart.
        initializer_range=0.5,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    if tmp_path is not None:
        folder = Path(tmp_path) / "tiny-model"
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    return model, tokenizer
