"""Logit distillation from a served teacher: a real HTTP server scores text with a tiny teacher model.

The teacher and the student have different vocabularies; the teacher is reached only through
OpenAI-style logprobs, as it would be behind vLLM or llama.cpp's server.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from codistill.cache import RequestCache
from codistill.config import KD
from codistill.train import TrainError, train_kd
from codistill.train.kd_served import uld_distance
from codistill.train.teacher_scores import PROBE_TEXT, Capability, ServedTeacher, _shift

from .conftest import kd_rows, kd_teacher
from .scoring_server import ScoringServer

SETTINGS = KD(lr=1e-2, epochs=6, batch_size=2, max_length=256, max_completion_length=48, top_k=8)


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return kd_rows()[0]


@pytest.fixture(scope="module")
def held_out() -> list[dict]:
    return kd_rows()[1]


@pytest.fixture(scope="module")
def teacher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model with its own vocabulary, trained on the correct answers until it is confident."""
    return kd_teacher(tmp_path_factory.mktemp("teacher"), epochs=20)


@pytest.fixture(scope="module")
def servers(teacher: Path):
    started = {offers: ScoringServer(teacher, offers).start() for offers in ("echo", "prompt_logprobs", "chat", "none")}
    yield started
    for server in started.values():
        server.close()


def test_probe_accepts_prompt_logprobs_in_either_form(servers, tmp_path: Path) -> None:
    cache = RequestCache(tmp_path / "cache.sqlite")
    for form in ("echo", "prompt_logprobs"):
        found = ServedTeacher(servers[form].spec, cache, top_k=8).probe()
        assert found == Capability(form, 8, 0)
    asked = servers["echo"].requests
    assert ServedTeacher(servers["echo"].spec, cache, top_k=8).probe().form == "echo"
    assert servers["echo"].requests == asked  # the probe's answer is cached too


def test_probe_refuses_an_endpoint_that_cannot_score_and_names_what_it_can_serve(servers, tmp_path: Path) -> None:
    cache = RequestCache(tmp_path / "cache.sqlite")
    with pytest.raises(TrainError, match="off-policy distillation of its own answers") as chat:
        ServedTeacher(servers["chat"].spec, cache).probe()
    assert "train.kd.enabled to false" in str(chat.value) and "vLLM" in str(chat.value)
    with pytest.raises(TrainError, match="returns no logprobs for given text") as none:
        ServedTeacher(servers["none"].spec, cache).probe()
    assert "sequence-level SFT" in str(none.value)
    with pytest.raises(TrainError, match="cannot connect"):
        ServedTeacher("openai:http://127.0.0.1:9/v1#t?max_retries=0", cache).probe()


def test_scores_are_the_teachers_own_distributions_in_both_forms(servers, rows, tmp_path: Path) -> None:
    server = servers["echo"]
    prompt, answer = "<|im_start|>user\nadd two numbers<|im_end|>\n<|im_start|>assistant\n", \
        rows[0]["completion"][0]["content"]
    ids, spans, logps = server.logprobs(prompt + answer)
    cache = RequestCache(tmp_path / "cache.sqlite")
    scored = {}
    for form in ("echo", "prompt_logprobs"):
        teacher = ServedTeacher(servers[form].spec, cache, top_k=8)
        [scored[form]] = teacher.score([(prompt, answer)], teacher.probe())
    for tokens in scored.values():
        assert "".join(t.text for t in tokens) == answer and tokens[0].offset == 0
        for token in tokens:  # each position's top-k is the model's own, for that very token
            i = next(j for j, (a, _) in enumerate(spans) if a == len(prompt) + token.offset)
            best = logps[i - 1].topk(8).values.tolist()
            assert [lp for _, lp in token.top] == pytest.approx(best, abs=1e-4)
            assert token.logprob == pytest.approx(float(logps[i - 1][ids[i]]), abs=1e-4)


def test_uld_distance_compares_sorted_probabilities_with_a_tail() -> None:
    same = uld_distance(torch.tensor([[0.1, 0.6, 0.3]]), torch.tensor([[0.6, 0.3]]))
    assert same.item() == pytest.approx(0.0, abs=1e-6)  # order of the vocabulary does not matter
    flat = uld_distance(torch.full((1, 10), 0.1), torch.tensor([[0.9, 0.05]]))
    assert flat.item() == pytest.approx(0.8 + 0.05 + 0.75)  # top-2 vs teacher, then the tails 0.8 vs 0.05
    # Hybrid: an alternative that is a student token is compared with that very token.
    student = torch.tensor([[0.1, 0.6, 0.3]])
    assert uld_distance(student, torch.tensor([[0.6, 0.3]]), torch.tensor([[1, -1]])).item() == pytest.approx(0, abs=1e-6)
    swapped = uld_distance(student, torch.tensor([[0.6, 0.3]]), torch.tensor([[2, -1]])).item()
    assert swapped > 0.4  # the sorted shapes agree, but the teacher's favourite is the student's token 2


def test_a_server_reporting_each_distribution_one_token_early_is_recognised() -> None:
    counting = ["1", ",", " ", "2", ",", " ", "3", ",", " ", "4", ",", " ", "5"]
    early = [[t, 0, None, [[after, -0.1], ["x", -3.0]]] for t, after in zip(counting, counting[1:], strict=False)]
    aligned = [[t, 0, None, [[t, -0.1], ["x", -3.0]]] for t in counting]
    assert _shift(early) == 1 and _shift(aligned) == 0


