"""LocalGenerator on a tiny real Llama built in the test: batching, sampling, stops, identity."""

from __future__ import annotations

import shutil

import pytest
import torch

from codistill.models import GenerationFailed, ModelError, Request, Sampling, load_generator
from codistill.models.local import LocalGenerator

REQUESTS = [
    Request.user("Write a function that reverses a string."),
    Request.completion("def add(a, b):"),
    Request.user("hi", system="You are terse."),
    Request.completion("for i in range(10):\n    print(i)\n" * 3),
]
GREEDY = Sampling(max_new_tokens=24)


def test_batched_greedy_equals_one_at_a_time(tiny) -> None:
    model, tokenizer = tiny
    batched = LocalGenerator(model, tokenizer, batch_size=4).generate(REQUESTS, GREEDY)
    alone = [LocalGenerator(model, tokenizer, batch_size=1).generate([r], GREEDY)[0] for r in REQUESTS]
    assert [g.texts for g in batched] == [g.texts for g in alone]
    assert len({g.text for g in batched}) > 1  # the prompts really lead to different text
    for gen in batched:
        assert gen.finish_reasons == ["length"] and gen.completion_tokens == [24]


def test_prompt_tokens_follow_the_chat_template(tiny) -> None:
    model, tokenizer = tiny
    [gen] = LocalGenerator(model, tokenizer).generate([REQUESTS[0]], GREEDY)
    text = tokenizer.apply_chat_template(list(REQUESTS[0].messages), tokenize=False, add_generation_prompt=True)
    assert text.endswith("<|im_start|>assistant\n")
    assert gen.prompt_tokens == len(tokenizer(text, add_special_tokens=False)["input_ids"])


def test_checkpoint_sampling_defaults_do_not_change_greedy(tiny) -> None:
    model, tokenizer = tiny
    clean = LocalGenerator(model, tokenizer).generate(REQUESTS, GREEDY)
    saved = model.generation_config
    try:
        model.generation_config = saved.__class__(**saved.to_dict())
        model.generation_config.update(do_sample=True, temperature=0.3, top_k=3, repetition_penalty=3.0)
        dirty = LocalGenerator(model, tokenizer).generate(REQUESTS, GREEDY)
        assert model.generation_config.repetition_penalty == 3.0  # restored after the call
    finally:
        model.generation_config = saved
    assert [g.texts for g in dirty] == [g.texts for g in clean]


def test_sampling_is_reproducible_with_a_seed_and_varies_without(tiny) -> None:
    model, tokenizer = tiny
    gen = LocalGenerator(model, tokenizer, batch_size=4)
    sampling = Sampling(n=3, temperature=1.0, max_new_tokens=12, seed=7)
    first = gen.generate(REQUESTS[:2], sampling)
    again = gen.generate(REQUESTS[:2], sampling)
    other = gen.generate(REQUESTS[:2], Sampling(n=3, temperature=1.0, max_new_tokens=12, seed=8))
    assert [g.texts for g in first] == [g.texts for g in again]
    assert [g.texts for g in first] != [g.texts for g in other]
    assert all(len(g.texts) == 3 and len(set(g.texts)) == 3 for g in first)  # n distinct samples
    # The global RNG of the caller (e.g. a training loop) is left as it was.
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    gen.generate(REQUESTS[:1], sampling)
    assert torch.equal(torch.rand(1), expected)


def test_n_larger_than_batch_size_keeps_samples_apart(tiny) -> None:
    model, tokenizer = tiny
    sampling = Sampling(n=5, temperature=1.0, max_new_tokens=10, seed=1)
    [gen] = LocalGenerator(model, tokenizer, batch_size=2).generate(REQUESTS[:1], sampling)
    assert len(gen.texts) == 5 and len(set(gen.texts)) == 5


def test_stop_string_truncates_and_stops_early(tiny) -> None:
    model, tokenizer = tiny
    gen = LocalGenerator(model, tokenizer, batch_size=4)
    full = gen.generate(REQUESTS, Sampling(max_new_tokens=40))
    # Pick an ASCII stretch from the middle of request 1's text as the stop string.
    text = full[1].text
    start = next(i for i in range(4, len(text) - 2) if text[i : i + 2].isascii() and text[i : i + 2].strip())
    stop = text[start : start + 2]
    stopped = gen.generate(REQUESTS, Sampling(max_new_tokens=40, stop=(stop,)))
    assert stopped[1].text == text[: text.index(stop)]
    assert stopped[1].finish_reasons == ["stop"]
    assert stopped[1].completion_tokens[0] < 40
    for before, after in zip(full, stopped, strict=True):
        assert stop not in after.text
        if stop not in before.text:  # rows the stop string never hit are untouched
            assert after.texts == before.texts and after.finish_reasons == before.finish_reasons


