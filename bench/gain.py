"""The gain benchmark: does distillation make the embedded student better on all of HumanEval?

    python bench/gain.py all          # the whole experiment: every phase below, 2 at a time, 3 seeds
    python bench/gain.py restore      # a fresh machine: the committed questions and answers
    python bench/gain.py data --slots 3000 --data-seed 0   # verified teacher questions (resumable;
    python bench/gain.py data --slots 3000 --data-seed 1   #   seeds can run side by side)
    python bench/gain.py data --source grounded --slots 512   # questions grounded in real functions
    python bench/gain.py answers --answers 4            # more teacher solutions per training question
    python bench/gain.py base         # the untrained student on the dev set and HumanEval
    python bench/gain.py train --seed 0 [--rows N] [--dev-only]   # the frozen recipe (SFT), see --help
    python bench/gain.py train --arm control | --arm sft+dpo
    python bench/gain.py train --arm soda    # one full SODA cycle (codistill run) on the same questions
    python bench/gain.py train --arm kd [--on-policy 0.5]   # logit distillation (GOLD/ULD)
    python bench/gain.py report --results docs/results/gain   # table + scaling curve of all runs
    python bench/gain.py save         # gzip questions, sampled answers and evaluations into docs/

Side by side, give each process one thread (OMP_NUM_THREADS=1): two 2-thread torch processes on
2 cores run about 4x slower. Each train run writes results/<tag>.json and prints its figures.

Everything lands in --out (default runs/gain) and every model call goes through the request
cache, so a killed phase resumes where it stopped and a rerun costs nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from gain_store import STORE, phase_restore, phase_save  # bench/ is first on sys.path
from rich.console import Console

from codistill.config import KD, Data, RunConfig
from codistill.data.synth import dedupe
from codistill.jsonl import Appender, iter_json
from codistill.records import Solution, Taught
from codistill.roles import open_cache, role_generator
from codistill.sandbox import Limits
from codistill.stages.questions import grow_questions, verified, writer_sampling
from codistill.stages.teach import stable_fraction

console = Console(stderr=True)
DTYPE = "bfloat16"  # fixed: bf16 changes some greedy outputs, so compared runs share one dtype
_W = Data.model_fields["synth_generation"].default_factory()  # codistill run's default writer
KD_CE = KD.model_fields["crossentropy_weight"].default  # kd arm: the config's default
WRITER = writer_sampling(_W.temperature, _W.top_p, _W.max_new_tokens, seed=0)


def _config(args: argparse.Namespace, batch_size: int = 16, dtype: str = DTYPE) -> RunConfig:
    return RunConfig.model_validate({"name": "gain", "seed": args.seed,
                                     "models": {"dtype": dtype, "batch_size": batch_size,
                                                "device": args.device}})


def _rows(path: Path) -> list[dict]:
    return [row for _, row in iter_json(path, skip_bad=True)] if path.is_file() else []


def is_dev(problem_id: str) -> bool:
    """A fixed tenth of the verified questions is held out as the dev set (never trained on)."""
    return stable_fraction("dev", problem_id) < 0.1


def phase_data(args: argparse.Namespace) -> None:
    """Write, screen, answer and settle questions, a chunk of slots at a time (resumable)."""
    from codistill.data.grounded import DEFAULT_SOURCES
    from codistill.evaluate.decontam import Decontaminator
    from codistill.stages.questions import grounded_writer

    out = Path(args.out)
    # One thread generates about 2.3x the tokens per second at batch 32 as at batch 8 (bf16).
    cfg = _config(args, batch_size=32)
    cache = open_cache(cfg)
    teacher = role_generator("embedded:teacher", cfg, cache)
    limits = Limits(timeout_s=10)
    decontam = Decontaminator()
    # One file per source and data seed: run them side by side.
    grounded = args.source == "grounded"
    q_path = out / (f"questions-grounded-{args.data_seed}.jsonl" if grounded
                    else f"questions-{args.data_seed}.jsonl")
    writer = grounded_writer(args.grounded_from or DEFAULT_SOURCES, args.data_seed) if grounded else None
    started = time.perf_counter()
    slots = args.slots or 2000
    for end in range(args.chunk, slots + args.chunk, args.chunk):
        end = min(end, slots)
        with Appender(q_path) as q_out:
            grow_questions(teacher, end, seed=args.data_seed, sampling=WRITER, limits=limits,
                           out=q_out, previous=_rows(q_path), decontaminator=decontam,
                           batch_size=32, writer=writer)
        rows = _rows(q_path)
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        console.print(f"slots {end}/{slots}: {counts}; {time.perf_counter() - started:.0f}s",
                      highlight=False)


def _verified(out: Path) -> tuple[list[Taught], list[Taught]]:
    """Kept questions from the data phase, split into (train, dev), each in slot order."""
    pairs = [pair for path in sorted(out.glob("questions-*.jsonl")) for pair in verified(_rows(path))]
    unique, _ = dedupe(p for p, _ in pairs)  # different data seeds may write the same question
    answers = {p.id: answer for p, answer in pairs}
    kept = [Taught(problem=p, split="sft", kept=True, solutions=[Solution(
        problem_id=p.id, kind="correct", code=answers[p.id], status="passed", kept=True)])
        for p in unique]
    return [t for t in kept if not is_dev(t.problem.id)], [t for t in kept if is_dev(t.problem.id)]


def _sampled_dir(out: Path, answers: int) -> Path:
    return out / "eval" / f"teacher-sampled-n{answers}"


def phase_answers(args: argparse.Namespace) -> None:
    """Sample more teacher solutions (T=0.8) to every training question and run its settled tests.

    A new verified question costs the teacher about ten times the tokens of one more answer to a
    question it has (writer, greedy answer, tie-break, and two thirds of slots are dropped).
    """
    from codistill.evaluate import evaluate_model

    out = Path(args.out)
    cfg = _config(args, batch_size=32)
    cache = open_cache(cfg)
    train, _ = _verified(out)
    teacher = role_generator("embedded:teacher", cfg, cache)
    result = evaluate_model(teacher, [t.problem for t in train], out_dir=_sampled_dir(out, args.answers),
                            n=args.answers, temperature=0.8, max_new_tokens=384, ks=(1,),
                            limits=Limits(timeout_s=10), cache=cache, progress=True)
    extra = _extra_answers(out, args.answers, train)
    console.print(f"{len(train)} training questions: teacher pass@1 at T=0.8 "
                  f"{result.pass_at_k.get('pass@1', 0):.3f}; {sum(map(len, extra.values()))} more distinct "
                  "passing solutions", highlight=False)


def _read_sampled(out: Path, answers: int) -> dict:
    """The answers phase's scored samples, by (question id, index)."""
    from codistill.evaluate.runner import read_scored

    return read_scored(_sampled_dir(out, answers) / "samples.jsonl")


