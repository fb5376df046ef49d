"""Helpers shared by commands: config options and turning known errors into clear exits."""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Callable
from typing import TypeVar

from codistill.config import RunConfig, load_config
from codistill.errors import UserError

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


# Errors of the storage rather than of the program: the user fixes them, a traceback helps no one.
FULL, READ_ONLY = ("write", "free some space"), ("write", "make it writable")
STORAGE_ERRORS = {errno.ENOSPC: FULL, errno.EDQUOT: FULL, errno.EFBIG: FULL,
                  errno.EROFS: READ_ONLY, errno.EACCES: ("use", "check its permissions"),
                  errno.EPERM: ("use", "check its permissions"), errno.EIO: ("use", "check the disk")}


def storage_message(exc: OSError) -> str | None:
    """One line naming the file a full, read-only or failing disk refused, or None."""
    if (found := STORAGE_ERRORS.get(exc.errno or 0)) is None:
        return None
    verb, fix = found
    where = f" {exc.filename}" if exc.filename else ""
    return (f"cannot {verb}{where}: {exc.strerror or exc}; {fix} (or set output_dir/cache to "
            "another disk) and rerun the same command: finished work is kept")


def one_line(text: str) -> str:
    """`text` on one line: later lines joined by '; ' (or a space after a line ending in ':')."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    joined = lines[0] if lines else ""
    for line in lines[1:]:
        joined += (" " if joined.endswith(":") else "; ") + line
    return joined


def friendly(action: Callable[[], T]) -> T | int:
    """Run `action`; a user error prints `error: <message; hint>` on one line and gives exit 2.

    The CLI runs every command through this, so commands raise and never print their errors.
    Anything that is not a user error is a bug and keeps its traceback.
    """
    try:
        return action()
    except Exception as exc:
        if isinstance(exc, UserError | FileNotFoundError):
            message = str(exc)
        elif not isinstance(exc, OSError) or (message := storage_message(exc)) is None:
            raise
        print(f"error: {one_line(message)}", file=sys.stderr)
        return 2
