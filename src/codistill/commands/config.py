"""`codistill config`: print the validated configuration with overrides applied."""

from __future__ import annotations

import argparse

import yaml

from codistill.commands._common import add_config_arguments, config_from_args
from codistill.config import dump_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `codistill config`."""
    add_config_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Print the effective config as YAML (an invalid one raises a ConfigError naming the key)."""
    print(yaml.safe_dump(dump_config(config_from_args(args)), sort_keys=False), end="")
    return 0
