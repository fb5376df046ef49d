"""Code-A1: a Code model and a Test model co-evolved by GRPO, alternating, with a Mistake Book.

runs/<name>/coevolve/
  manifest.json            stages, their config fingerprints and stats (reward curves included)
  check.jsonl              which questions take part, and why the others do not
  round-<r>/code.jsonl     the Code phase's reward records: program, tests, pass/fail per test
  round-<r>/code/          grpo/ (the trainer's folder; grpo/model is the new Code model), state.json
  round-<r>/tests.jsonl    the Test phase's reward records: tests, validity, samples each test broke
  round-<r>/tests/         grpo/, state.json (round state: Mistake Book, test pool, samples, models)
  eval/before/, eval/after/  the Code model on the benchmarks, before and after
  report.html, plots/
A round is a Code phase then a Test phase; each continues from the previous model folder of its
role. The state after every phase is saved with it, so a killed run resumes from the last finished
phase (an unfinished phase is redone from its start). docs/coevolve.md explains the rules.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from codistill.config import RunConfig, dump_config
from codistill.errors import UserError
from codistill.models.base import Generator
from codistill.records import Problem
from codistill.roles import open_cache, role_generator, trainable_path
from codistill.stages.coevolve_state import (
    RoundState,
    after_code_phase,
    after_tests_phase,
    code_rows,
    own_tests,
    pick_questions,
    step_curve,
    tests_rows,
    unusable_reason,
)
from codistill.stages.context import StageContext
from codistill.stages.stats import CheckStats, EvalStats, PhaseStats, stats_of
from codistill.store import RunStore
from codistill.train.rewards import TestRunner, bind, code_reward, test_reward

if TYPE_CHECKING:
    from codistill.train.common import TrainResult

STATE = "state.json"


class CoevolveError(UserError, RuntimeError):
    """Co-evolution cannot start or go on; the message says what to change."""


def _problems_hash(problems: list[Problem]) -> str:
    blob = json.dumps([p.model_dump(mode="json") for p in problems], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _use_vllm(setting: bool | None) -> bool:
    if setting is not None:
        return setting
    import torch

    return torch.cuda.is_available() and importlib.util.find_spec("vllm") is not None


class Coevolution:
    """One co-evolution run over a run folder; `run()` does (or resumes) all of it."""

    def __init__(self, config: RunConfig, problems: list[Problem], *, force: bool = False,
                 progress: bool = True, evaluate: bool = True, console: Console | None = None,
                 trainer: Callable[..., TrainResult] | None = None,
                 sampler: Callable[[str], Generator] | None = None) -> None:
        self.config = config
        self.trainer = trainer  # train_grpo unless given (tests script one to drive the rewards)
        # A model spec as a generator: the teacher writing questions, the Code model's live samples
        # for the Test phase (tests script one).
        self.sampler = sampler or (lambda spec: role_generator(spec, config, open_cache(config)))
        self.cfg = config.coevolve
        self.problems = {p.id: p for p in problems}
        if len(self.problems) != len(problems):
            raise CoevolveError("question ids repeat; give each question a distinct id")
        self.progress = progress
        self.evaluate = evaluate
        self.console = console or Console(stderr=True, quiet=not progress)
        self.root = config.run_dir / "coevolve"
        self.store = RunStore(self.root, config=dump_config(config), force=force)
        m = config.models
        self.code_spec, self.test_spec = m.student, m.test_model or m.student
        self.runner = TestRunner(config.sandbox.limits(self.cfg.test_timeout_s),
                                 workers=config.sandbox.workers)
        self.depends = {"coevolve": self.cfg.model_dump(mode="json"), "code_model": self.code_spec,
                        "test_model": self.test_spec, "seed": config.seed, "problems": _problems_hash(problems),
                        "lora": config.train.lora.model_dump(mode="json")}

    # -- stages ---------------------------------------------------------------------------------

    def synth_questions(self) -> list[Problem]:
        """Teacher-written questions (data.seeds 'synth' / 'grounded'), each with the teacher's agreed answer as
        its reference; the same resumable writing, screening and settling as `codistill run`'s."""
        data, m = self.config.data, self.config.models
        if not {"synth", "grounded"} & set(data.seeds):
            return []
        from codistill.sandbox.languages.python import python_header
        from codistill.stages.evolve import benchmark_index
        from codistill.stages.questions import (
            grow_sources,
            question_slots,
            question_stats,
            verified,
            writer_sampling,
        )

        g = data.synth_generation
        # Named only when used, so runs made before grounded questions keep their fingerprints.
        grounded = ({"grounded_questions": data.grounded_questions, "grounded_from": data.grounded_from}
                    if "grounded" in data.seeds else {})
        stage = self.store.stage("questions", depends={
            "teacher": m.teacher, "dtype": m.dtype, "synth_questions": data.synth_questions,
            "synth_generation": g.model_dump(mode="json"), "seed": self.config.seed,
            "decontaminate_against": list(data.decontaminate_against), **grounded})
        if not stage.done:
            started = time.perf_counter()
            index = benchmark_index(benchmarks=tuple(data.decontaminate_against))
            self.console.print(index.describe(), highlight=False)
            if data.require_decontamination and index.skipped:
                raise CoevolveError(f"data.require_decontamination is on but {', '.join(index.skipped)} "
                                    "could not be loaded; make them available or turn the option off")
            total = question_slots(data)
            written = [len(stage.rows())]

            def advance(n: int) -> None:
                written[0] += n
                self.console.print(f"  questions: {written[0]}/{total} slots written")

            self.console.print(f"[cyan]the teacher writes {total - written[0]} question slots")
            teacher = self.sampler(m.teacher)
            try:
                with stage.appender() as out:
                    ctx = StageContext.resuming(stage, "slot_id", limits=self.config.sandbox.limits(),
                                                seed=self.config.seed, workers=self.config.sandbox.workers,
                                                out=out, progress=advance)
                    grow_sources(teacher, data, writer_sampling(g.temperature, g.top_p, g.max_new_tokens,
                                                                self.config.seed),
                                 ctx, decontaminator=index)
            finally:
                teacher.close()
            stats = question_stats(stage.rows())  # earlier attempts' rows count too
            stage.finish(stats.model_copy(update={"seconds": round(time.perf_counter() - started, 2)}))
        # The reference is the answer two independent solutions agreed with, run as the sandbox ran it.
        return [p.model_copy(update={"reference": python_header(p.prompt, p.entry_point) + answer})
                for p, answer in verified(stage.rows())]

    def check(self) -> list[Problem]:
        """The questions that take part: Python, with a reference that passes its own tests."""
        if synth := self.synth_questions():
            self.problems.update((p.id, p) for p in synth if p.id not in self.problems)
            self.depends["problems"] = _problems_hash(list(self.problems.values()))
        units = hashlib.sha256(json.dumps([own_tests(p) for p in self.problems.values()]).encode()).hexdigest()
        stage = self.store.stage("check", depends={"problems": self.depends["problems"], "units": units[:16],
                                                   "test_timeout_s": self.cfg.test_timeout_s})
        if not stage.done:
            stage.delete_files()
            candidates = [p for p in self.problems.values() if not unusable_reason(p)]
            jobs = [(p.reference or "", p.entry_point, t) for p in candidates for t in own_tests(p)]
            outcomes = iter(self.runner.run(jobs))
            failing = {p.id: [t for t in own_tests(p) if not next(outcomes).passed] for p in candidates}
            with stage.appender() as out:
                for p in self.problems.values():
                    reason = unusable_reason(p) or (
                        f"its reference fails {len(failing[p.id])} of its own tests, e.g. {failing[p.id][0]}"
                        if failing[p.id] else "")
                    out.write({"id": p.id, "usable": not reason, "reason": reason})
            rows = stage.rows()
            stage.finish(CheckStats(questions=len(rows), usable=sum(r["usable"] for r in rows)))
        usable = [self.problems[r["id"]] for r in stage.rows() if r["usable"] and r["id"] in self.problems]
        if not usable:
            reasons = {r["reason"].split(":")[0] for r in stage.rows() if not r["usable"]}
            raise CoevolveError("no question can take part in co-evolution (" + "; ".join(sorted(reasons)) +
                                "); give Python questions with an entry point, a reference and tests, "
                                "e.g. data.seeds: [bank] with data.languages: [python]")
        return usable

    def _phase(self, round_: int, kind: str, state: RoundState, questions: list[Problem],
               steps: int) -> RoundState:
        """One GRPO phase of the Code (kind 'code') or Test ('tests') model; returns the new state."""
        from codistill.train import GRPOSettings, train_grpo

        train = self.trainer or train_grpo
        stage = self.store.stage(f"round-{round_}/{kind}", depends=self.depends)
        if stage.done:
            return RoundState.load(stage.dir / STATE)
        stage.delete_files()  # a phase cut short is redone from its start
        started = time.perf_counter()
        records: list[dict[str, Any]] = []
        common = {"problems": self.problems, "runner": self.runner, "record": records.append}
        if kind == "code":
            rows = code_rows(questions, state, self.cfg)
            reward = bind(code_reward, **common)
            model, offset, keys = state.code_model, state.code_steps, ("reward",)
        else:
            # Code-A1's white-box Test model sees, and is rewarded for breaking, the current Code
            # model's code: fresh samples of the model the Code phase just left, not its rollouts.
            state = RoundState.from_dict(state.to_dict())
            state.samples = self._live_samples(round_, state, questions)
            rows = tests_rows(questions, state, self.cfg)
            reward = bind(test_reward, alpha=self.cfg.alpha, max_tests=self.cfg.tests_per_question, **common)
            model, offset, keys = state.test_model, state.test_steps, ("reward", "validity", "attack_rate", "parsed")
        if not rows:
            raise CoevolveError(f"round {round_}: the {kind} phase has no rows (no code samples were "
                                "recorded in the code phase); delete the round's folders and rerun")
        temperature = self.cfg.temperature
        if kind == "tests" and self.cfg.test_temperature is not None:
            temperature = self.cfg.test_temperature
        settings = GRPOSettings.from_coevolve(self.cfg, steps=steps, use_vllm=_use_vllm(self.cfg.use_vllm),
                                              questions_per_step=min(self.cfg.questions_per_step, len(rows)),
                                              temperature=temperature, top_p=self.cfg.top_p)
        self.console.print(f"[cyan]round {round_}: {kind} phase, {steps} GRPO steps on {len(rows)} questions")
        # A phase is the unit of resume (an unfinished one is redone), so Trainer checkpoints
        # (weights + optimizer, 1.6 GB for 135M) would only cost time. GRPO holds G long sequences
        # per prompt: without activation checkpointing one CPU step of the 135M student (G=4, 2
        # prompts, 384 tokens) passed 14.8 GB of RAM and was killed; with it the peak was 8.6 GB.
        trl_args = {"save_strategy": "no", "activation_checkpointing": True}
        result = train(model, rows, [reward], stage.dir / "grpo", settings, seed=self.config.seed + round_,
                       device=self.config.models.device, progress=self.progress, lora=self.config.train.lora,
                       trl_args=trl_args)
        new = RoundState.from_dict(state.to_dict())
        new.round, new.phase = round_, kind
        banned: list[str] = []
        if kind == "code":
            banned = after_code_phase(new, records, questions, self.cfg)
            new.code_model, new.code_steps = str(result.model_dir), state.code_steps + result.steps
        else:
            after_tests_phase(new, records, self.cfg)
            new.test_model, new.test_steps = str(result.model_dir), state.test_steps + result.steps
        with stage.appender() as out:
            out.write_all(records)
        new.save(stage.dir / STATE)
        curve = step_curve(records, keys, offset)
        stage.finish(PhaseStats(seconds=round(time.perf_counter() - started, 2), steps=result.steps,
                                questions=len(rows), curve=curve, book_size=new.book.size(),
                                blacklisted=len(new.book.blacklist), newly_blacklisted=banned,
                                programs_run=self.runner.programs_run), model=result.model_dir)
        self._prune(state, new, kind)
        last = curve[-1] if curve else {}
        self.console.print(f"  {kind} reward {curve[0]['reward'] if curve else '-'} -> {last.get('reward', '-')}; "
                           f"Mistake Book {new.book.size()} tests; {len(new.book.blacklist)} blacklisted")
        return new

    def _live_samples(self, round_: int, state: RoundState,
                      questions: list[Problem]) -> dict[str, list[dict[str, Any]]]:
        """`group_size` answers of the current Code model per question, each scored (pass rate) on
        the tests its Code phase used: the programs the Test phase shows and attacks."""
        from codistill.models.base import Request, Sampling

        rows = code_rows(questions, state, self.cfg)
        sampling = Sampling(n=self.cfg.group_size, temperature=self.cfg.temperature, top_p=self.cfg.top_p,
                            max_new_tokens=self.cfg.max_new_tokens, seed=self.config.seed + round_)
        model = self.sampler(state.code_model)
        try:
            gens = model.generate([Request(messages=tuple(dict(m) for m in row["prompt"])) for row in rows],
                                  sampling)
        finally:
            model.close()
        texts, ids, tests = [], [], []
        for row, gen in zip(rows, gens, strict=True):
            for text in gen.texts:
                texts.append(text)
                ids.append(row["question_id"])
                tests.append(row["tests"])
        records: list[dict[str, Any]] = []
        code_reward(texts, question_id=ids, tests=tests, problems=self.problems, runner=self.runner,
                    record=records.append)
        samples: dict[str, list[dict[str, Any]]] = {}
        for r in records:
            samples.setdefault(r["question_id"], []).append({"program": r["program"], "reward": r["reward"]})
        return samples

    def _prune(self, old: RoundState, new: RoundState, kind: str) -> None:
        """Delete the model folder this phase superseded, when it is one of ours (disk, not data)."""
        before = Path(old.code_model if kind == "code" else old.test_model)
        after = Path(new.code_model if kind == "code" else new.test_model)
        if before != after and before.name == "model" and self.root.resolve() in before.resolve().parents:
            shutil.rmtree(before, ignore_errors=True)

    def _evaluate(self, label: str, spec: str) -> EvalStats:
        """pass@k of the Code model `spec` on the configured benchmarks (a resumable stage)."""
        from codistill.stages.evaluation import evaluation_stage

        ev = self.config.eval
        stage = self.store.stage(f"eval/{label}", depends={
            "eval": ev.model_dump(mode="json"), "sandbox": self.config.sandbox.model_dump(mode="json"),
            "dtype": self.config.models.dtype, "model": spec if label == "before" else self.depends})
        if stage.done:
            return stage.stats(EvalStats)
        started = time.perf_counter()
        cache = open_cache(self.config)
        generator = role_generator(spec, self.config, cache)
        try:
            with stage.appender() as out:
                ctx = StageContext.resuming(stage, "id", limits=self.config.sandbox.limits(),
                                            seed=self.config.seed, workers=self.config.sandbox.workers, out=out)
                stats = evaluation_stage(stage, generator, ev, ctx, model=spec, cache=cache,
                                         say=lambda text: self.console.print(f"[cyan]the Code model ({label}): {text}"),
                                         bars=self.progress)
        finally:
            generator.close()
        stage.finish(stats.model_copy(update={"seconds": round(time.perf_counter() - started, 2)}))
        return stage.stats(EvalStats)

    # -- the run --------------------------------------------------------------------------------

    def rounds(self) -> list[int]:
        """GRPO steps of each round's phases: `steps` split into chunks of `phase_steps`."""
        total, chunk = self.cfg.steps, self.cfg.phase_steps
        return [min(chunk, total - i * chunk) for i in range(math.ceil(total / chunk))]

    def run(self) -> dict[str, Any]:
        """Check the questions, run (or resume) every round, evaluate, write the report."""
        from codistill.report.coevolve import write_report

        started = time.perf_counter()
        usable = self.check()
        state = RoundState(code_model=str(trainable_path(self.code_spec)),
                           test_model=str(trainable_path(self.test_spec)))
        plan = self.rounds()
        self.console.print(f"[bold]codistill coevolve[/] {self.config.name}: {len(usable)} questions, "
                           f"{len(plan)} rounds of {self.cfg.phase_steps} GRPO steps per model")
        for r, steps in enumerate(plan, start=1):
            active = [p for p in usable if not state.book.banned(p.id)]
            per_phase = steps * self.cfg.questions_per_step
            if len(active) < self.cfg.questions_per_step:
                state.stopped = (f"round {r}: {len(active)} questions left (the others are blacklisted), "
                                 f"fewer than questions_per_step={self.cfg.questions_per_step}")
                self.console.print(f"[yellow]stopping early: {state.stopped}")
                break
            questions = pick_questions(active, state, min(per_phase, len(active)), self.config.seed + r)
            state = self._phase(r, "code", state, questions, steps)
            state = self._phase(r, "tests", state, questions, steps)
        evals: dict[str, EvalStats] = {}
        if self.evaluate:
            if self.config.eval.before:
                evals["before"] = self._evaluate("before", self.code_spec)
            evals["after"] = self._evaluate("after", state.code_model)
        summary = summarize(self.store, state, evals, time.perf_counter() - started)
        summary["report"] = str(write_report(self.root))
        return summary

    def close(self) -> None:
        """Release the run folder."""
        self.store.close()


