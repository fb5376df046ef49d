"""Did the student learn what it was taught? Greedy pass@1 on its own training questions, paired.

HumanEval pass@1 mixes two failures: the student did not learn the teacher's answers, or learned
them and does not carry them over to new tasks. This tells them apart: the untrained and trained
students answer the training questions themselves (the same prompts they were trained on, greedy,
fp32, the settled tests), paired task by task. A student that passes most of its training
questions after training and few HumanEval tasks needs more and more varied questions; one that
fails its own training questions did not learn them (too little training, or too small a model).

    python bench/gain_fit.py runs/gain/train/<tag>/sft/model [more models ...] [--rows N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gain import _suffix, build_parser  # noqa: E402
from gain_data import _config, _verified  # noqa: E402

from codistill.evaluate import evaluate_model  # noqa: E402
from codistill.evaluate.compare import compare_results  # noqa: E402
from codistill.roles import open_cache, role_generator  # noqa: E402
from codistill.sandbox import Limits  # noqa: E402

console = Console(stderr=True)


def main(argv: list[str] | None = None) -> int:
    """Print each trained model's pass@1 on the training questions against the untrained student's."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help="trained model folders")
    parser.add_argument("--rows", type=int, default=0, help="the first N training questions (0 = all)")
    parser.add_argument("--data", default="runs/gain", help="the gain benchmark's folder")
    args = parser.parse_args(argv)
    gain_args = build_parser().parse_args(["train", "--out", args.data])
    cfg = _config(gain_args, dtype=gain_args.student_dtype)
    cache = open_cache(cfg)
    train, _ = _verified(Path(args.data))
    problems = [t.problem for t in (train[: args.rows] if args.rows else train)]
    if not problems:
        raise SystemExit(f"{args.data}: no verified training questions; run `python bench/gain.py restore` "
                         "or the data phase first")

    def fit(spec: str, name: str):
        model = role_generator(spec, cfg, cache)
        started = time.perf_counter()
        result = evaluate_model(model, problems, out_dir=Path(args.data) / "eval" / name / f"train{len(problems)}",
                                n=1, max_new_tokens=512, limits=Limits(timeout_s=10), cache=cache,
                                progress=False)
        model.close()
        console.print(f"  {name}: {result.pass1 * len(problems):.0f}/{len(problems)} training questions "
                      f"({time.perf_counter() - started:.0f}s)", highlight=False)
        return result

    base = fit("embedded:student", f"base{_suffix(gain_args)}")  # the evaluations' folder names
    for model in args.models:
        name = Path(model).parent.parent.name if Path(model).name == "model" else Path(model).name
        c = compare_results(base, fit(model, name + _suffix(gain_args)))
        console.print(f"{name}: training questions {c.pass1_a * c.tasks:.0f} -> {c.pass1_b * c.tasks:.0f}"
                      f"/{c.tasks} (won {c.wins}, lost {c.losses}, Wilcoxon p {c.wilcoxon_p or 1:.2g})",
                      highlight=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