def test_eos_ends_a_row_with_finish_reason_stop(tiny) -> None:
    model, tokenizer = tiny
    [full] = LocalGenerator(model, tokenizer).generate([REQUESTS[1]], GREEDY)
    # Declare the 5th generated token an end-of-sequence token: the row must end right there.
    ids = tokenizer(REQUESTS[1].prompt)["input_ids"]
    out = model.generate(torch.tensor([ids]), max_new_tokens=5, do_sample=False, pad_token_id=0)
    fifth = int(out[0, -1])
    first_at = out[0, len(ids) :].tolist().index(fifth)
    [gen] = LocalGenerator(model, tokenizer, eos_token_ids=[fifth]).generate([REQUESTS[1]], GREEDY)
    assert gen.finish_reasons == ["stop"]
    assert gen.completion_tokens == [first_at + 1]
    assert full.text.startswith(gen.text)


def test_generation_keeps_training_state_and_tokenizer(tiny) -> None:
    model, tokenizer = tiny
    tokenizer.padding_side = "right"
    model.train()
    try:
        LocalGenerator(model, tokenizer).generate(REQUESTS[:2], GREEDY)
        assert model.training and tokenizer.padding_side == "right"
    finally:
        model.eval()


def test_progress_counts_every_request_once(tiny) -> None:
    model, tokenizer = tiny
    seen: list[int] = []
    LocalGenerator(model, tokenizer, batch_size=3).generate(
        REQUESTS, Sampling(n=2, temperature=1.0, max_new_tokens=4), progress=seen.append
    )
    assert sum(seen) == len(REQUESTS) and len(seen) >= 2


def test_too_long_prompt_is_refused_before_any_work(tiny) -> None:
    model, tokenizer = tiny
    with pytest.raises(ModelError, match="request 1: .* exceed the model's context of 512"):
        LocalGenerator(model, tokenizer).generate(
            [REQUESTS[0], Request.completion("x " * 600)], GREEDY
        )


def test_chat_request_without_template_is_explained(tiny) -> None:
    model, tokenizer = tiny
    template, tokenizer.chat_template = tokenizer.chat_template, None
    try:
        with pytest.raises(ModelError, match="no chat template"):
            LocalGenerator(model, tokenizer).generate([REQUESTS[0]], GREEDY)
    finally:
        tokenizer.chat_template = template


def test_folder_identity_tracks_weights_and_dtype(tiny_folder, tmp_path) -> None:
    fp32 = load_generator(str(tiny_folder), dtype="fp32", device="cpu")
    bf16 = load_generator(f"hf:{tiny_folder}", dtype="bf16", device="cpu")
    assert fp32.identity.startswith(f"hf:{tiny_folder.resolve()}@") and fp32.identity.endswith("/fp32")
    assert bf16.identity == fp32.identity.removesuffix("/fp32") + "/bf16"
    assert next(bf16.model.parameters()).dtype == torch.bfloat16
    assert fp32.generate(REQUESTS[:2], GREEDY)[0].text  # the loaded folder generates
    # The same files copied elsewhere: same content hash. Changed weights: a different one.
    copy = tmp_path / "copy"
    shutil.copytree(tiny_folder, copy)
    same = LocalGenerator.from_pretrained(copy, dtype="fp32", device="cpu")
    assert same.identity.split("@")[1] == fp32.identity.split("@")[1]
    with torch.no_grad():
        fp32.model.model.norm.weight.add_(1.0)
    fp32.model.save_pretrained(copy)
    changed = LocalGenerator.from_pretrained(copy, dtype="fp32", device="cpu")
    assert changed.identity.split("@")[1] != same.identity.split("@")[1]


def test_in_memory_identity_is_unique_unless_given(tiny) -> None:
    model, tokenizer = tiny
    a, b = LocalGenerator(model, tokenizer), LocalGenerator(model, tokenizer)
    assert a.identity != b.identity and a.identity.startswith("memory:")
    assert LocalGenerator(model, tokenizer, identity="student@step-10").identity == "student@step-10"


def test_bad_dtype_and_device_are_explained(tiny_folder) -> None:
    with pytest.raises(ModelError, match="unknown dtype 'fp8'"):
        load_generator(str(tiny_folder), dtype="fp8")
    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match="no CUDA GPU"):
            load_generator(str(tiny_folder), device="cuda")


def test_a_failure_part_way_keeps_the_finished_requests(tiny, monkeypatch) -> None:
    model, tokenizer = tiny
    real_generate, calls = model.generate, []

    def fail_on_second_batch(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("out of memory")
        return real_generate(*args, **kwargs)

    monkeypatch.setattr(model, "generate", fail_on_second_batch)
    with pytest.raises(GenerationFailed, match=r"RuntimeError: out of memory\); 2 of 4 requests") as info:
        LocalGenerator(model, tokenizer, batch_size=2).generate(REQUESTS, GREEDY)
    kept = [g is not None for g in info.value.partial]
    assert kept.count(True) == 2 and all(g.completion_tokens == [24] for g in info.value.partial if g)
    assert model.generation_config.eos_token_id == tokenizer.eos_token_id  # restored after the failure
