"""`codistill coevolve`: Code-A1 co-evolution of a Code and a Test model (GRPO), resumable.

    codistill coevolve --config configs/demo.yaml
    codistill coevolve --config configs/demo.yaml --set coevolve.steps=8 --set models.test_model=hf:./tester
    codistill coevolve --config configs/demo.yaml --report-only
"""

from __future__ import annotations

import argparse
import json

from codistill.commands._common import add_config_arguments, config_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `codistill coevolve`."""
    add_config_arguments(parser, required=True)
    parser.add_argument("--force", action="store_true",
                        help="redo phases whose configuration changed (and every later one)")
    parser.add_argument("--report-only", action="store_true",
                        help="only rebuild runs/<name>/coevolve/report.html from what is finished")
    parser.add_argument("--no-eval", action="store_true",
                        help="skip the Code model's benchmark evaluation before and after")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars or phase lines")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")


def run(args: argparse.Namespace) -> int:
    """Run, resume or re-report one co-evolution."""
    from codistill.report.coevolve import write_report
    from codistill.stages.coevolve import coevolve
    from codistill.stages.seed_pool import load_seed_pool

    config = config_from_args(args)
    if args.report_only:
        print(write_report(config.run_dir / "coevolve"))
        return 0
    summary = coevolve(config, load_seed_pool(config), force=args.force,
                       progress=not args.no_progress, evaluate=not args.no_eval)
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        _print(summary)
    return 0


def _print(summary: dict) -> None:
    code, tests = summary["code_reward"], summary["test_reward"]
    lines = [
        f"rounds {summary['rounds']}; GRPO steps: Code model {summary['code_steps']}, "
        f"Test model {summary['test_steps']}; training {summary['train_seconds']} s",
        f"Code reward {code[0]:.3f} -> {code[-1]:.3f}" if code else "Code reward: no steps",
        f"Test reward {tests[0]:.3f} -> {tests[-1]:.3f}" if tests else "Test reward: no steps",
        f"Mistake Book {summary['mistake_book']} tests; {summary['blacklisted']} questions blacklisted",
    ]

    def by_round(key: str) -> str:
        return " -> ".join(f"{v:.3f}" for v in summary.get(key) or []) or "-"

    if summary.get("code_reward_by_round"):
        validity = summary.get("validity_mean")
        lines.insert(3, f"mean by round: Code reward {by_round('code_reward_by_round')}; Test reward "
                        f"{by_round('test_reward_by_round')}; validity {by_round('validity_by_round')}"
                        + (f" (all steps {validity:.3f})" if validity is not None else ""))
    for label, benches in summary["pass_at_1"].items():
        lines += [f"pass@1 {label} on {bench}: {value:.3f}" for bench, value in benches.items()
                  if value is not None]
    if summary["stopped"]:
        lines.append(f"stopped early: {summary['stopped']}")
    lines += [f"Code model: {summary['code_model']}", f"report: {summary['report']}"]
    print("\n".join(lines))
