"""The gain benchmark: does distillation make the embedded student better on all of HumanEval?

    python bench/gain.py all          # the whole experiment: every phase below, 2 at a time, 3 seeds
    python bench/gain.py restore      # a fresh machine: the committed questions and answers
    python bench/gain.py data --slots 3000 --data-seed 0   # verified teacher questions (resumable;
    python bench/gain.py data --slots 3000 --data-seed 1   #   seeds can run side by side)
    python bench/gain.py data --slots 256 --data-seed 3    # grow the pool: new seeds keep --rows N's questions
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

from gain_data import (  # bench/ is first on sys.path
    DTYPE,
    _config,
    _extra_answers,
    _read_sampled,
    _sampled_ids,
    _verified,
    phase_answers,
    phase_data,
)
from gain_store import POOL, STORE, phase_restore, phase_save
from rich.console import Console

from codistill.config import KD, RunConfig
from codistill.records import Taught
from codistill.roles import open_cache, role_generator
from codistill.sandbox import Limits

console = Console(stderr=True)
KD_CE = KD.model_fields["crossentropy_weight"].default  # kd arm: the config's default


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
    parser.add_argument("--slots", type=int, help="data: slots of this data seed (default 2000)")
    parser.add_argument("--pool", type=int, nargs="+", default=list(POOL), metavar="SLOTS",
                        help="all: slots of each data seed in order, written side by side "
                             f"(default {' '.join(map(str, POOL))}: the committed store's pool)")
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