def _sampled_ids(scored: dict, train: list[Taught]) -> set[str]:
    """The training questions among those with scored samples."""
    return {tid for tid, _ in scored} & {t.problem.id for t in train}


def _extra_answers(out: Path, answers: int, train: list[Taught], limit: int = 0) -> dict[str, list[str]]:
    """Distinct passing sampled solutions per training question, the greedy one excluded.

    Only the first `limit` training questions contribute (0: all). Says how many training
    questions have been sampled; none at all is an error.
    """
    from codistill.extract import extract_code
    from codistill.stages.teach import same_code

    scored = _read_sampled(out, answers)
    by_id = {t.problem.id: t for t in (train[:limit] if limit else train)}
    sampled = _sampled_ids(scored, list(by_id.values()))
    hint = f"`python bench/gain.py answers --answers {answers}` samples them (or train with --answers 1)"
    if not sampled:
        raise SystemExit(f"--answers {answers}: no training question has sampled answers yet; {hint}")
    if len(sampled) < len(by_id):
        console.print(f"  sampled answers for {len(sampled)} of {len(by_id)} training questions; {hint}",
                      highlight=False)
    found: dict[str, list[str]] = {}
    for (tid, _), sample in sorted(scored.items()):
        if not sample.passed or tid not in sampled:
            continue
        p = by_id[tid].problem
        code = extract_code(sample.raw, "python", prompt=p.prompt, entry_point=p.entry_point)
        kept = [by_id[tid].correct().code, *found.get(tid, [])]
        if not any(same_code(code, k) for k in kept):
            found.setdefault(tid, []).append(code)
    return found


