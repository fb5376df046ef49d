"""`codistill report RUN [RUN ...]`: rebuild a run's HTML report, or compare several runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from codistill.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `codistill report`."""
    parser.add_argument("runs", nargs="+", metavar="RUN",
                        help="run folder(s) or run name(s) under --runs; several are compared "
                             "(the first is the baseline)")
    parser.add_argument("--runs", dest="parent", default="runs", help="parent folder of named runs")
    parser.add_argument("--output", "-o", default=None,
                        help="comparison page path (default: compare-<names>.html beside the first run)")


def resolve_run(name: str, runs: str = "runs") -> Path:
    """A run folder from a path or a name."""
    path = Path(name)
    if (path / "manifest.json").is_file():
        return path
    if (Path(runs) / name / "manifest.json").is_file():
        return Path(runs) / name
    raise UserError(f"no run folder {name!r} (looked for {path}/manifest.json and "
                    f"{Path(runs) / name}/manifest.json)",
                    hint="give a run folder, or a run's name with --runs set to the folder holding it")


def run(args: argparse.Namespace) -> int:
    """Rebuild each run's report(s); with several runs, also a comparison page."""
    from codistill.report import build_report
    from codistill.report.compare_runs import build_comparison

    roots = [resolve_run(name, args.parent) for name in args.runs]
    for root in roots:
        print(build_report(root))
        if (root / "coevolve").is_dir():
            from codistill.report.coevolve import write_report

            print(write_report(root))
    if len(roots) > 1:
        name = f"compare-{'-vs-'.join(r.name for r in roots)}.html"
        out = args.output or roots[0].parent / name
        print(build_comparison(roots, out))
    return 0
