"""Code-A1 orchestration: the pure steps on literal rows, scripted rounds with resume, real GRPO on a tiny model."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import codistill.stages.coevolve_state as coevolve_state
from codistill.config import Coevolve, Eval, Models, RunConfig, Sandbox
from codistill.models.fake import FakeGenerator, prompt_text
from codistill.records import Problem
from codistill.stages.coevolve import coevolve
from codistill.stages.coevolve_state import (
    RoundState,
    after_code_phase,
    after_tests_phase,
    code_rows,
    pick_questions,
    shown_sample,
    step_curve,
    unusable_reason,
)
from codistill.stages.mistakes import MistakeBook
from codistill.train.common import TrainResult

REFERENCE = "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n"
CLAMP = Problem(id="clamp", question="Write clamp(x, lo, hi) that limits x to [lo, hi].", entry_point="clamp",
                reference=REFERENCE,
                tests="def check(candidate):\n    assert candidate(5, 0, 3) == 3\n    assert candidate(-1, 0, 3) == 0\n")
DOUBLE = Problem(id="double", question="Write double(x) returning 2 * x.", entry_point="double",
                 reference="def double(x):\n    return 2 * x\n",
                 tests="def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(0) == 0\n")
BADREF = Problem(id="badref", question="Write one() returning 1.", entry_point="one",
                 reference="def one():\n    return 2\n", tests="assert one() == 1\n")
JS = Problem(id="js", language="javascript", question="q", entry_point="f", reference="function f(){}",
             tests="assert(true)")
GOOD = f"```python\n{REFERENCE}```"
NO_UPPER = "```python\ndef clamp(x, lo, hi):\n    return max(lo, x)\n```"
GARBAGE = "I cannot help with that."
SETTINGS = Coevolve(steps=3, phase_steps=1, questions_per_step=2, group_size=2, tests_per_question=2,
                    mistake_book_k=2, blacklist_after=2, max_new_tokens=16)


def fence(*lines: str) -> str:
    return "```python\n" + "\n".join(lines) + "\n```"


# -- pure steps on literal rows -------------------------------------------------------------------

def test_unusable_questions_say_why() -> None:
    assert unusable_reason(CLAMP) == ""
    assert "Python assertion tests only" in unusable_reason(JS)
    assert "no reference" in unusable_reason(CLAMP.model_copy(update={"reference": None}))
    assert "no entry point" in unusable_reason(CLAMP.model_copy(update={"entry_point": None}))


def test_code_rows_carry_own_tests_pool_and_book_top_k() -> None:
    state = RoundState(code_model="c", test_model="t")
    state.pool["clamp"] = ["assert clamp(7, 0, 3) == 3", "assert clamp(5, 0, 3) == 3"]  # one repeats an own test
    state.book.update("clamp", [("assert clamp(9, 0, 3) == 3", True), ("assert clamp(7, 0, 3) == 3", True),
                                ("assert clamp(7, 0, 3) == 3", True), ("assert clamp(0, 1, 2) == 1", True)])
    [row] = code_rows([CLAMP], state, SETTINGS)
    assert row["question_id"] == "clamp" and row["prompt"][-1]["role"] == "user"
    assert row["tests"] == ["assert clamp(5, 0, 3) == 3", "assert clamp(-1, 0, 3) == 0",
                            "assert clamp(7, 0, 3) == 3", "assert clamp(9, 0, 3) == 3"]
    [row] = code_rows([CLAMP], state, SETTINGS.model_copy(update={"own_tests": False, "mistake_book_k": 0}))
    assert row["tests"] == state.pool["clamp"]


def test_tests_rows_show_the_best_imperfect_sample() -> None:
    state = RoundState(code_model="c", test_model="t")
    state.samples = {"clamp": [{"program": "A = 1", "reward": 0.0}, {"program": "B = 2", "reward": 0.5},
                               {"program": "C = 3", "reward": 1.0}, {"program": "D = 4", "reward": 0.5}]}
    [row] = coevolve_state.tests_rows([CLAMP, DOUBLE], state, SETTINGS)  # double has no samples: no row
    assert row["question_id"] == "clamp" and row["code_samples"] == ["A = 1", "B = 2", "C = 3", "D = 4"]
    text = row["prompt"][0]["content"]
    assert "B = 2" in text and "A = 1" not in text and "assert clamp(...)" in text and "Write 2 tests" in text
    assert shown_sample([{"program": "X", "reward": 1.0}, {"program": "Y", "reward": 1.0}]) == "X"
    assert shown_sample([]) == ""


def _code_record(step: int, q: str, tests: list[str], passed: list[bool], broken: list[bool],
                 reward: float, program: str = "p") -> dict[str, Any]:
    return {"step": step, "question_id": q, "tests": tests, "passed": passed, "broken": broken,
            "reward": reward, "program": program}


def test_after_code_phase_updates_book_samples_and_blacklist() -> None:
    state = RoundState(code_model="c", test_model="t")
    state.book.update("clamp", [("g1", True), ("g2", True)])
    own = "assert clamp(5, 0, 3) == 3"
    records = [
        _code_record(0, "clamp", [own, "g1", "g2"], [False, False, True], [True, True, False], 1 / 3, "p1"),
        _code_record(0, "clamp", [own, "g1", "g2"], [True, True, True], [False, False, False], 1.0, "p2"),
        _code_record(0, "double", ["assert double(2) == 4"], [False], [True], 0.0, "p3"),
        _code_record(0, "double", ["assert double(2) == 4"], [False], [True], 0.0, "p4"),
    ]
    settings = SETTINGS.model_copy(update={"blacklist_after": 1})
    banned = after_code_phase(state, records, [CLAMP, DOUBLE], settings)
    # g1 failed by one sample: +1; g2 passed by all: -1 (dropped); the own test gives no event.
    assert state.book.tests == {"clamp": {"g1": 2}}
    assert state.samples["clamp"] == [{"program": "p1", "reward": 1 / 3}, {"program": "p2", "reward": 1.0}]
    assert banned == ["double"] and state.book.banned("double")
    assert state.seen == {"clamp": 1, "double": 1} and state.book.misses == {}


def test_environment_trouble_gives_no_book_event() -> None:
    state = RoundState(code_model="c", test_model="t")
    state.book.update("clamp", [("g", True)])
    records = [_code_record(0, "clamp", ["g"], [True], [False], 1.0),
               _code_record(0, "clamp", ["g"], [False], [False], 0.0)]  # e.g. a missing module
    after_code_phase(state, records, [CLAMP], SETTINGS)
    assert state.book.tests == {"clamp": {"g": 1}}


def test_after_tests_phase_fills_pool_and_book() -> None:
    state = RoundState(code_model="c", test_model="t")
    state.book.update("clamp", [("known", True)])

    def test(text: str, valid: bool, broke: list[int], passed: int) -> dict[str, Any]:
        return {"test": text, "valid": valid, "broke": broke, "passed": passed}

    records = [
        {"step": 0, "question_id": "clamp", "samples": 3, "reward": 0.8,
         "tests": [test("weak", True, [0], 2), test("invalid", False, [], 0), test("strong", True, [0, 2], 1)]},
        {"step": 0, "question_id": "clamp", "samples": 3, "reward": 0.5,
         "tests": [test("known", True, [], 3), test("weak", True, [0], 2), test("third", True, [1], 2)]},
    ]
    after_tests_phase(state, records, SETTINGS)
    assert state.pool == {"clamp": ["strong", "weak"]}  # most samples broken first, at most 2
    assert state.book.tests == {"clamp": {"weak": 1, "strong": 1, "third": 1}}  # "known" passed: dropped


def test_pick_questions_prefers_the_least_seen() -> None:
    state = RoundState(code_model="c", test_model="t", seen={"clamp": 2, "double": 1})
    third = DOUBLE.model_copy(update={"id": "triple"})
    picked = pick_questions([CLAMP, DOUBLE, third], state, 2, seed=0)
    assert [p.id for p in picked] == ["triple", "double"]
    assert pick_questions([CLAMP, DOUBLE, third], state, 3, seed=5)[-1].id == "clamp"


def test_step_curve_averages_each_step_with_an_offset() -> None:
    records = [{"step": 1, "reward": 1.0}, {"step": 0, "reward": 0.0}, {"step": 1, "reward": 0.5},
               {"step": 0, "reward": 0.5}]
    assert step_curve(records, ["reward"], offset=4) == [{"step": 5, "reward": 0.25}, {"step": 6, "reward": 0.75}]


def test_round_state_round_trips(tmp_path) -> None:
    state = RoundState(code_model="c", test_model="t", round=2, phase="code", code_steps=4, seen={"q": 1},
                       pool={"q": ["a"]}, samples={"q": [{"program": "x", "reward": 0.5}]})
    state.book.update("q", [("a", True)])
    state.book.ban("z", "why")
    again = RoundState.load(state.save(tmp_path / "state.json"))
    assert again == state and isinstance(again.book, MistakeBook)


# -- scripted rounds: the real sandbox, the real store, scripted completions -----------------------

class ScriptedGRPO:
    """Calls the reward functions as GRPOTrainer does, with scripted completions per (round, phase, question)."""

    def __init__(self, answers: dict[tuple[int, str, str], list[str]]) -> None:
        self.answers = answers
        self.calls: list[tuple[int, str]] = []
        self.rows: dict[tuple[int, str], list[dict[str, Any]]] = {}
        self.sampled: list[int] = []  # rounds whose Code model was asked for live samples

    def __call__(self, model_path: Any, rows: list[dict[str, Any]], reward_funcs: list, output_dir: Path,
                 settings: Any, **kwargs: Any) -> TrainResult:
        kind, round_ = output_dir.parent.name, int(output_dir.parent.parent.name.split("-")[1])
        self.calls.append((round_, kind))
        self.rows[(round_, kind)] = rows
        per = settings.questions_per_step
        for step in range(settings.steps):
            completions, columns = [], {}
            for row in rows[step * per:(step + 1) * per]:
                texts = self.answers[(round_, kind, row["question_id"])]
                assert len(texts) == settings.group_size
                for text in texts:
                    completions.append([{"role": "assistant", "content": text}])
                    for key, value in row.items():
                        if key != "prompt":
                            columns.setdefault(key, []).append(value)
            for func in reward_funcs:
                func(prompts=[None] * len(completions), completions=completions,
                     trainer_state=SimpleNamespace(global_step=step), log_metric=lambda *a: None, **columns)
        model_dir = output_dir / "model"
        model_dir.mkdir(parents=True)
        (model_dir / "config.json").write_text("{}")
        return TrainResult(output_dir=output_dir, model_dir=model_dir, steps=settings.steps, train_loss=None,
                           kind="grpo")

    def sample(self, spec: str) -> FakeGenerator:
        """The Code model a code phase left (.../round-<r>/code/grpo/model), answering as scripted."""
        round_ = int(Path(spec).parts[-4].split("-")[1])
        self.sampled.append(round_)

        def reply(request: Any, sampling: Any, index: int) -> str:
            qid = next(q for q in ("clamp", "double") if f"{q}(" in prompt_text(request))
            return self.answers[(round_, "code", qid)][index]

        return FakeGenerator(reply, name=f"code-round-{round_}")


def scripted(answers: dict | None = None) -> dict[str, Any]:
    """coevolve() keyword arguments for a scripted trainer and the matching scripted Code model."""
    trainer = ScriptedGRPO(answers or ANSWERS)
    return {"trainer": trainer, "sampler": trainer.sample}


ANSWERS = {
    (1, "code", "clamp"): [NO_UPPER, GOOD],
    (1, "code", "double"): [GARBAGE, GARBAGE],
    (1, "tests", "clamp"): [fence("assert clamp(7, 0, 3) == 3", "assert clamp(2, 0, 3) == 2"), GARBAGE],
    (1, "tests", "double"): [fence("assert double(3) == 6"), fence("assert double(3) == 7")],
    (2, "code", "clamp"): [GOOD, NO_UPPER],
    (2, "code", "double"): [GARBAGE, GARBAGE],
    (2, "tests", "clamp"): [fence("assert clamp(9, 0, 3) == 3"), fence("assert clamp(1, 0, 3) == 1")],
    (2, "tests", "double"): [fence("assert double(1) == 2"), GARBAGE],
}


def _config(tmp_path: Path, model: Path, **coevolve: Any) -> RunConfig:
    return RunConfig(name="co", output_dir=tmp_path / "runs", models=Models(student=str(model)),
                     coevolve=SETTINGS.model_copy(update=coevolve), sandbox=Sandbox(workers=2),
                     eval=Eval(benchmarks=["humaneval"], limit=1, max_new_tokens=16))


def _records(root: Path, key: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (root / f"{key}.jsonl").read_text().splitlines()]


def _rewards(root: Path, key: str) -> dict[str, list[float]]:
    """Each question's rewards in a phase, in sample order."""
    out: dict[str, list[float]] = {}
    for r in _records(root, key):
        out.setdefault(r["question_id"], []).append(r["reward"])
    return out


