"""Generation throughput of the embedded models through LocalGenerator, batched vs unbatched.

    python bench/generation.py                       # teacher and student, batch 1/4/8/16, 256 tokens
    python bench/generation.py --models student --batch-sizes 1 8 --tokens 64 --json out.json

Every row generates exactly --tokens new tokens (end-of-sequence is ignored, as in the reference
measurement with plain `model.generate`), greedy, from a fixed set of code prompts; batch b uses
the first b prompts. Prints new tokens/s per model and batch size and the speedup over batch 1
measured in the same run; exits 1 when batch 8 is under 5x batch 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from codistill.models import Request, Sampling, load_generator
from codistill.models.local import LocalGenerator

PROMPTS = [
    "Write a Python function that returns the n-th Fibonacci number, with a docstring and tests.",
    "Implement binary search over a sorted list in Python and explain each step in comments.",
    "Write a Python class for a least-recently-used cache with get and put methods.",
    "Write a function that checks whether a string is a palindrome, ignoring punctuation.",
    "Implement merge sort in Python with type hints and a short explanation.",
    "Write a Python function that parses a CSV line with quoted fields.",
    "Write a function that returns all prime numbers below n using a sieve.",
    "Implement a stack-based evaluator for arithmetic expressions in Python.",
    "Write a Python function that flattens an arbitrarily nested list.",
    "Write a function that converts a Roman numeral to an integer, with tests.",
    "Implement Dijkstra's shortest path algorithm in Python using heapq.",
    "Write a Python function that groups anagrams from a list of words.",
    "Write a function that validates an email address without using regular expressions.",
    "Implement a trie with insert, search and starts_with methods in Python.",
    "Write a Python function that computes the edit distance between two strings.",
    "Write a function that rotates a square matrix by 90 degrees in place.",
]
# Reference figures (plain model.generate, 2 cores, bf16, 256 new tokens, greedy) from issue 2.
REFERENCE = {
    "embedded:teacher": {1: 8.1, 8: 49.7, 16: 67.9},
    "embedded:student": {1: 18.8, 8: 98.7, 16: 123.4},
}
TARGET_SPEEDUP_AT_8 = 5.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["teacher", "student"],
                        help="embedded names/aliases or any local model spec (default: teacher student)")
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 4, 8, 16])
    parser.add_argument("--tokens", type=int, default=256, help="new tokens per row (default 256)")
    parser.add_argument("--dtype", default="auto", help="auto (bf16 where the CPU has it), bf16 or fp32")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--stop-at-eos", action="store_true",
                        help="let rows end at end-of-sequence (counts only the tokens really generated)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    return parser.parse_args(argv)


def spec_of(name: str) -> str:
    """'teacher' -> 'embedded:teacher'; a full spec passes through."""
    return name if ":" in name or "/" in name else f"embedded:{name}"


def measure(generator: LocalGenerator, batch: int, tokens: int) -> dict[str, float]:
    """Generate `tokens` new tokens for the first `batch` prompts in one call; time it."""
    generator.batch_size = batch
    requests = [Request.user(p) for p in (PROMPTS * (batch // len(PROMPTS) + 1))[:batch]]
    started = time.perf_counter()
    results = generator.generate(requests, Sampling(max_new_tokens=tokens))
    seconds = time.perf_counter() - started
    new = sum(sum(g.completion_tokens) for g in results)
    return {"batch": batch, "new_tokens": new, "seconds": seconds, "tok_per_s": new / seconds}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; exit 1 when the batch-8 speedup target is missed."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    console = Console()
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    console.print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, {_cpu_name()}, {gpu}, "
                  f"load average {os.getloadavg()[0]:.1f} at start", highlight=False)
    results: list[dict] = []
    for name in args.models:
        spec = spec_of(name)
        with console.status(f"loading {spec}"):
            generator = load_generator(spec, dtype=args.dtype, device=args.device,
                                       ignore_eos=not args.stop_at_eos)
        if not isinstance(generator, LocalGenerator):
            console.print(f"[red]{spec} is not a local model; this benchmark measures LocalGenerator[/red]")
            return 2
        dtype = generator.identity.rsplit("/", 1)[-1]
        with console.status(f"{spec}: warming up"):
            measure(generator, min(args.batch_sizes), 8)
        for batch in args.batch_sizes:
            with console.status(f"{spec}: batch {batch}, {args.tokens} new tokens per row"):
                row = {"model": spec, "dtype": dtype, **measure(generator, batch, args.tokens)}
            console.print(f"{spec} {dtype} batch {batch}: {row['tok_per_s']:.1f} tok/s", highlight=False)
            results.append(row)
        generator.close()
    ok = report(console, results)
    console.print(f"load average {os.getloadavg()[0]:.1f} at the end (the CPU is shared: figures are noisy)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if ok else 1


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def report(console: Console, results: list[dict]) -> bool:
    """Print the table of results; True when every model reaches the batch-8 speedup target."""
    table = Table(title="new tokens/s, LocalGenerator, greedy")
    for column in ("model", "batch", "seconds", "new tok/s", "vs batch 1", "reference"):
        table.add_column(column, justify="left" if column == "model" else "right")
    ok = True
    for model in dict.fromkeys(r["model"] for r in results):
        rows = [r for r in results if r["model"] == model]
        base = next((r["tok_per_s"] for r in rows if r["batch"] == 1), None)
        for r in rows:
            r["speedup"] = r["tok_per_s"] / base if base else None
            ref = REFERENCE.get(model, {}).get(r["batch"])
            table.add_row(f"{model} {r['dtype']}", str(r["batch"]), f"{r['seconds']:.1f}", f"{r['tok_per_s']:.1f}",
                          f"{r['speedup']:.2f}x" if r["speedup"] else "-", f"{ref}" if ref else "-")
        at8 = next((r["speedup"] for r in rows if r["batch"] == 8), None)
        if at8 is not None:
            met = at8 >= TARGET_SPEEDUP_AT_8
            ok &= met
            console.print(f"{model}: batch 8 is {at8:.2f}x batch 1 "
                          f"({'meets' if met else 'MISSES'} the {TARGET_SPEEDUP_AT_8:.0f}x target)", highlight=False)
    console.print(table)
    return ok


if __name__ == "__main__":
    sys.exit(main())