def _evaluate(cfg: RunConfig, cache, spec: str, out_dir: Path, dev: list,
              humaneval: bool = True) -> dict[str, object]:
    """Greedy pass@1 of one model on the dev questions and (unless told not to) all of HumanEval."""
    from codistill.evaluate import evaluate_model

    model = role_generator(spec, cfg, cache)
    results = {}
    benches = [("dev", [t.problem for t in dev])] + ([("humaneval", "humaneval")] if humaneval else [])
    for name, bench in benches:
        started = time.perf_counter()
        results[name] = evaluate_model(model, bench, out_dir=out_dir / name, n=1, max_new_tokens=512,
                                       limits=Limits(timeout_s=10), cache=cache, progress=False)
        console.print(f"  {spec[-40:]} {name}: pass@1 {results[name].pass_at_k.get('pass@1', 0):.3f}"
                      f" ({time.perf_counter() - started:.0f}s)", highlight=False)
    model.close()
    return results


def _rows_for(arm: str, train: list[Taught], cfg: RunConfig, cache, out: Path, answers: int = 1,
              docstrings: bool = True, sampled: int = 0) -> tuple[list[dict], list[dict]]:
    """(SFT rows, DPO rows) of one arm; every arm trains on the same questions.

    sft: the teacher's verified answers. sft+dpo: those, then DPO on (teacher's answer, an AST
    mutation of it that really fails the settled tests), SODA's verified-faulty side.
    control: the student's own passing answers to the same questions (self-distillation), so a
    gain that also shows here is a format effect, not the teacher's knowledge.
    """
    from codistill.extract import extract_code
    from codistill.train import dpo_rows, sft_rows

    if arm == "control":
        from codistill.evaluate import evaluate_model

        student = role_generator("embedded:student", cfg, cache)
        result = evaluate_model(student, [t.problem for t in train], out_dir=out / "eval" / "control-own",
                                n=1, max_new_tokens=512, limits=Limits(timeout_s=10), cache=cache,
                                progress=False)
        student.close()
        from codistill.evaluate.runner import read_scored

        scored = read_scored(out / "eval" / "control-own" / "samples.jsonl")
        by_id = {t.problem.id: t.problem for t in train}
        own = [(by_id[tid], extract_code(s.raw, "python", prompt=by_id[tid].prompt,
                                         entry_point=by_id[tid].entry_point))
               for (tid, _), s in scored.items() if s.passed and tid in by_id]
        console.print(f"  control: the student passes {len(own)}/{len(train)} of the questions "
                      f"itself (pass@1 {result.pass_at_k.get('pass@1', 0):.3f})", highlight=False)
        return sft_rows(own, docstrings=docstrings), []
    sft = sft_rows(((t.problem, t.correct().code) for t in train), docstrings=docstrings)
    if answers > 1:
        extra = _extra_answers(out, answers, train, sampled)
        sft += sft_rows(((t.problem, code) for t in train for code in extra.get(t.problem.id, [])),
                        docstrings=docstrings)
    if arm in ("sft", "kd"):  # kd distils the teacher's logits over the same answers
        return sft, []
    from codistill.config import Teach
    from codistill.stages.teach import Teacher

    # Rejected side: AST mutations of the teacher's answer that really fail the settled tests.
    teacher = Teacher(role_generator("embedded:teacher", cfg, cache),
                      Teach(mutation_share=1.0), limits=Limits(timeout_s=10), seed=cfg.seed)
    faulty = teacher.mutated([t.problem for t in train], {t.problem.id: t.correct() for t in train})
    by_id = {t.problem.id: t for t in train}
    pairs = [(by_id[f.problem_id].problem, by_id[f.problem_id].correct().code, f.code)
             for f in faulty if f.kept]
    return sft, dpo_rows(pairs, docstrings=docstrings)


def _tokens(rows: list[dict]) -> int:
    """Rough training tokens of SFT rows (characters / 3.5), to match arms on tokens seen."""
    return int(sum(len(m["content"]) for r in rows for col in ("prompt", "completion")
                   for m in r[col]) / 3.5)


def _suffix(args: argparse.Namespace) -> str:
    """What names the student's evaluations in a dtype other than the teacher data's."""
    return "" if args.student_dtype == DTYPE else f"-{args.student_dtype}"


