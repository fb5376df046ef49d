"""How much more likely does training make the right answers? A low-noise view of transfer.

Greedy pass@1 moves only when a task's answer flips, so on 164 tasks small shifts are invisible
(the same untrained student in bf16 and fp32 already flips 2 tasks). This measures, for every
HumanEval task, the student's mean negative log-likelihood per token of the task's reference
solution written as the student is trained to answer (one fenced block, the question's docstring
left out), before and after training, paired. A lower NLL means the student moved toward the
right answer even where its greedy answer did not change. `--on teacher` scores the teacher's own
passing HumanEval answers instead (the same tasks, in the style the student was trained on), and
`--on dev` the dev questions' verified teacher answers (held out from training): together they
tell learning the teacher's distribution from transferring to HumanEval. Nothing is chosen on
it: HumanEval only measures.

    python bench/gain_nll.py runs/gain/train/<tag>/sft/model [more models ...]
    python bench/gain_nll.py --on dev runs/gain/train/<tag>/sft/model      # the teacher's held-out answers
    python bench/gain_nll.py --on teacher runs/gain/train/<tag>/sft/model  # its passing HumanEval answers
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console

from codistill.evaluate.benchmarks import load_benchmark
from codistill.evaluate.compare import bootstrap_ci, wilcoxon_p
from codistill.roles import trainable_path
from codistill.train import sft_rows

console = Console(stderr=True)


def reference_nll(model_dir: str, rows: list[dict]) -> np.ndarray:
    """Mean NLL per answer token of each row's completion given its prompt (fp32, CPU)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    out = []
    with torch.inference_mode():
        for row in rows:
            prompt = tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True, tokenize=True)
            full = tokenizer.apply_chat_template(row["prompt"] + row["completion"], tokenize=True)
            if isinstance(prompt, dict) or hasattr(prompt, "input_ids"):  # newer transformers
                prompt, full = prompt["input_ids"], full["input_ids"]
            ids = torch.tensor([full])
            logits = model(ids).logits[0, :-1]
            targets = ids[0, 1:]
            losses = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
            out.append(float(losses[len(prompt) - 1 :].mean()))  # the answer's tokens only
    return np.array(out)


def main(argv: list[str] | None = None) -> int:
    """Print the paired NLL change of each trained model against the untrained student."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help="trained model folders")
    parser.add_argument("--on", choices=["humaneval", "teacher", "dev"], default="humaneval",
                        help="HumanEval's reference solutions; the teacher's own passing HumanEval "
                             "answers (--teacher-eval; the same tasks in the teacher's style); or the "
                             "dev questions' verified teacher answers (held out from training)")
    parser.add_argument("--teacher-eval", type=Path, default=Path("runs/gain/eval/teacher-greedy/humaneval"),
                        help="--on teacher: the teacher's HumanEval evaluation folder (codistill eval)")
    parser.add_argument("--data", type=Path, default=Path("runs/gain"),
                        help="--on dev: the gain benchmark's folder (its question files)")
    parser.add_argument("--out", type=Path, default=Path("runs/gain/nll"),
                        help="where per-task NLLs are kept (one JSON per model and set, reused)")
    args = parser.parse_args(argv)
    if args.on == "humaneval":
        pairs = [(p, p.reference or "") for p in load_benchmark("humaneval")]
    elif args.on == "teacher":
        from codistill.evaluate.runner import read_scored
        from codistill.extract import extract_code

        by_id = {p.id: p for p in load_benchmark("humaneval")}
        scored = read_scored(args.teacher_eval / "samples.jsonl")
        if not scored:
            raise SystemExit(f"{args.teacher_eval}: no scored samples; run `codistill eval --model "
                             "embedded:teacher --benchmark humaneval --output DIR` first")
        pairs = [(by_id[tid], extract_code(s.raw, "python", prompt=by_id[tid].prompt,
                                           entry_point=by_id[tid].entry_point))
                 for (tid, _), s in sorted(scored.items()) if s.passed and tid in by_id]
    else:
        from gain_data import _verified

        pairs = [(t.problem, t.correct().code) for t in _verified(args.data)[1]]
    rows = sft_rows(pairs, docstrings=False)
    args.out.mkdir(parents=True, exist_ok=True)

    def nll(model_dir: str, name: str) -> np.ndarray:
        path = args.out / f"{name}-{args.on}.json"
        if path.is_file():
            return np.array(json.loads(path.read_text()))
        started = time.perf_counter()
        values = reference_nll(model_dir, rows)
        path.write_text(json.dumps(values.tolist()))
        console.print(f"  {name}: {time.perf_counter() - started:.0f}s", highlight=False)
        return values

    base = nll(trainable_path("embedded:student"), "base")
    console.print(f"untrained student: mean NLL {base.mean():.4f} per token on {len(base)} answers "
                  f"({args.on})", highlight=False)
    for model in args.models:
        name = Path(model).parent.parent.name if Path(model).name == "model" else Path(model).name
        after = nll(model, name)
        diff = after - base
        low, high = bootstrap_ci(diff)
        console.print(f"{name}: mean NLL {base.mean():.4f} -> {after.mean():.4f} ({diff.mean():+.4f}; "
                      f"95% CI [{low:+.4f}, {high:+.4f}]; lower on {int((diff < 0).sum())} of {len(diff)} "
                      f"tasks; Wilcoxon p {wilcoxon_p(diff):.2g})", highlight=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
