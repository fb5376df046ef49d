"""evaluate_model and score_samples end to end: scripted models, the real sandbox, resume."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from rich.console import Console

from codistill.evaluate import (
    EvalError,
    evaluate_model,
    evaluate_pass_at_k,
    load_benchmark,
    score_samples,
)
from codistill.evaluate.compare import compare_results
from codistill.evaluate.results import EvalResult, results_table
from codistill.evaluate.runner import SAMPLES_FILE
from codistill.models.base import Generation, GenerationFailed, Request, Sampling
from codistill.models.fake import FakeGenerator, prompt_text
from codistill.records import Problem, Sample
from codistill.sandbox import Limits

HUMANEVAL = load_benchmark("humaneval")
FIRST = HUMANEVAL[:8]


def body(problem: Problem) -> str:
    return problem.reference[len(problem.prompt):]


def fenced_solution(problem: Problem) -> str:
    """A chat answer: prose, then the prompt's function with its canonical body, in a fence."""
    return f"Here you go:\n```python\n{problem.reference.strip()}\n```\nHope it helps."


def task_of(request: Request, problems: Sequence[Problem]) -> Problem:
    text = prompt_text(request)
    return next(p for p in problems if f"def {p.entry_point}(" in text)


def replies(problems: Sequence[Problem], wrong: frozenset[str] = frozenset()):
    """A script answering each task with its canonical solution, or a wrong one for `wrong`."""
    def reply(request: Request, sampling: Sampling, index: int) -> str:
        p = task_of(request, problems)
        if p.id in wrong:
            return f"```python\ndef {p.entry_point}(*args):\n    return None\n```"
        return fenced_solution(p)
    return reply


def scripted(problems: Sequence[Problem], wrong: frozenset[str] = frozenset(),
             name: str = "scripted") -> FakeGenerator:
    return FakeGenerator(replies(problems, wrong), name=name)


def test_greedy_chat_evaluation_scores_and_saves(tmp_path: Path) -> None:
    wrong = frozenset({"HumanEval/1", "HumanEval/5"})
    result = evaluate_model(scripted(FIRST, wrong), FIRST, out_dir=tmp_path, progress=False)
    assert result.n == 1 and result.mode == "chat" and result.temperature == 0.0
    assert result.pass_at_k == {"pass@1": pytest.approx(6 / 8)}  # k <= n only
    assert [t.task_id for t in result.per_task] == [p.id for p in FIRST]
    assert {t.task_id for t in result.per_task if t.correct == 0} == wrong
    assert result.status_counts == {"failed": 2, "passed": 6}
    assert result.generation_tokens > 0
    saved = [json.loads(line) for line in (tmp_path / SAMPLES_FILE).read_text().splitlines()]
    assert len(saved) == 8 and all(s["status"] for s in saved)
    first = next(s for s in saved if s["task_id"] == "HumanEval/0")
    assert first["raw"].startswith("Here you go") and "def has_close_elements" in first["program"]
    assert json.loads((tmp_path / "results.json").read_text())["pass_at_k"]["pass@1"] == 0.75


def test_sampled_evaluation_reports_pass_at_k_up_to_n(tmp_path: Path) -> None:
    problems = FIRST[:3]

    def reply(request: Request, sampling: Sampling, index: int) -> str:
        p = task_of(request, problems)
        good = {"HumanEval/0": 4, "HumanEval/1": 1, "HumanEval/2": 0}[p.id]  # correct samples
        return fenced_solution(p) if index < good else "```python\nraise SystemExit(3)\n```"

    result = evaluate_model(FakeGenerator(reply, name="sampled"), problems, out_dir=tmp_path,
                            n=4, temperature=0.2, top_p=0.95, ks=(1, 2, 10), progress=False)
    assert result.temperature == 0.2 and result.top_p == 0.95
    assert [t.correct for t in result.per_task] == [4, 1, 0]
    assert set(result.pass_at_k) == {"pass@1", "pass@2"}
    assert result.pass_at_k["pass@1"] == pytest.approx((1 + 0.25 + 0) / 3)
    assert result.pass_at_k["pass@2"] == pytest.approx((1 + 0.5 + 0) / 3)


