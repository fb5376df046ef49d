"""Carry the gain benchmark's costly inputs across machines: save them to docs/, restore them.

A run folder does not survive a fresh machine, and the teacher's questions and sampled answers
cost CPU hours. `save` copies them and every evaluation's scored answers gzipped into a folder
that is committed; `restore` puts them back where the phases resume from and where the report
reads them. A restored evaluation is reused only by the same weights: its settings name the
model's content hash, and the evaluation refuses to mix answers of other weights into it.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
from pathlib import Path

from rich.console import Console

console = Console(stderr=True)
STORE = Path("docs/results/gain/store")
EVAL_FILES = ("eval.json", "samples.jsonl", "results.json")  # what an evaluation resumes and reports from
# Slots of data seeds 0 to 4 in the store (a line each). `all` writes this pool by default, so a
# machine without the store rebuilds the same questions; grow it with the store (docs/gain.md).
POOL = (384, 496, 240, 96, 96)
# The teacher's dtype for each data seed's questions and their sampled answers; bf16 unless named.
# Seeds 3 and up were written on an AVX2 CPU without bf16 instructions, where a bf16 matmul ran 60x
# slower than fp32 (7 ms vs 428 ms for 32x896 @ 896x4864 on one thread); bf16 and fp32 greedy
# answers differ, so a seed's dtype is part of its data and is kept with the pool.
TEACHER_DTYPES = {3: "float32", 4: "float32"}


def stored_files(out: Path) -> list[Path]:
    """The files under `out` worth carrying: the questions and every evaluation's answers and scores."""
    found = sorted(out.glob("questions-*.jsonl"))
    if (out / "eval").is_dir():
        found += sorted(p for p in (out / "eval").rglob("*") if p.name in EVAL_FILES)
    return found


def phase_save(args: argparse.Namespace) -> None:
    """Gzip every stored file of OUT into the store (replacing older copies)."""
    out, store = Path(args.out), Path(args.store)
    files = stored_files(out)
    if not files:
        raise SystemExit(f"nothing to save in {out}: run the data phase first (or pass --out)")
    for path in files:
        target = store / path.relative_to(out)
        target = target.with_name(target.name + ".gz")
        target.parent.mkdir(parents=True, exist_ok=True)
        # mtime 0: unchanged data gives an unchanged file, so git sees no change.
        with path.open("rb") as src, target.open("wb") as raw, \
                gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as dst:
            shutil.copyfileobj(src, dst)
    console.print(f"saved {len(files)} files from {out} to {store}", highlight=False)


def phase_restore(args: argparse.Namespace) -> None:
    """Unpack the store into OUT; a file already there is kept when it is at least as long."""
    out, store = Path(args.out), Path(args.store)
    packed = sorted(store.rglob("*.gz")) if store.is_dir() else []
    if not packed:
        raise SystemExit(f"{store} holds no saved files: run `python bench/gain.py save` where the data is")
    restored = 0
    for path in packed:
        target = out / path.relative_to(store).with_suffix("")
        with gzip.open(path, "rb") as src:
            data = src.read()
        # Resumable phases only append: a longer local file holds newer work than the store.
        if target.exists() and target.stat().st_size >= len(data):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        restored += 1
    console.print(f"restored {restored} of {len(packed)} files from {store} into {out}", highlight=False)