def _tags(args: argparse.Namespace, out: Path, train: list[Taught]) -> tuple[str, str, int]:
    """(model tag, result tag, training questions with sampled answers) of one train run."""
    # The model folder is shared by a dev-only run and the HumanEval run of the same settings.
    # Which questions have sampled answers is part of the data: the tag names it when not all do.
    sampled = (len(_sampled_ids(_read_sampled(out, args.answers), train[: args.sampled or None]))
               if args.answers > 1 else 0)
    model_tag = (f"{args.arm}-rows{len(train)}" + (f"-ans{args.answers}" if args.answers > 1 else "")
                 + (f"-sampled{sampled}" if args.answers > 1 and sampled < len(train) else "")
                 + (f"-onpolicy{args.on_policy:g}" if args.arm == "kd" and args.on_policy else "")
                 + (f"-gen{args.max_completion}" if args.arm == "kd" and args.on_policy
                    and args.max_completion != 512 else "")
                 + (f"-ce{args.ce:g}" if args.arm == "kd" else "")
                 + (f"-freeze{args.freeze}" if args.freeze else "")
                 + ("" if args.docstrings else "-nodoc")
                 + f"-lr{args.lr:g}-ep{args.epochs:g}-seed{args.seed}"
                 + ("" if args.device == "cpu" else f"-{args.device}"))  # GPU kernels train other weights
    return model_tag, model_tag + _suffix(args) + ("-dev" if args.dev_only else ""), sampled


def tag_of(args: argparse.Namespace) -> str:
    """The name `train` with these arguments gives its results file (results/<tag>.json)."""
    out = Path(args.out)
    train, _ = _verified(out)
    return _tags(args, out, train[: args.rows] if args.rows else train)[1]


def phase_base(args: argparse.Namespace) -> None:
    """The untrained student on the dev questions and all of HumanEval (train reuses it)."""
    out = Path(args.out)
    cfg = _config(args, dtype=args.student_dtype)
    _, dev = _verified(out)
    _evaluate(cfg, open_cache(cfg), "embedded:student", out / "eval" / f"base{_suffix(args)}", dev)


def phase_train(args: argparse.Namespace) -> None:
    """Train the student on one arm's rows, evaluate before and after, compare (paired)."""
    from codistill.config import DPO, SFT
    from codistill.roles import trainable_path
    from codistill.train import sft_rows, train_dpo, train_sft

    out = Path(args.out)
    # The student's answers in its own dtype; the trained model does not depend on it, only
    # where its evaluations go (bf16 rounds away updates smaller than its resolution).
    cfg = _config(args, dtype=args.student_dtype)
    suffix = _suffix(args)
    cache = open_cache(cfg)
    train, dev = _verified(out)
    train = train[: args.rows] if args.rows else train
    model_tag, tag, sampled = _tags(args, out, train)
    console.print(f"[bold]{tag}[/]: {len(train)} training questions, {len(dev)} dev questions",
                  highlight=False)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    base = _evaluate(cfg, cache, "embedded:student", out / "eval" / f"base{suffix}", dev, not args.dev_only)
    timings["eval_base"] = time.perf_counter() - started
    if args.arm == "soda":
        return _train_soda(args, cfg, train, dev, base, out, model_tag, tag, timings)
    started = time.perf_counter()
    sft, dpo = _rows_for(args.arm, train, cfg, cache, out, args.answers, args.docstrings, args.sampled)
    timings["rows"] = time.perf_counter() - started
    epochs = args.epochs
    if args.arm == "control" and sft:  # the same number of training tokens as the teacher's rows
        teacher_tokens = _tokens(_rows_for("sft", train, cfg, cache, out, args.answers,
                                           args.docstrings, args.sampled)[0])
        epochs = args.epochs * teacher_tokens / max(_tokens(sft), 1)
    started = time.perf_counter()
    if args.arm == "kd":
        from codistill.train import train_kd

        # The dev questions' verified answers measure how close the student came to the teacher.
        dev_rows = sft_rows((t.problem, t.correct().code) for t in dev)
        result = train_kd(trainable_path("embedded:student"), trainable_path("embedded:teacher"), sft,
                          out / "train" / model_tag / "kd",
                          KD(lr=args.lr, epochs=epochs, batch_size=args.batch, grad_accum=args.accum,
                             max_length=768, max_completion_length=args.max_completion,
                             on_policy=args.on_policy,
                             freeze_layers=args.freeze, crossentropy_weight=args.ce),
                          eval_rows=dev_rows, seed=args.seed, device=args.device, progress=True)
    else:
        settings = SFT(lr=args.lr, epochs=epochs, batch_size=args.batch, grad_accum=args.accum,
                       max_length=768, freeze_layers=args.freeze)
        result = train_sft(trainable_path("embedded:student"), sft, out / "train" / model_tag / "sft",
                           settings, seed=args.seed, device=args.device, progress=False)
    model_dir, steps = result.model_dir, {"sft": result.steps}
    tokens_per_s = result.metrics.get("train_samples_per_second", 0) * _tokens(sft) / max(len(sft), 1)
    if dpo:
        d = train_dpo(model_dir, dpo, out / "train" / model_tag / "dpo",
                      DPO(lr=args.dpo_lr, beta=0.1, epochs=1, batch_size=2, grad_accum=2,
                          max_length=768), seed=args.seed, device=args.device, progress=False)
        model_dir, steps["dpo"] = d.model_dir, d.steps
    timings["train"] = time.perf_counter() - started
    started = time.perf_counter()
    after = _evaluate(cfg, cache, str(model_dir), out / "eval" / (model_tag + suffix), dev,
                      not args.dev_only)
    timings["eval_after"] = time.perf_counter() - started
    summary = {"tag": tag, "arm": args.arm, "questions": len(train), "sft_rows": len(sft),
               "answers": args.answers, "sampled_questions": sampled, "freeze": args.freeze,
               "dpo_rows": len(dpo), "docstrings": args.docstrings, "epochs": epochs,
               "student_dtype": args.student_dtype, "lr": args.lr, "seed": args.seed,
               "dev_questions": len(dev), "steps": steps, "sft_loss": result.train_loss,
               "sft_tokens_per_s": round(tokens_per_s, 1), "on_policy": args.on_policy,
               **({"max_completion": args.max_completion} if args.arm == "kd" and args.on_policy else {}),
               "kd_dev_loss": [result.metrics.get("kd_eval_loss_before"),
                               result.metrics.get("kd_eval_loss_after")],
               "seconds": {k: round(v) for k, v in timings.items()}}
    _compare_and_save(summary, base, after, out, tag)


