"""Thin command line: parse, then dispatch to one module per command in `codistill.commands`."""

from __future__ import annotations

import argparse
import importlib
import sys

from codistill import __version__

# name -> (module under codistill.commands, one-line help). Modules are imported only when
# their command runs, so `codistill --help` stays fast and a broken optional extra cannot
# break unrelated commands. Each module has `add_arguments(parser)` and `run(args) -> int`;
# `run` raises a UserError for what the user must change and `main` prints it (exit 2).
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "run the distillation cycles (SODA / AKD) from a config"),
    "eval": ("eval", "evaluate a model or a samples file on benchmarks, with pass@k"),
    "exec": ("exec", "run one program in the sandbox and print its verdict"),
    "train": ("train", "fine-tune a model (SFT or logit distillation, then DPO) on training rows"),
    "coevolve": ("coevolve", "Code-A1 co-evolution of a Code and a Test model (GRPO)"),
    "report": ("report", "rebuild a run's HTML report"),
    "models": ("models", "list, prepare and check the known models"),
    "compare": ("compare", "compare two evaluations with paired statistics"),
    "decontam": ("decontam", "check a training file for overlap with benchmarks"),
    "config": ("config", "print a config with overrides applied, validated"),
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="codistill",
        description="Distill a large code model into a small one; prove the gain by running code.",
    )
    parser.add_argument("--version", action="version", version=f"codistill {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `codistill` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0] not in COMMANDS:
        parser.parse_args(argv)  # prints help/version or the usage error and exits
        parser.print_help()
        return 2
    name, rest = argv[0], argv[1:]
    module = importlib.import_module(f"codistill.commands.{COMMANDS[name][0]}")
    sub = argparse.ArgumentParser(prog=f"codistill {name}", description=COMMANDS[name][1])
    module.add_arguments(sub)
    args = sub.parse_args(rest)
    from codistill.commands._common import friendly

    try:
        # The one error boundary: a command raises a UserError and this prints it as one line.
        return int(friendly(lambda: module.run(args)) or 0)
    except KeyboardInterrupt:
        print("interrupted; finished work is saved, rerun the same command to resume",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
