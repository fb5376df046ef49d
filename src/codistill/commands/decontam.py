"""`codistill decontam FILE`: list training rows that overlap benchmark prompts or solutions.

    codistill decontam runs/x/cycle-1/teach.jsonl --benchmarks humaneval,mbpp
    codistill decontam data.jsonl --write-clean clean.jsonl

Every string in every JSONL row is checked (5-gram Jaccard >= 0.7 by default). Exit status 1
when something matched, so the command can guard a pipeline.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from codistill.errors import UserError
from codistill.evaluate.decontam import Decontaminator, texts_of
from codistill.jsonl import iter_json, write_records

console = Console(stderr=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `codistill decontam`."""
    parser.add_argument("file", type=Path, help="a JSONL training file (any record shape)")
    parser.add_argument("--benchmarks", default="humaneval,mbpp",
                        help="benchmarks to check against, comma-separated (default humaneval,mbpp)")
    parser.add_argument("--n", type=int, default=5, help="n-gram size in words (default 5)")
    parser.add_argument("--threshold", type=float, default=0.7, help="Jaccard threshold (default 0.7)")
    parser.add_argument("--min-words", type=int, default=8,
                        help="ignore strings shorter than this many words (ids, labels)")
    parser.add_argument("--write-clean", type=Path, metavar="OUT",
                        help="write the rows without any match to OUT")
    parser.add_argument("--json", action="store_true", help="print the matches as JSON on stdout")


def run(args: argparse.Namespace) -> int:
    """Check every row; print matches; exit 1 when any row matched."""
    if args.n < 1:
        raise UserError(f"--n must be at least 1, got {args.n}", hint="e.g. --n 5 (words per n-gram)")
    if not 0 < args.threshold <= 1:
        raise UserError(f"--threshold must be in (0, 1], got {args.threshold}", hint="e.g. --threshold 0.7")
    if not args.file.is_file():
        raise UserError(f"{args.file}: no such file", hint="give the JSONL training file to check")
    rows = list(iter_json(args.file))  # a malformed line is a RecordError naming file and line
    benchmarks = [b.strip() for b in args.benchmarks.split(",") if b.strip()]
    checker = Decontaminator(benchmarks=benchmarks, n=args.n, threshold=args.threshold)
    for name, why in checker.skipped.items():
        console.print(f"[yellow]not checked against {name}: {why}[/yellow]", highlight=False)
    if checker.size == 0:
        raise UserError(f"no benchmark could be loaded from --benchmarks {args.benchmarks!r}",
                        hint="name at least one that loads here, e.g. --benchmarks humaneval")
    matches, clean = [], []
    for line, row in rows:
        found = [m for where, text in texts_of(row) if len(text.split()) >= args.min_words
                 for m in checker.matches(text, where)]
        if found:
            best = max(found, key=lambda m: m.similarity)
            matches.append({"line": line, **best.to_dict(), "count": len(found)})
        else:
            clean.append(row)
    if args.write_clean:
        write_records(args.write_clean, clean)
    if args.json:
        print(json.dumps({"file": str(args.file), "rows": len(rows), "matched": len(matches),
                          "skipped_benchmarks": checker.skipped, "matches": matches}, indent=2))
    else:
        table = Table(title=f"{args.file}: {len(matches)} of {len(rows)} rows overlap a benchmark")
        for column in ("line", "field", "benchmark", "task", "part", "similarity"):
            table.add_column(column)
        for m in matches:
            table.add_row(str(m["line"]), m["checked"], m["benchmark"], m["task_id"], m["field"],
                          f"{m['similarity']:.3f}")
        Console().print(table)
    return 1 if matches else 0