def test_scripted_rounds_update_book_blacklist_stop_and_resume(tmp_path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text("{}")
    config = _config(tmp_path, base)
    trainer = ScriptedGRPO(ANSWERS)
    summary = coevolve(config, [CLAMP, DOUBLE, BADREF, JS], progress=False, evaluate=False, trainer=trainer,
                       sampler=trainer.sample)
    root = config.run_dir / "coevolve"

    check = {r["id"]: r for r in _records(root, "check")}
    assert [k for k, r in check.items() if r["usable"]] == ["clamp", "double"]
    assert "reference fails 1 of its own tests" in check["badref"]["reason"]

    assert trainer.calls == [(1, "code"), (1, "tests"), (2, "code"), (2, "tests")]
    assert trainer.sampled == [1, 2]  # each Test phase attacked the Code model its code phase left
    assert summary["stopped"].startswith("round 3: 1 questions left")  # double got blacklisted
    assert (summary["rounds"], summary["code_steps"], summary["test_steps"]) == (2, 2, 2)
    # Round 1: NO_UPPER passes 1 of 2 own tests, GOOD both; double's garbage nothing.
    assert _rewards(root, "round-1/code") == {"clamp": [0.5, 1.0], "double": [0.0, 0.0]}
    # Tests: (valid, attacks NO_UPPER: 1/2) -> 0.75; malformed -> 0; double(3)==6 breaks both -> 1; invalid -> 0.
    assert _rewards(root, "round-1/tests") == {"clamp": [0.75, 0.0], "double": [1.0, 0.0]}
    # Round 2's code rows replay the pool and the Mistake Book next to the own tests.
    clamp_row = next(r for r in trainer.rows[(2, "code")] if r["question_id"] == "clamp")
    assert clamp_row["tests"] == ["assert clamp(5, 0, 3) == 3", "assert clamp(-1, 0, 3) == 0",
                                  "assert clamp(7, 0, 3) == 3", "assert clamp(2, 0, 3) == 2"]
    assert _rewards(root, "round-2/code") == {"clamp": [1.0, 0.5], "double": [0.0, 0.0]}
    # White-box: round 2's clamp prompt shows the imperfect sample.
    clamp_tests_row = next(r for r in trainer.rows[(2, "tests")] if r["question_id"] == "clamp")
    assert "return max(lo, x)" in clamp_tests_row["prompt"][0]["content"]

    state = RoundState.load(root / "round-2/tests/state.json")
    assert state.book.tests == {"clamp": {"assert clamp(7, 0, 3) == 3": 2, "assert clamp(9, 0, 3) == 3": 1}}
    assert list(state.book.blacklist) == ["double"] and summary["blacklisted"] == 1
    assert state.pool["clamp"] == ["assert clamp(9, 0, 3) == 3", "assert clamp(1, 0, 3) == 1"]
    assert _rewards(root, "round-2/tests") == {"clamp": [0.75, 0.5], "double": [1.0, 0.0]}
    assert summary["code_reward"] == [0.375, 0.375] and summary["test_reward"] == [0.4375, 0.5625]
    assert summary["code_reward_by_round"] == [0.375, 0.375]  # one step a round here
    assert summary["validity_by_round"] == [0.5, 0.75] and summary["validity_mean"] == 0.625
    # Superseded model folders are pruned; the latest of each role stays.
    assert not (root / "round-1/code/grpo/model").exists() and (root / "round-2/code/grpo/model").exists()
    assert summary["code_model"] == str(root / "round-2/code/grpo/model")
    report = Path(summary["report"]).read_text()
    assert "Code-A1" in report and "0.375 &rarr; 0.375" in report
    assert "<th>parseable</th>" in report  # the per-step table: round 1's tests, 3 of 4 answers parsed
    assert "<td>1</td><td>0.375</td><td>0.438</td><td>0.500</td><td>0.750</td>" in report
    assert {r["question_id"]: r["parsed"] for r in _records(root, "round-1/tests") if not r["parsed"]} == {
        "clamp": False}
    assert {p.name for p in (root / "plots").iterdir()} == {"rewards.png", "attack_validity.png",
                                                            "mistake_book.png"}

    # A rerun finds every phase done and trains nothing.
    again = ScriptedGRPO(ANSWERS)
    assert coevolve(config, [CLAMP, DOUBLE, BADREF, JS], progress=False, evaluate=False,
                    trainer=again, sampler=again.sample)["code_reward"] == summary["code_reward"]
    assert again.calls == []

    # A run killed during round 2's Test phase redoes that phase only, from the saved state.
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["stages"]["round-2/tests"]["status"] = "running"
    (root / "manifest.json").write_text(json.dumps(manifest))
    (root / "round-2/tests/grpo/checkpoint-1").mkdir()
    resumed = ScriptedGRPO(ANSWERS)
    coevolve(config, [CLAMP, DOUBLE, BADREF, JS], progress=False, evaluate=False, trainer=resumed,
             sampler=resumed.sample)
    assert resumed.calls == [(2, "tests")]
    assert RoundState.load(root / "round-2/tests/state.json") == state


def test_the_test_phase_attacks_the_live_code_model_not_the_rollouts(tmp_path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text("{}")
    trainer = ScriptedGRPO(ANSWERS)
    # After round 1's code phase the Code model answers clamp correctly every time, although
    # one of that phase's rollouts (NO_UPPER) was wrong.
    live = {**ANSWERS, (1, "code", "clamp"): [GOOD, GOOD]}

    def sampler(spec: str) -> FakeGenerator:
        return ScriptedGRPO(live).sample(spec)

    coevolve(_config(tmp_path, base, steps=1), [CLAMP, DOUBLE], progress=False, evaluate=False,
             trainer=trainer, sampler=sampler)
    root = tmp_path / "runs/co/coevolve"
    row = next(r for r in trainer.rows[(1, "tests")] if r["question_id"] == "clamp")
    assert row["code_samples"] == [row["code_samples"][0]] * 2 and "min(x, hi)" in row["code_samples"][0]
    # The valid test that broke NO_UPPER breaks nothing live: attack 0, reward 0.5 * validity.
    assert _rewards(root, "round-1/tests")["clamp"] == [0.5, 0.0]
    assert _rewards(root, "round-1/code")["clamp"] == [0.5, 1.0]  # the rollouts are unchanged


def test_changed_settings_are_refused_without_force(tmp_path) -> None:
    from codistill.store import StaleStageError

    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text("{}")
    coevolve(_config(tmp_path, base, steps=1), [CLAMP, DOUBLE], progress=False, evaluate=False,
             **scripted())
    with pytest.raises(StaleStageError, match="coevolve.alpha"):
        coevolve(_config(tmp_path, base, steps=1, alpha=0.9), [CLAMP, DOUBLE], progress=False,
                 evaluate=False, **scripted())
    forced = ScriptedGRPO(ANSWERS)
    coevolve(_config(tmp_path, base, steps=1, alpha=0.9), [CLAMP, DOUBLE], progress=False, evaluate=False,
             trainer=forced, sampler=forced.sample, force=True)
    assert forced.calls == [(1, "code"), (1, "tests")]


# -- real GRPO on a tiny model built here ---------------------------------------------------------

@pytest.fixture
def one_thread() -> Any:
    """One torch thread: a 32-wide model gains nothing from more, and a busy CPU makes them spin."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_grpo_rounds_on_a_tiny_model_then_evaluate(tmp_path, one_thread) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.tiny import tiny_model_and_tokenizer

    tiny_model_and_tokenizer(tmp_path)
    config = _config(tmp_path, tmp_path / "tiny-model", steps=2, questions_per_step=1, blacklist_after=0,
                     max_new_tokens=16)
    summary = coevolve(config, [CLAMP, DOUBLE], progress=False, evaluate=True)
    root = config.run_dir / "coevolve"
    assert (summary["rounds"], summary["code_steps"], summary["test_steps"]) == (2, 2, 2)
    # A random tiny model writes no parseable test: the malformed path gives reward 0.
    tests = _records(root, "round-1/tests") + _records(root, "round-2/tests")
    assert len(tests) == 4 and all(r["tests"] == [] and r["reward"] == 0.0 for r in tests)
    assert all(0.0 <= r["reward"] <= 1.0 for r in _records(root, "round-1/code"))
    assert (root / "round-2/code/grpo/model/config.json").is_file()
    assert (root / "round-2/tests/grpo/model/config.json").is_file()
    assert not (root / "round-1/tests/grpo/model").exists()
    assert set(summary["pass_at_1"]) == {"before", "after"}
    assert summary["pass_at_1"]["after"]["humaneval"] == 0.0
    assert (root / "plots/pass1.png").is_file()


# -- the command ------------------------------------------------------------------------------------

def _yaml(tmp_path: Path, **extra: Any) -> Path:
    import yaml

    path = tmp_path / "co.yaml"
    path.write_text(yaml.safe_dump({"name": "co", "output_dir": str(tmp_path / "runs"), **extra}))
    return path


def test_command_reports_and_explains_what_is_wrong(tmp_path, capsys) -> None:
    from codistill.cli import main

    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text("{}")
    coevolve(_config(tmp_path, base, steps=1), [CLAMP, DOUBLE], progress=False, evaluate=False,
             **scripted())
    assert main(["coevolve", "--config", str(_yaml(tmp_path)), "--report-only"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "runs/co/coevolve/report.html")

    other = tmp_path / "other"
    other.mkdir()
    assert main(["coevolve", "--config", str(_yaml(other)), "--report-only"]) == 2
    assert "run `codistill coevolve --config ...` first" in capsys.readouterr().err

    problems = tmp_path / "js.jsonl"
    problems.write_text(JS.to_json() + "\n")
    config = _yaml(other, data={"seeds": [str(problems)], "languages": ["javascript"]},
                   models={"student": str(base)})
    assert main(["coevolve", "--config", str(config), "--no-eval", "--no-progress"]) == 2
    assert "no question can take part in co-evolution (language javascript" in capsys.readouterr().err