def _train_soda(args: argparse.Namespace, cfg: RunConfig, train: list[Taught], dev: list[Taught],
                base: dict, out: Path, model_tag: str, tag: str, timings: dict[str, float]) -> None:
    """The SODA arm: one full `codistill run` cycle on the same questions, then the same evaluation."""
    from gain_soda import run_soda, soda_config, write_questions

    folder = out / "train" / model_tag
    write_questions(train, folder / "questions.jsonl")
    started = time.perf_counter()
    soda = run_soda(soda_config("soda", folder, folder / "questions.jsonl", seed=args.seed, lr=args.lr,
                                epochs=args.epochs, batch=args.batch, accum=args.accum,
                                freeze=args.freeze, dtype=DTYPE, cache=cfg.cache,
                                docstrings=args.docstrings))
    timings["cycle"] = time.perf_counter() - started
    started = time.perf_counter()
    after = _evaluate(cfg, open_cache(cfg), str(soda["model_dir"]), out / "eval" / tag.removesuffix("-dev"),
                      dev, not args.dev_only)
    timings["eval_after"] = time.perf_counter() - started
    summary = {"tag": tag, "arm": "soda", "questions": len(train), "sft_rows": soda["sft_rows"],
               "student_dtype": args.student_dtype,
               "dpo_rows": soda["dpo_rows"], "answers": 1, "freeze": args.freeze, "epochs": args.epochs,
               "lr": args.lr, "seed": args.seed, "dev_questions": len(dev), "steps": soda["steps"],
               "sft_loss": soda["sft_loss"], "teach": soda["teach"], "cycle_seconds": soda["seconds"],
               "seconds": {k: round(v) for k, v in timings.items()}}
    _compare_and_save(summary, base, after, out, tag)


def _compare_and_save(summary: dict, base: dict, after: dict, out: Path, tag: str) -> None:
    """Paired comparison per benchmark into `summary`; write results/<tag>.json and print it."""
    from codistill.evaluate.compare import compare_results

    for name in after:
        c = compare_results(base[name], after[name])
        summary[name] = {"before": c.pass1_a, "after": c.pass1_b, "p": c.wilcoxon_p,
                         "ci": [c.ci_low, c.ci_high], "won": c.wins, "lost": c.losses,
                         "tasks": c.tasks}
    path = out / "results" / f"{tag}.json"
    if path.is_file():  # a rerun finds the work done in about 0 s: keep what it cost the first time
        old = json.loads(path.read_text()).get("seconds", {})
        summary["seconds"] = {k: max(v, old.get(k, 0)) for k, v in summary["seconds"].items()}
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(summary, indent=1))
    for name in after:
        h = summary[name]
        console.print(f"[bold]{tag}[/] {name}: pass@1 {h['before']:.3f} -> {h['after']:.3f} on "
                      f"{h['tasks']} tasks (won {h['won']}, lost {h['lost']}, Wilcoxon p {h['p']}, "
                      f"95% CI [{h['ci'][0]:+.3f}, {h['ci'][1]:+.3f}])", highlight=False)
    console.print(f"seconds: {summary['seconds']}", highlight=False)


