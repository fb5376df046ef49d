"""`codistill compare RUN_A RUN_B [RUN_B ...]`: is B better than A? Paired per-task statistics.

    codistill compare evals/embedded_student evals/runs_x_student --json
    codistill compare evals/base evals/seed0 evals/seed1 evals/seed2   # the mean of three seeds

Several RUN_B (e.g. the same recipe trained with different seeds) are pooled: each task's pass
rate is its mean over them, so the test and the interval are those of the mean, not of one run.

RUN_A and RUN_B are results.json files, evaluation folders, `codistill eval` output folders
holding one folder per benchmark (then every benchmark both have is compared), or `codistill run`
folders (their last finished evaluation; `RUN/cycle-0/eval` is the student before training).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

from codistill.errors import UserError
from codistill.evaluate.compare import Comparison, compare_results
from codistill.evaluate.results import RESULTS_FILE, EvalResult, pool_results

console = Console(stderr=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `codistill compare`."""
    parser.add_argument("run_a", type=Path, help="baseline: results.json or an evaluation folder")
    parser.add_argument("run_b", type=Path, nargs="+",
                        help="candidate: results.json or an evaluation folder; several are pooled "
                             "(their mean per task, e.g. training seeds)")
    parser.add_argument("--boot", type=int, default=10_000, help="bootstrap resamples (default 10000)")
    parser.add_argument("--confidence", type=float, default=0.95, help="CI level (default 0.95)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")


def collect(path: Path) -> dict[str, EvalResult]:
    """Results under a path by benchmark: a results file, a folder with one, a tree, or a run."""
    if (path / "manifest.json").is_file():  # a `codistill run` folder
        from codistill.report.compare_runs import final_results

        files = final_results(path)
        if not files:
            raise UserError(f"{path}: this run has no finished evaluation yet",
                            hint="compare RUN/cycle-0/eval (the student before training), or "
                                 "rerun `codistill run` until a cycle's evaluation finishes")
        return {name: EvalResult.load(file) for name, file in files.items()}
    if path.is_file():
        result = EvalResult.load(path)
        return {result.benchmark: result}
    if (path / RESULTS_FILE).is_file():
        result = EvalResult.load(path / RESULTS_FILE)
        return {result.benchmark: result}
    found = {}
    for file in sorted(path.glob(f"*/{RESULTS_FILE}")) if path.is_dir() else []:
        result = EvalResult.load(file)
        found[result.benchmark] = result
    if not found:
        raise UserError(f"{path}: no {RESULTS_FILE} here or one level below",
                        hint="give a results.json, an evaluation folder or a run folder "
                             "(`codistill eval --output DIR` writes one)")
    return found


def pooled(runs: list[dict[str, EvalResult]]) -> dict[str, EvalResult]:
    """One candidate from several: per benchmark all of them have, each task's samples pooled."""
    if len(runs) == 1:
        return runs[0]
    shared = [name for name in runs[0] if all(name in run for run in runs[1:])]
    if not shared:
        raise UserError("the candidates share no benchmark: "
                        + "; ".join(", ".join(run) for run in runs),
                        hint="pool only evaluations of the same benchmarks")
    return {name: pool_results([run[name] for run in runs], f"mean of {len(runs)} runs")
            for name in shared}


def sampled_comparisons(a: dict[str, EvalResult], b: dict[str, EvalResult], shared: list[str],
                        args: argparse.Namespace) -> list[Comparison]:
    """pass@k (k > 1) compared on the sampled answers, where both evaluations have them."""
    found = []
    for name in shared:
        sa, sb = a[name].sampled, b[name].sampled
        if not (sa and sb):
            continue
        ks = sorted({int(key.split("@")[1]) for key in sa["pass_at_k"]}
                    & {int(key.split("@")[1]) for key in sb["pass_at_k"]} - {1})
        for file in (sa["results"], sb["results"]):
            if not Path(file).is_file():
                raise UserError(f"{name}: the sampled answers' results {file} are gone, so "
                                "pass@k cannot be compared", hint="evaluate again with the same --n")
        for k in ks:
            found.append(compare_results(sa["results"], sb["results"], n_boot=args.boot,
                                         confidence=args.confidence, seed=args.seed, k=k))
    return found


def run(args: argparse.Namespace) -> int:
    """Compare every benchmark both runs evaluated."""
    if not 0 < args.confidence < 1:
        raise UserError(f"--confidence must be between 0 and 1, got {args.confidence}",
                        hint="e.g. --confidence 0.95")
    if args.boot < 1:
        raise UserError(f"--boot must be at least 1, got {args.boot}", hint="e.g. --boot 10000")
    a, b = collect(args.run_a), pooled([collect(path) for path in args.run_b])
    shared = [name for name in a if name in b]
    if not shared and len(a) == 1 and len(b) == 1:
        shared = [next(iter(a))]  # one result each: compare them even if names differ
        b = {shared[0]: next(iter(b.values()))}
    if not shared:
        raise UserError(f"no benchmark in both runs (A: {', '.join(a)}; B: {', '.join(b)})",
                        hint="compare evaluations of the same benchmark")
    comparisons: list[Comparison] = [
        compare_results(a[name], b[name], n_boot=args.boot, confidence=args.confidence,
                        seed=args.seed) for name in shared]
    comparisons += sampled_comparisons(a, b, shared, args)
    if args.json:
        payload = [c.to_dict() for c in comparisons]
        print(json.dumps(payload[0] if len(payload) == 1 else {"comparisons": payload}, indent=2))
        return 0
    out = Console()
    for comparison in comparisons:
        out.print(comparison.table())
        for warning in comparison.warnings:
            console.print(f"[yellow]warning: {warning}[/yellow]", highlight=False)
    return 0