def test_pass_at_1_greedy_and_pass_at_k_sampled_in_one_evaluation(tmp_path: Path) -> None:
    problems = FIRST[:3]

    def reply(request: Request, sampling: Sampling, index: int) -> str:
        p = task_of(request, problems)
        if sampling.temperature == 0:
            good = p.id != "HumanEval/2"
        else:
            good = index < {"HumanEval/0": 4, "HumanEval/1": 1, "HumanEval/2": 2}[p.id]
        return fenced_solution(p) if good else "```python\nraise SystemExit(3)\n```"

    result = evaluate_pass_at_k(FakeGenerator(reply, name="protocol"), problems, out_dir=tmp_path,
                                n=4, temperature=0.2, top_p=0.95, ks=(1, 2, 10), progress=False)
    # pass@1 from the greedy answers; pass@2 from the 4 samples (1, 1 - 3/6, 1 - 1/6 per task)
    assert result.pass_at_k == {"pass@1": pytest.approx(2 / 3), "pass@2": pytest.approx((1 + 0.5 + 5 / 6) / 3)}
    assert result.n == 1 and [t.correct for t in result.per_task] == [1, 1, 0]
    assert result.sampled["n"] == 4 and result.sampled["temperature"] == 0.2
    assert result.sampled["pass_at_k"]["pass@1"] == pytest.approx((1 + 0.25 + 0.5) / 3)
    assert EvalResult.load(tmp_path).pass_at_k == result.pass_at_k  # saved merged
    assert EvalResult.load(result.sampled["results"]).n == 4
    greedy_only = evaluate_pass_at_k(FakeGenerator(reply, name="protocol"), problems,
                                     out_dir=tmp_path / "g", n=1, progress=False)
    assert greedy_only.sampled is None and set(greedy_only.pass_at_k) == {"pass@1"}
    same = compare_results(result.sampled["results"], result.sampled["results"], k=2)
    assert same.k == 2 and same.pass1_a == pytest.approx(result.pass_at_k["pass@2"])
    with pytest.raises(ValueError, match="pass@10 needs at least 10 samples"):
        compare_results(result.sampled["results"], result.sampled["results"], k=10)


def test_completion_mode_continues_the_prompt_and_cuts_at_stops(tmp_path: Path) -> None:
    problems = FIRST[:3]

    def reply(request: Request, sampling: Sampling, index: int) -> str:
        assert request.prompt is not None  # a plain completion request, no chat template
        p = next(p for p in problems if request.prompt == p.prompt)
        return body(p) + "\n\ndef unrelated():\n    raise RuntimeError('should be cut')\n"

    base = FakeGenerator(reply, name="base")
    result = evaluate_model(base, problems, out_dir=tmp_path, mode="completion", progress=False)
    assert result.mode == "completion" and result.pass1 == 1.0
    assert {"\ndef", "\nclass", "\nif", "\nprint", "\n#"} <= set(base.calls[0].sampling.stop)
    sample = json.loads((tmp_path / SAMPLES_FILE).read_text().splitlines()[0])
    assert "unrelated" not in sample["program"]
    assert sample["program"] == problems[0].prompt + sample["completion"]


class FailingAfter(FakeGenerator):
    """Serves `limit` requests, then fails mid-batch the way a dying model server does."""

    def __init__(self, script, limit: int, name: str) -> None:
        super().__init__(script, name=name)
        self.limit, self.served = limit, 0

    def generate(self, requests, sampling, progress=None) -> list[Generation]:
        done: list[Generation | None] = []
        for request in requests:
            if self.served >= self.limit:
                raise GenerationFailed("connection lost", done + [None] * (len(requests) - len(done)))
            done += super().generate([request], sampling, progress)
            self.served += 1
        return done