def build_parser() -> argparse.ArgumentParser:
    """The gain benchmark's command line (every phase's flags)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("phase", choices=["all", "restore", "data", "answers", "base", "train", "report",
                                          "save"])
    parser.add_argument("--store", default=str(STORE),
                        help="save/restore: the committed folder of gzipped questions and answers")
    parser.add_argument("--results", help="report: the folder of result JSON files (default: OUT/results)")
    parser.add_argument("--out", default="runs/gain")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                        help="where the models answer and train (runs on cuda are tagged -cuda)")
    parser.add_argument("--slots", type=int,
                        help="data: slots per data seed (default 2000); all: default 320, the committed pool")
    parser.add_argument("--data-seeds", type=int, default=2, help="all: data seeds written side by side")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="all: training seeds")
    parser.add_argument("--jobs", type=int, default=2,
                        help="all: phases run at once, each with one thread (this CPU: its 2 cores)")
    parser.add_argument("--chunk", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-seed", type=int, default=0)
    parser.add_argument("--source", choices=["synth", "grounded"], default="synth",
                        help="data: questions on seeded topics, or grounded in real functions "
                             "(OSS-Instruct; questions-grounded-<seed>.jsonl)")
    parser.add_argument("--grounded-from", nargs="+",
                        help="data --source grounded: modules or folders to take functions from "
                             "(default: a set of standard-library modules)")
    parser.add_argument("--arm", default="sft", choices=["sft", "sft+dpo", "control", "kd", "soda"])
    parser.add_argument("--on-policy", type=float, default=0.0,
                        help="kd: share of steps on the student's own answers (GKD's lambda)")
    parser.add_argument("--max-completion", type=int, default=512,
                        help="kd on-policy: longest answer the student writes (its sampling is most "
                             "of an on-policy step's time on a CPU)")
    parser.add_argument("--ce", type=float, default=KD_CE,
                        help="kd: weight of the cross-entropy on the teacher's answer next to the "
                             "distillation loss (train.kd.crossentropy_weight)")
    parser.add_argument("--dpo-lr", type=float, default=5e-7)
    parser.add_argument("--dev-only", action="store_true",
                        help="evaluate on the dev set only (for choosing settings; never HumanEval)")
    parser.add_argument("--rows", type=int, default=0, help="train on the first N rows (0 = all)")
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--accum", type=int, default=1)
    parser.add_argument("--sampled", type=int, default=0,
                        help="train: take sampled answers from the first N training questions only "
                             "(0 = every one sampled); the runs of sessions 3-6 are --rows 128 --sampled 80")
    parser.add_argument("--answers", type=int, default=4,
                        help="answers: teacher samples per question; train: also use the distinct "
                             "passing ones of that phase (1 = the greedy verified answer only)")
    # The defaults are the recipe frozen on the dev set (docs/gain.md): fp32 answers (bf16 alone
    # flips greedy answers), 2 epochs at 5e-5, the lower 15 layers frozen, sampled answers too,
    # no restated docstrings.
    parser.add_argument("--student-dtype", default="float32", choices=["bfloat16", "float32"],
                        help="train: dtype the student answers in, before and after (results and "
                             "evaluations get a -float32 suffix; the trained model is shared)")
    parser.add_argument("--docstrings", action=argparse.BooleanOptionalAction, default=False,
                        help="train on answers with the docstrings that repeat the question "
                             "(off by default: tags of runs without them end in -nodoc)")
    parser.add_argument("--freeze", type=int, default=15,
                        help="freeze the embeddings and this many lowest layers (CPU speed)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one phase of the gain benchmark."""
    args = build_parser().parse_args(argv)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    if args.phase == "report":
        from gain_report import phase_report  # bench/ is the script's folder, first on sys.path

        phase_report(args)
        return 0
    if args.phase == "all":
        from gain_experiment import phase_all

        phase_all(args, tag_of)
        return 0
    phases = {"data": phase_data, "base": phase_base, "answers": phase_answers, "train": phase_train,
              "save": phase_save, "restore": phase_restore}
    phases[args.phase](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
