"""`codistill run`: SODA's self-paced cycle (or AKD's adversarial variant), end to end, resumable.

cycle-0/eval                       the student before any training
cycle-k/teach -> build -> train -> examine -> curriculum -> eval     for k = 1..cycles

Every stage writes its records as it goes into runs/<name>/cycle-k/<stage>.jsonl and is marked
done in the manifest with its stats; a rerun skips what is done and resumes what is not.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from codistill.config import RunConfig, dump_config
from codistill.evaluate.progress import Bars
from codistill.jsonl import Appender, write_text_atomic
from codistill.models.base import Generator
from codistill.records import Answer, Problem, Taught
from codistill.roles import open_cache, role_generator, trainable_path
from codistill.stages.context import StageContext
from codistill.stages.depends import config_values, questions_fingerprint
from codistill.stages.evolve import Evolved
from codistill.stages.seed_pool import load_seed_pool
from codistill.stages.stats import CacheUse, ScorerStats, StageStats, TrainRun, TrainStats
from codistill.store import RunStore, Stage
from codistill.train.datasets import build_rows
from codistill.train.reuse import TrainedModels, training_key

if TYPE_CHECKING:
    from codistill.evaluate.decontam import Decontaminator
    from codistill.train.common import TrainResult


class CycleRunner:
    """Runs the configured cycles over one run folder."""

    def __init__(self, config: RunConfig, *, force: bool = False,
                 console: Console | None = None) -> None:
        self.config = config
        self.console = console or Console(stderr=True)
        self.store = RunStore(config.run_dir, config=dump_config(config), force=force)
        self.cache = open_cache(config)
        self.limits = config.sandbox.limits()
        self.teacher = role_generator(config.models.teacher, config, self.cache)
        self.judge = (role_generator(config.models.judge, config, self.cache)
                      if config.models.judge else self.teacher)
        self.scorer: Generator | None = None  # SODA's trained scoring model, once it exists
        self.timings: dict[str, float] = {}
        self._told_decontamination = False
        # Stages where the student answers depend on its dtype; named only when set, so runs
        # made before the setting existed keep their fingerprints.
        self._student_dtype = ("models.student_dtype",) if config.models.student_dtype else ()
        self._scorer_tried = False
        # AKD: question id -> the student's failing answer, DPO's rejected side in later cycles
        self.student_answers: dict[str, str] = {}

    # -- plumbing -----------------------------------------------------------------------------

    @contextmanager
    def _bar(self, label: str, total: int) -> Iterator[Callable[[int], None]]:
        # A live bar on a terminal; in a log file (nohup, CI) a line every 30 s instead.
        with Bars() as bars:
            bars.add(label, label, total)
            yield lambda n: bars.advance(label, n)

    def _stage(self, name: str, cycle: int, *keys: str, upstream: Stage | None = None,
               questions: list[Problem] | None = None) -> Stage:
        depends = config_values(self.config, *keys)
        if questions is not None:  # what the stage works on, not only how (a seed file can change)
            depends["questions"] = questions_fingerprint(questions)
        if upstream is not None:
            depends["upstream"] = upstream.entry["fingerprint"]
        stage = self.store.stage(name, cycle, depends=depends)
        if not stage.done:  # where a long run is, and whether it picks up a stopped attempt
            self._say(stage, "resuming" if stage.path.exists() or stage.dir.exists() else "starting")
        return stage

    def _clock(self) -> dict[str, float]:
        """Wall time and cache counters at a stage's start."""
        return {"t": time.perf_counter(), **self.cache.stats()}

    def _finish(self, stage: Stage, started: dict[str, float], stats: StageStats,
                model: Path | str | None = None) -> None:
        seconds = round(time.perf_counter() - started["t"], 2)
        now = self.cache.stats()
        cache = CacheUse(hits=int(now["hits"] - started["hits"]), misses=int(now["misses"] - started["misses"]))
        self.timings[stage.key] = seconds
        stage.finish(stats.model_copy(update={"seconds": seconds, "cache": cache}), model=model)

    def _context(self, stage: Stage, key: str, *, seed: int | None = None, out: Appender | None = None,
                 progress: Callable[[int], None] | None = None) -> StageContext:
        """The context a stage of this run works in: the run's limits, workers and seed, and what
        an earlier attempt of the stage wrote (its rows, done by their `key`)."""
        return StageContext.resuming(stage, key, limits=self.limits,
                                     seed=self.config.seed if seed is None else seed,
                                     workers=self.config.sandbox.workers, out=out, progress=progress)

    # -- stages -------------------------------------------------------------------------------

    def evaluate(self, cycle: int, student_spec: str, upstream: Stage | None) -> Stage:
        """pass@k of the current student on the configured benchmarks."""
        from codistill.stages.evaluation import evaluation_stage

        stage = self._stage("eval", cycle, "eval", "sandbox", "models.dtype", *self._student_dtype,
                            upstream=upstream)
        if stage.done:
            return stage
        started = self._clock()
        student = role_generator(student_spec, self.config, self.cache, student=True)
        try:
            with stage.appender() as out:
                stats = evaluation_stage(stage, student, self.config.eval, self._context(stage, "id", out=out),
                                         model=student_spec, cache=self.cache,
                                         say=lambda text: self.console.print(f"[cyan]cycle {cycle}: {text}"))
        finally:
            student.close()
        self._finish(stage, started, stats)
        return stage

    def questions(self) -> list[Problem]:
        """Teacher-written questions at its own level (data.seeds 'synth' and/or 'grounded'),
        screened; resumable."""
        from codistill.stages.questions import (
            grow_sources,
            question_slots,
            question_stats,
            verified,
            writer_sampling,
        )

        data = self.config.data
        # Named only when used, so runs made before grounded questions keep their fingerprints.
        grounded = (("data.grounded_questions", "data.grounded_from") if "grounded" in data.seeds else ())
        stage = self._stage("questions", 0, "models.teacher", "models.dtype", "data.synth_questions",
                            "data.synth_generation", "seed", *grounded)
        if not stage.done:
            started = self._clock()
            g = data.synth_generation
            sampling = writer_sampling(g.temperature, g.top_p, g.max_new_tokens, self.config.seed)
            with self._bar("questions", question_slots(data) - len(stage.rows())) as advance, \
                    stage.appender() as out:
                grow_sources(self.teacher, data, sampling,
                             self._context(stage, "slot_id", out=out, progress=advance),
                             decontaminator=self.benchmarks())
            self._finish(stage, started, question_stats(stage.rows()))  # earlier attempts' rows count too
        return [problem for problem, _ in verified(stage.rows())]

    def teach(self, cycle: int, pool: list[Problem],
              upstream: Stage | None) -> tuple[Stage, list[Taught]]:
        """Stage I: verified correct and faulty solutions for the pool."""
        from codistill.stages.teach import teach_stage, teach_stats

        stage = self._stage("teach", cycle, "models.teacher", "models.dtype", "teach", "sandbox",
                            "seed", upstream=upstream, questions=pool)
        if not stage.done:
            started = self._clock()
            ctx = self._context(stage, "problem.id", seed=self.config.seed + cycle)
            todo = len([p for p in pool if p.id not in ctx.done])
            with self._bar(f"cycle {cycle} teach", todo) as advance, stage.appender() as out:
                teach_stage(pool, self.teacher, self.config.teach, ctx.replace(out=out, progress=advance),
                            fallback_to_reference=self.config.teach.reference_fallback)
            self._finish(stage, started, teach_stats(stage.records(Taught)))  # earlier attempts' too
        return stage, stage.records(Taught)

    def train(self, cycle: int, taught: list[Taught], student_path: Path | str,
              upstream: Stage) -> tuple[Stage, Path]:
        """SFT on correct solutions, then DPO on (correct, faulty) pairs; a checkpoint per cycle."""
        from codistill.train import export_datasets

        stage = self._stage("train", cycle, "train", "ablation.no_fault_learning",
                            "models.student", upstream=upstream)
        if stage.done:
            return stage, stage.model or Path(student_path)
        started = self._clock()
        self.release_models()  # training needs the memory; they load again when next asked
        sft, dpo = build_rows(taught, no_fault_learning=self.config.ablation.no_fault_learning,
                              docstrings=self.config.train.restated_docstrings,
                              student_answers=self.student_answers)
        exports = export_datasets(sft, dpo, stage.dir / "data")
        t = self.config.train
        seed = t.seed if t.seed is not None else self.config.seed
        stats = TrainStats(sft_rows=len(sft), dpo_rows=len(dpo),
                           exports={k: str(v) for k, v in exports.items()})
        model_dir = Path(student_path)
        reuse, key = self._reusable_training(student_path, sft, dpo, seed)
        # A training this run began is resumed from its checkpoints, not swapped for a stored copy:
        # the stage's results then do not depend on whether an attempt was stopped.
        began = any((stage.dir / kind).exists() for kind in ("sft", "kd", "dpo"))
        if reuse is not None and not began and (
                found := reuse.restore(key, stage.dir / "model")) is not None:
            self.console.print(f"cycle {cycle}: reusing a model trained before on the same rows "
                               f"and settings ({reuse.root / key})", highlight=False)
            runs = {k: TrainRun.model_validate(v) for k, v in found.items() if k in ("sft", "kd", "dpo")}
            self._finish(stage, started, stats.model_copy(update={**runs, "reused_training": key}),
                         model=stage.dir / "model")
            return stage, stage.dir / "model"
        from codistill.train.launch import train_rows

        labels = {"kd": "logit distillation from the teacher on {} rows", "sft": "SFT on {} rows",
                  "dpo": "DPO on {} pairs"}
        results = train_rows(self.config, student_path, sft, dpo, stage.dir,
                             device=self.config.models.device, progress=True,
                             announce=lambda kind, n: self._say(stage, labels[kind].format(n)),
                             finished=lambda result: self._trained(stage, result))
        for kind, result in results.items():
            model_dir = result.model_dir
            setattr(stats, kind, TrainRun(steps=result.steps, loss=result.train_loss, seconds=result.seconds,
                                          metrics=result.metrics if kind == "dpo" else None))
        if reuse is not None and model_dir != Path(student_path):
            reuse.put(key, model_dir, stats.model_dump(mode="json", exclude_none=True))
        self._finish(stage, started, stats, model=model_dir)
        return stage, model_dir

    def _say(self, stage: Stage, text: str) -> None:
        self.console.print(f"{stage.key}: {text}", highlight=False)

    def _trained(self, stage: Stage, result: TrainResult) -> None:
        """Say how a training call ended, and where it resumed from after a stopped attempt."""
        if not result.reused:
            resumed = f", resumed from {Path(result.resumed_from).name}" if result.resumed_from else ""
            self._say(stage, f"{result.kind.upper()} finished after {result.steps} steps{resumed}")

    def _reusable_training(self, base: Path | str, sft: list[Any], dpo: list[Any],
                           seed: int) -> tuple[TrainedModels | None, str]:
        """The store of trained models and this training's key (None when reuse is off)."""
        if not self.config.reuse_training:
            return None, ""
        from codistill.models.hardware import resolve_device
        from codistill.roles import spec_identity

        device = str(resolve_device(self.config.models.device))
        settings = {"train": dump_config(self.config)["train"], "device": device}
        key = training_key(spec_identity(str(base), device=device), {"sft": sft, "dpo": dpo},
                           settings, seed, device)
        return TrainedModels(), key

    def examine(self, cycle: int, pool: list[Problem], student_spec: str,
                upstream: Stage) -> tuple[Stage, list[Answer]]:
        """Stage II: the trained student answers the pool; sandbox and judge score it."""
        from codistill.stages.examine import check_unparsed, examine_stage, examine_stats, judging

        stage = self._stage("examine", cycle, "examine", "ablation", "models.judge",
                            "sandbox", *self._student_dtype, upstream=upstream)
        if not stage.done:
            started = self._clock()
            ctx = self._context(stage, "problem_id")
            student = role_generator(student_spec, self.config, self.cache, student=True)
            todo = len([p for p in pool if p.id not in ctx.done])
            grader = self.scorer or self.judge
            with self._bar(f"cycle {cycle} examine", todo) as advance, stage.appender() as out:
                examine_stage(pool, student, grader, self.config.examine, self.config.ablation,
                              ctx.replace(out=out, progress=advance))
            student.close()
            judged = judging(grader, self.config.examine, self.config.ablation)
            stats = examine_stats(stage.records(Answer), judged=judged,  # earlier attempts' too
                                  works_from=self.config.curriculum.hard_max_score,
                                  saw_verdict=self.config.examine.judge_sees_verdict)
            if judged:
                check_unparsed(stats.judge_unparsed, stats.counts.get("answers", 0),
                               self.config.examine.max_unparsed,
                               "the scoring model" if self.scorer is not None else grader.identity)
            self._finish(stage, started, stats)
        return stage, stage.records(Answer)

    def train_scorer(self, cycle: int, pool: list[Problem], answers: list[Answer],
                     upstream: Stage) -> None:
        """Once, after the first judged cycle: fine-tune a scoring model on the judge's grades,
        check it on held-out grades, and let it grade only when it follows the judge closely."""
        from codistill.stages.scorer import fit_scorer, scorer_rows, split_rows

        cfg = self.config
        ex = cfg.examine
        if ex.scorer != "trained" or self._scorer_tried or cfg.ablation.no_judge:
            return
        rows = scorer_rows({p.id: p for p in pool}, answers, ex)
        if len(rows) < ex.scorer_min_annotations:
            self.console.print(f"[yellow]cycle {cycle}: {len(rows)} judge annotations, fewer than "
                               f"{ex.scorer_min_annotations}: the judge keeps grading")
            return
        train, held_out = split_rows(rows, ex.scorer_holdout)
        if not train or not held_out:
            self.console.print(f"[yellow]cycle {cycle}: {len(rows)} judge annotations cannot both train "
                               f"and check a scoring model ({len(held_out)} held out): the judge keeps "
                               "grading")
            return
        self._scorer_tried = True  # one scoring model per run, used or not
        stage = self._stage("scorer", cycle, "examine", "train.sft", upstream=upstream)
        if not stage.done:
            started = self._clock()
            fitted, model_dir = fit_scorer(trainable_path(ex.scorer_base), train, held_out, stage.dir,
                                           cfg.train.sft, ex,
                                           lambda spec: role_generator(spec, cfg, self.cache, student=True),
                                           seed=cfg.seed, device=cfg.models.device)
            self._finish(stage, started, fitted, model=model_dir)
        stats = stage.stats(ScorerStats)
        check = stats.validation
        if stats.used and stage.model is not None:
            self._say(stage, f"the scoring model grades from the next cycle: {check.line()}")
            self.scorer = role_generator(str(stage.model), cfg, self.cache, student=True)
        else:
            self.console.print(
                f"[yellow]{stage.key}: the scoring model is not used, the judge keeps grading: "
                f"{check.line()}; it needs within one point on at least {ex.scorer_min_within_one:.0%}"
                f" of at least {ex.scorer_min_validation} held-out annotations", highlight=False)

    def curriculum(self, cycle: int, pool: list[Problem], answers: list[Answer],
                   student_spec: str, upstream: Stage) -> tuple[Stage, list[Problem]]:
        """Stage III: buckets, then new questions from the teacher (SODA) or the adversary (AKD)."""
        from codistill.stages import adversary, curriculum

        cfg = self.config
        stage = self._stage("curriculum", cycle, "curriculum", "ablation", "models.teacher",
                            "seed", *self._student_dtype, upstream=upstream)
        by_id = {p.id: p for p in pool}
        if not stage.done:
            started = self._clock()
            ctx = self._context(stage, "slot_id", seed=cfg.seed + cycle)
            common = dict(cycle=cycle, pool=pool, decontaminator=self.benchmarks())
            label = f"cycle {cycle} {'adversary' if cfg.curriculum.strategy == 'akd' else 'curriculum'}"
            with self._bar(label, max(cfg.curriculum.new_questions - len(ctx.done), 0)) as advance, \
                    stage.appender() as out:
                ctx = ctx.replace(out=out, progress=advance)
                if cfg.curriculum.strategy == "akd":
                    student = role_generator(student_spec, cfg, self.cache, student=True)
                    result = adversary.adversary_stage(by_id, answers, self.teacher, student,
                                                       cfg.curriculum, ctx, **common)
                    student.close()
                else:
                    ablation = cfg.ablation
                    if cfg.curriculum.strategy == "random":
                        ablation = ablation.model_copy(update={"no_difficulty": True})
                    result = curriculum.curriculum_stage(by_id, answers, self.teacher, cfg.curriculum,
                                                         ablation, ctx, **common)
            self._finish(stage, started, result.stats())
        records = stage.records(Evolved)
        self.student_answers.update(found for r in records if (found := r.rejected()))
        return stage, [r.problem for r in records if r.kept and r.problem is not None]

    # -- the whole run ------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """All cycles; returns the manifest's stage entries."""
        from codistill.sandbox import use_backend

        with use_backend(self.config.sandbox.backend, self.config.sandbox.workers):
            return self._run()

    def benchmarks(self) -> Decontaminator:
        """The benchmark index every stage screens training questions against (built once).

        Says which benchmarks were checked and which could not be loaded, records both in
        decontamination.json, and stops the run when data.require_decontamination asks for all.
        """
        from codistill.stages.evolve import benchmark_index

        index = benchmark_index(benchmarks=tuple(self.config.data.decontaminate_against))
        if not self._told_decontamination:
            self._told_decontamination = True
            write_text_atomic(self.store.root / "decontamination.json",
                              json.dumps(index.coverage(), indent=1) + "\n")
            self.console.print(index.describe(), style="yellow" if index.skipped else None,
                               highlight=False)
            if self.config.data.require_decontamination:
                index.require_all()
        return index

    def _run(self) -> dict[str, Any]:
        cfg = self.config
        student_spec = cfg.models.student
        student_path = trainable_path(student_spec)
        self.benchmarks()  # said first: a required benchmark that is missing stops the run here
        pool = load_seed_pool(cfg)
        if {"synth", "grounded"} & set(cfg.data.seeds):
            pool += self.questions()
        self.console.print(f"[bold]codistill run[/] {cfg.name}: {len(pool)} seed questions, "
                           f"{cfg.cycles} cycle(s), strategy {cfg.curriculum.strategy}")
        upstream = self.evaluate(0, student_spec, None) if cfg.eval.before else None
        for cycle in range(1, cfg.cycles + 1):
            if not pool:
                self.console.print(f"[yellow]cycle {cycle}: no questions left; stopping")
                break
            teach_stage, taught = self.teach(cycle, pool, upstream)
            train_stage, model_dir = self.train(cycle, taught, student_path, teach_stage)
            student_spec, student_path = str(model_dir), model_dir
            exam_stage, answers = self.examine(cycle, pool, student_spec, train_stage)
            self.train_scorer(cycle, pool, answers, exam_stage)
            cur_stage, new = self.curriculum(cycle, pool, answers, student_spec, exam_stage)
            known = {p.id for p in pool}
            pool = (pool + [p for p in new if p.id not in known]) if cfg.curriculum.grow_pool else new
            upstream = self.evaluate(cycle, student_spec, cur_stage)
        self._report()
        stats = self.cache.stats()
        self.console.print(f"request cache: {stats['hits']} hits, {stats['misses']} misses "
                           f"({self.cache.path})")
        from codistill.report.summary import print_summary

        print_summary(self.store.root, self.console)  # the result where the user looks
        return self.store.stages()

    def _report(self) -> None:
        try:
            from codistill.report import build_report
        except ImportError:
            return
        # Said before it is built, so the line also marks where a long report build is.
        self.console.print(f"[green]report: {self.store.root / 'report.html'}")
        build_report(self.store.root)

    def release_models(self) -> None:
        """Free the teacher's, judge's and scorer's weights (cached roles reload on their next miss)."""
        for model in {id(m): m for m in (self.teacher, self.judge, self.scorer) if m}.values():
            model.close()
        gc.collect()

    def close(self) -> None:
        """Release models and the run lock."""
        self.release_models()
        self.store.close()


def run_cycles(config: RunConfig, *, force: bool = False) -> dict[str, Any]:
    """Run (or resume) the configured distillation; returns the manifest's stage entries."""
    runner = CycleRunner(config, force=force)
    try:
        return runner.run()
    finally:
        runner.close()

