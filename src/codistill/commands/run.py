"""`codistill run`: the distillation cycles from a config, resumable."""

from __future__ import annotations

import argparse

from codistill.commands._common import add_config_arguments, config_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `codistill run`."""
    add_config_arguments(parser, required=True)
    parser.add_argument("--force", action="store_true",
                        help="redo stages whose configuration changed (and every later stage)")


def run(args: argparse.Namespace) -> int:
    """Run or resume the configured distillation."""
    from codistill.stages.cycle import run_cycles

    run_cycles(config_from_args(args), force=args.force)
    return 0
