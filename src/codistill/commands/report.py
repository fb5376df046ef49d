"""`codistill report RUN`: rebuild a run's HTML report from its folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from codistill.commands._common import friendly


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `codistill report`."""
    parser.add_argument("run", help="run folder, or a run name under --runs")
    parser.add_argument("--runs", default="runs", help="parent folder of named runs")


def resolve_run(name: str, runs: str = "runs") -> Path:
    """A run folder from a path or a name."""
    path = Path(name)
    if (path / "manifest.json").is_file():
        return path
    if (Path(runs) / name / "manifest.json").is_file():
        return Path(runs) / name
    raise FileNotFoundError(f"no run folder {name!r} (looked for {path}/manifest.json and "
                            f"{Path(runs) / name}/manifest.json)")


def run(args: argparse.Namespace) -> int:
    """Rebuild the report(s) and print where they are."""

    def go() -> int:
        from codistill.report import build_report

        root = resolve_run(args.run, args.runs)
        print(build_report(root))
        if (root / "coevolve").is_dir():
            from codistill.report.coevolve import write_report as build_coevolve

            print(build_coevolve(root))
        return 0

    return int(friendly(go))