def test_interrupted_evaluation_resumes_without_repeating_generation(tmp_path: Path) -> None:
    problems = HUMANEVAL[:10]
    reply = replies(problems, wrong=frozenset({"HumanEval/3"}))
    first = FailingAfter(reply, limit=6, name="flaky")
    with pytest.raises(GenerationFailed):
        evaluate_model(first, problems, out_dir=tmp_path, chunk_size=4, progress=False)
    generated_before = {task_of(r, problems).id for r in first.requests[:6]}
    assert len(generated_before) == 6
    assert len((tmp_path / SAMPLES_FILE).read_text().splitlines()) == 6  # finished work was kept

    second = FakeGenerator(reply, name="flaky")  # same identity, fresh process
    result = evaluate_model(second, problems, out_dir=tmp_path, chunk_size=4, progress=False)
    asked_again = {task_of(r, problems).id for r in second.requests}
    assert asked_again.isdisjoint(generated_before)
    assert len(second.requests) == 4
    assert result.tasks == 10 and result.pass1 == pytest.approx(0.9)

    third = FakeGenerator(reply, name="flaky")
    again = evaluate_model(third, problems, out_dir=tmp_path, chunk_size=4, progress=False)
    assert third.requests == [] and again.pass_at_k == result.pass_at_k


def test_rerun_after_losing_samples_uses_the_request_cache(tmp_path: Path) -> None:
    problems = FIRST[:3]
    gen = scripted(problems, name="cached")
    evaluate_model(gen, problems, out_dir=tmp_path / "a", progress=False)
    again = scripted(problems, name="cached")
    result = evaluate_model(again, problems, out_dir=tmp_path / "b", progress=False)
    assert again.requests == [] and result.pass1 == 1.0


def test_settings_change_in_the_same_folder_is_refused(tmp_path: Path) -> None:
    problems = FIRST[:2]
    evaluate_model(scripted(problems), problems, out_dir=tmp_path, progress=False)
    with pytest.raises(EvalError, match="other settings.*max_new_tokens: 512 -> 100"):
        evaluate_model(scripted(problems), problems, out_dir=tmp_path, max_new_tokens=100,
                       progress=False)


def test_judge_scores_first_samples_and_counts_unparsed(tmp_path: Path) -> None:
    problems = FIRST[:3]
    judge = FakeGenerator({"has_close_elements": "Score: 5/6", "separate_paren_groups": "no idea"},
                          default='{"score": 3}', name="judge")
    result = evaluate_model(scripted(problems), problems, out_dir=tmp_path, judge=judge,
                            progress=False)
    assert [t.judge_score for t in result.per_task] == [5.0, None, 3.0]
    assert result.judge["scored"] == 2 and result.judge["unparsed"] == 1
    assert result.judge["mean"] == pytest.approx(4.0)
    assert len((tmp_path / "judgments.jsonl").read_text().splitlines()) == 3


def test_score_samples_names_unknown_tasks() -> None:
    samples = [Sample(task_id="HumanEval/0", completion=body(HUMANEVAL[0])),
               Sample(task_id="HumanEval/999", completion="x"),
               Sample(task_id="Other/1", completion="x")]
    with pytest.raises(EvalError, match="2 task id.*not in humaneval: HumanEval/999, Other/1"):
        score_samples("humaneval", samples)


def test_results_say_when_programs_ran_without_namespaces(tmp_path: Path) -> None:
    isolated = evaluate_model(scripted(FIRST[:2]), FIRST[:2], out_dir=tmp_path / "ns", progress=False)
    plain = evaluate_model(scripted(FIRST[:2]), FIRST[:2], out_dir=tmp_path / "none", progress=False,
                           limits=Limits(isolation="none"))
    assert isolated.unisolated == 0 and plain.unisolated == 2 and plain.pass1 == isolated.pass1 == 1.0
    saved = [json.loads(line) for line in (tmp_path / "none" / SAMPLES_FILE).read_text().splitlines()]
    assert all(s["unisolated"] for s in saved)
    assert EvalResult.load(tmp_path / "none").unisolated == 2
    console = Console(record=True, width=200)
    console.print(results_table([plain]))
    assert "UNISOLATED:2" in console.export_text()
