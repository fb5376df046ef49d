"""Helpers shared by commands: config options and turning known errors into clear exits."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TypeVar

from codistill.config import ConfigError, RunConfig, load_config

T = TypeVar("T")


def add_config_arguments(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    """--config FILE and repeatable --set key=value."""
    parser.add_argument("--config", "-c", required=required, metavar="FILE",
                        help="YAML run configuration (e.g. configs/demo.yaml)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a config value, e.g. train.sft.lr=1e-5")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The validated config named by --config/--set."""
    return load_config(args.config, args.overrides)


def friendly(action: Callable[[], T]) -> T | int:
    """Run `action`; known user-facing errors print one clear message and give exit code 2."""
    from codistill.jsonl import RecordError
    from codistill.models.base import ModelError
    from codistill.store import RunLockedError, StaleStageError

    try:
        return action()
    except (ConfigError, StaleStageError, RunLockedError, RecordError, ModelError,
            FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
