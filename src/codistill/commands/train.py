"""`codistill train`: SFT, then DPO, on exported TRL-format files.

    codistill train --sft sft.jsonl --dpo dpo.jsonl --model embedded:student --output out/
    codistill train --sft sft.jsonl --model ./my-model --output out/ --config configs/demo.yaml \\
        --set train.sft.lr=1e-5 --set train.lora.enabled=true
    codistill train --sft sft.jsonl --output out/ --set train.kd.enabled=true --teacher embedded:teacher
    codistill train --sft sft.jsonl --output out/ --set train.kd.enabled=true --teacher openai:http://h:8000/v1#qwen
    accelerate launch --config_file configs/accelerate/multi_gpu.yaml -m codistill.train \\
        --sft sft.jsonl --model hf:Qwen/Qwen2.5-Coder-1.5B-Instruct --output out/ --config configs/paper.yaml

Rerunning the same command resumes from the last checkpoint, or returns at once when finished.
The trained model is a plain transformers folder: out/dpo/model (or out/sft/model without --dpo).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from codistill.config import load_config

console = Console(stderr=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `codistill train`."""
    parser.add_argument("--sft", type=Path, metavar="FILE", help="SFT rows (TRL prompt/completion JSONL)")
    parser.add_argument("--dpo", type=Path, metavar="FILE", help="DPO rows (TRL prompt/chosen/rejected JSONL)")
    parser.add_argument("--model", help="model to train: a folder, hf:<id> or embedded:<name> "
                                        "(default: the config's models.student)")
    parser.add_argument("--teacher", help="teacher for logit distillation (train.kd.enabled): a folder, "
                                          "hf:<id>, embedded:<name> or an openai:<url>#<model> endpoint that "
                                          "returns prompt logprobs (default: the config's models.teacher)")
    parser.add_argument("--output", type=Path, required=True, help="folder for checkpoints and the models")
    parser.add_argument("--config", type=Path, help="run config (YAML); settings come from its train section")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. train.sft.lr=1e-5 (repeatable)")
    parser.add_argument("--device", help="auto, cpu or cuda (default: the config's models.device)")
    parser.add_argument("--max-steps", type=int, help="stop each training after this many steps (smoke tests)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")


def run(args: argparse.Namespace) -> int:
    """Train, then print where the model is and what training did."""
    from codistill.train.common import TrainError, is_main_process
    from codistill.train.launch import train_files

    config = load_config(args.config, args.set)
    if args.max_steps is not None and args.max_steps < 1:
        raise TrainError(f"--max-steps must be >= 1, got {args.max_steps}", hint="e.g. --max-steps 1")
    results = train_files(config, args.output, model=args.model, sft_file=args.sft, dpo_file=args.dpo,
                          device=args.device, max_steps=args.max_steps, progress=not args.no_progress,
                          teacher=args.teacher)
    if not is_main_process():
        return 0
    if args.json:
        print(json.dumps({kind: r.to_dict() for kind, r in results.items()}))
        return 0
    table = Table(title="codistill train")
    for column in ("stage", "steps", "train loss", "seconds", "note"):
        table.add_column(column)
    for kind, r in results.items():
        note = "already trained" if r.reused else (f"resumed from {Path(r.resumed_from).name}" if r.resumed_from else "")
        loss = f"{r.train_loss:.4f}" if r.train_loss is not None else "-"
        table.add_row(kind, str(r.steps), loss, f"{r.seconds:.1f}", note)
    console.print(table)
    final = list(results.values())[-1].model_dir
    console.print(f"model: {final}", highlight=False)
    return 0