def test_distillation_from_served_scores_moves_the_student_toward_the_teacher(
        tiny_model_dir: Path, servers, rows, held_out, tmp_path: Path) -> None:
    server = servers["echo"]
    cache = tmp_path / "cache.sqlite"
    before_requests = server.requests
    result = train_kd(tiny_model_dir, server.spec, rows, tmp_path / "kd", SETTINGS, eval_rows=held_out,
                      cache=cache, device="cpu", progress=False)
    before, after = result.metrics["kd_eval_loss_before"], result.metrics["kd_eval_loss_after"]
    assert after < 0.7 * before, (before, after)  # on held-out answers the student never trained on
    losses = [h["loss"] for h in result.log_history if "loss" in h]
    assert losses[-1] < 0.7 * losses[0] and result.steps == 12  # 4 rows / batch 2 x 6 epochs
    assert result.metrics["kd_served_spans"] > 0.5 * result.metrics["kd_served_tokens"] > 0
    # probe, then one request per scored answer (4 training rows and 2 held-out ones)
    assert server.requests - before_requests == 1 + 6
    assert all(b.get("echo") and b["logprobs"] == 8 and b["max_tokens"] == 1 for b in server.bodies[-6:])

    # On held-out answers the student now favours the tokens the teacher favours.
    teacher = ServedTeacher(server.spec, RequestCache(cache), top_k=8)
    (agree_before, p_before), (agree_after, p_after) = (_agreement(model, held_out, teacher)
                                                        for model in (tiny_model_dir, result.model_dir))
    assert agree_before < 0.05 and agree_after > 0.25, (agree_before, agree_after)
    assert p_after > 5 * p_before, (p_before, p_after)

    # A second run (another folder, through `codistill train`'s path) asks the server nothing.
    from codistill.config import load_config
    from codistill.train.launch import train_rows

    asked = server.requests
    config = load_config(None, ["train.kd.enabled=true", "train.kd.epochs=1", "train.kd.batch_size=2",
                                "train.kd.max_length=256", "train.kd.max_completion_length=48", "train.kd.top_k=8",
                                "train.kd.lr=5e-3", f"cache={cache}"])
    again = train_rows(config, tiny_model_dir, rows, [], tmp_path / "again", device="cpu", teacher=server.spec,
                       progress=False)
    assert again["kd"].steps == 2 and not again["kd"].reused
    assert server.requests == asked
    reused = train_kd(tiny_model_dir, server.spec, rows, tmp_path / "kd", SETTINGS, eval_rows=held_out,
                      cache=cache, device="cpu", progress=False)
    assert reused.reused and reused.metrics["kd_served_spans"] == result.metrics["kd_served_spans"]
    assert server.requests == asked


def _agreement(model_dir: Path, rows: list[dict], teacher: ServedTeacher) -> tuple[float, float]:
    """Over the aligned answer positions where the teacher's favourite token is a student token: the
    share where it is the student's favourite too, and the student's mean probability for it."""
    from transformers import AutoModelForCausalLM

    from codistill.train.common import load_tokenizer
    from codistill.train.kd_served import served_examples

    tokenizer = load_tokenizer(model_dir)
    examples = served_examples(rows, tokenizer, teacher, teacher.probe(), SETTINGS, progress=False)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    agree, probability = [], []
    for ex in examples:
        with torch.no_grad():
            probs = torch.softmax(model(torch.tensor([ex["input_ids"]])).logits[0].float(), dim=-1)
        for position, ids in zip(ex["kd_positions"], ex["kd_ids"], strict=True):
            if ids[0] >= 0:
                agree.append(int(probs[position - 1].argmax()) == ids[0])
                probability.append(float(probs[position - 1, ids[0]]))
    assert len(agree) > 10
    return sum(agree) / len(agree), math.fsum(probability) / len(probability)


def test_on_policy_the_teacher_scores_the_students_own_answers(tiny_model_dir, servers, rows, held_out,
                                                                 tmp_path: Path) -> None:
    server = servers["echo"]
    settings = SETTINGS.model_copy(update={"on_policy": 1.0, "epochs": 2, "max_completion_length": 24})
    asked = len(server.bodies)
    result = train_kd(tiny_model_dir, server.spec, rows, tmp_path / "on", settings, eval_rows=held_out,
                      cache=tmp_path / "cache.sqlite", device="cpu", progress=False)
    assert any("on_policy_loss" in h for h in result.log_history)
    assert not any("off_policy_loss" in h for h in result.log_history)
    answers = {r["completion"][0]["content"] for r in rows + held_out}
    scored = [b["prompt"] for b in server.bodies[asked:] if b.get("echo") and b["prompt"] != PROBE_TEXT]
    own = [t for t in scored if not any(t.endswith(a) for a in answers)]
    assert len(own) == 4 * 2  # each step's two prompts, answered by the student, then scored
    assert result.metrics["kd_eval_loss_after"] < result.metrics["kd_eval_loss_before"]


def test_a_teacher_temperature_cannot_soften_a_served_teacher(tiny_model_dir, servers, rows, tmp_path: Path) -> None:
    with pytest.raises(TrainError, match="teacher_temperature"):
        train_kd(tiny_model_dir, servers["echo"].spec, rows, tmp_path / "x",
                 SETTINGS.model_copy(update={"teacher_temperature": 2.0}), cache=tmp_path / "c.sqlite",
                 device="cpu", progress=False)
    assert not (tmp_path / "x").exists()
