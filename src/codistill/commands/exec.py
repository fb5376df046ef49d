"""codistill exec FILE: run one program in the sandbox and print its verdict.

Exit status: 0 whatever the program did (its verdict is the output); 1 when codistill itself
could not run it (sandbox_error); 2 for bad input (unreadable file, unknown language);
3 when the language's toolchain (or the isolation demanded) is not installed here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from codistill.errors import UserError
from codistill.sandbox.isolation import MODES
from codistill.sandbox.types import Limits, Program, Status, Verdict

COLORS = {Status.PASSED: "green", Status.FAILED: "red", Status.COMPILE_ERROR: "magenta",
          Status.RUNTIME_ERROR: "red", Status.TIMEOUT: "yellow",
          Status.MEMORY_EXCEEDED: "yellow", Status.OUTPUT_EXCEEDED: "yellow",
          Status.ENVIRONMENT_ERROR: "cyan", Status.SANDBOX_ERROR: "bold red"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `codistill exec`."""
    from codistill.sandbox import languages

    parser.add_argument("file", help="the program's source file ('-' reads standard input)")
    parser.add_argument("--language", "-l", help="one of " + ", ".join(languages.REGISTRY)
                        + " (default: guessed from the file extension)")
    parser.add_argument("--tests", metavar="FILE",
                        help="test code in the same language (see docs/sandbox.md); for Python, "
                             "HumanEval-style code defining check(candidate)")
    parser.add_argument("--entry-point", metavar="NAME",
                        help="the function Python's check(candidate) is called with")
    parser.add_argument("--stdin", metavar="FILE", help="file fed to the program's stdin")
    parser.add_argument("--expected-stdout", metavar="FILE",
                        help="the program passes when its stdout matches this file "
                             "(trailing whitespace aside)")
    parser.add_argument("--timeout", type=float, default=Limits.timeout_s, metavar="S",
                        help=f"wall-clock limit of the run in seconds (default {Limits.timeout_s:g})")
    parser.add_argument("--memory-mb", type=int, default=Limits.memory_mb, metavar="M",
                        help=f"memory limit in MiB (default {Limits.memory_mb})")
    parser.add_argument("--isolation", choices=MODES, default="auto",
                        help="namespaces (bubblewrap), none (weaker, warns), or auto (refuses where "
                             "namespaces are unavailable unless --allow-unisolated)")
    parser.add_argument("--allow-unisolated", action="store_true",
                        help="where namespaces are unavailable, run without them (the verdict says so)")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")


def _read(path: str | None, what: str, flag: str) -> str | None:
    if path is None:
        return None
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        # Any failure to read a file the user named is theirs to fix; name the file and the flag.
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UserError(f"cannot read the {what} file {path!r}: {why}",
                        hint=f"give {flag} a readable UTF-8 text file") from None


def run(args: argparse.Namespace) -> int:
    """Run the program and print its verdict."""
    from codistill.sandbox import execute, languages

    if args.timeout <= 0 or args.memory_mb <= 0:
        raise UserError(f"--timeout and --memory-mb must be positive, got {args.timeout:g} and "
                        f"{args.memory_mb}", hint="e.g. --timeout 10 --memory-mb 1024")
    language = args.language or languages.by_extension(args.file)
    if language is None or languages.canonical(language) is None:
        what = f"unknown language {language!r}" if language else \
            f"cannot tell the language of {args.file!r} from its extension"
        raise UserError(what, hint=f"pass --language, one of: {', '.join(languages.REGISTRY)}")
    source = _read(args.file, "program", "FILE")
    tests = _read(args.tests, "tests", "--tests")
    stdin = _read(args.stdin, "stdin", "--stdin")
    expected = _read(args.expected_stdout, "expected stdout", "--expected-stdout")
    program = Program(language=languages.canonical(language), source=source or "", tests=tests,
                      entry_point=args.entry_point, stdin=stdin, expected_stdout=expected,
                      id=Path(args.file).name)
    limits = Limits(timeout_s=args.timeout, memory_mb=args.memory_mb, isolation=args.isolation,
                    allow_unisolated=args.allow_unisolated)
    verdict = execute(program, limits)
    if args.json:
        print(json.dumps(verdict.to_dict(), indent=2))
    else:
        _show(verdict)
    if verdict.status is Status.SANDBOX_ERROR:
        return 1
    if verdict.status is Status.ENVIRONMENT_ERROR and verdict.details.get("missing_toolchain"):
        return 3
    return 0


def _show(verdict: Verdict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    color = COLORS.get(verdict.status, "white")
    console.print(f"[{color}]{verdict.status}[/{color}]  {verdict.message}")
    table = Table(show_header=False, box=None, pad_edge=False)
    rows = [("exit code", verdict.exit_code), ("error type", verdict.error_type),
            ("failed test", verdict.failed_test),
            ("compile", f"{verdict.compile_s:.3f} s" + (" (cached)" if verdict.details.get(
                "cached") else "")),
            ("run", f"{verdict.run_s:.3f} s"), ("isolation", verdict.details.get("isolation"))]
    for name, value in rows:
        if value not in (None, ""):
            table.add_row(f"[dim]{name}[/dim]", str(value))
    console.print(table)
    for name, text in (("stdout", verdict.stdout), ("stderr", verdict.stderr)):
        if text.strip():
            console.rule(f"[dim]{name}[/dim]", align="left")
            console.print(text.rstrip()[-4000:], markup=False, highlight=False)