def _round_means(phases: dict[str, PhaseStats], kind: str, key: str) -> list[float]:
    """The mean of `key` over each round's `kind` phase steps, round by round."""
    keys = sorted((k for k in phases if k.endswith(f"/{kind}")), key=lambda k: int(k.split("/")[0][6:]))
    means = []
    for k in keys:
        values = [p[key] for p in phases[k].curve if key in p]
        if values:
            means.append(round(sum(values) / len(values), 4))
    return means


def summarize(store: RunStore, state: RoundState, evals: dict[str, EvalStats], seconds: float) -> dict[str, Any]:
    """The figures a person asks for first: steps, time, rewards (first and last step, and each
    round's mean: one step is one or two questions, so a round says more), validity, pass@1."""
    phases = {k: found for k, v in store.stages().items()
              if k.startswith("round-") and (found := stats_of(v, PhaseStats)) is not None}
    code = [p for k, v in phases.items() if k.endswith("/code") for p in v.curve]
    tests = [p for k, v in phases.items() if k.endswith("/tests") for p in v.curve]
    validity = [p["validity"] for p in tests if "validity" in p]
    return {
        "code_reward_by_round": _round_means(phases, "code", "reward"),
        "test_reward_by_round": _round_means(phases, "tests", "reward"),
        "validity_by_round": _round_means(phases, "tests", "validity"),
        "validity_mean": round(sum(validity) / len(validity), 4) if validity else None,
        "rounds": state.round, "code_steps": state.code_steps, "test_steps": state.test_steps,
        "train_seconds": round(sum(v.seconds for v in phases.values()), 1),
        "wall_seconds_this_call": round(seconds, 1),
        "code_reward": [code[0]["reward"], code[-1]["reward"]] if code else None,
        "test_reward": [tests[0]["reward"], tests[-1]["reward"]] if tests else None,
        "mistake_book": state.book.size(), "blacklisted": len(state.book.blacklist),
        "code_model": state.code_model, "test_model": state.test_model, "stopped": state.stopped,
        "pass_at_1": {label: {b: r.get("pass@1") for b, r in e.pass_at_k.items()}
                      for label, e in evals.items()},
    }


def coevolve(config: RunConfig, problems: list[Problem], *, force: bool = False, progress: bool = True,
             evaluate: bool = True, trainer: Callable[..., TrainResult] | None = None,
             sampler: Callable[[str], Generator] | None = None) -> dict[str, Any]:
    """Run or resume Code-A1 co-evolution on `problems`; returns the summary (report path included)."""
    runner = Coevolution(config, problems, force=force, progress=progress, evaluate=evaluate,
                         trainer=trainer, sampler=sampler)
    try:
        return runner.run()
    finally:
        runner.close()
