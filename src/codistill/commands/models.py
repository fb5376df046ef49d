"""`codistill models list|prepare|check|serve`: the known models, their setup and a server."""

from __future__ import annotations

import argparse
import os
import sys
import time

from rich.console import Console
from rich.table import Table

from codistill.models import embedded
from codistill.models.base import ModelError, Request, Sampling
from codistill.models.spec import load_generator, parse_spec

console = Console(stderr=True)
out = Console()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Subcommands list, prepare, check and serve."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="show every known model, where it lives and whether it is verified")
    ls.add_argument("--no-hash", action="store_true", help="skip hashing the source files (faster)")
    prep = sub.add_parser("prepare", help="assemble, verify and convert embedded models (once)")
    prep.add_argument("names", nargs="*", help="embedded names or aliases (default: all)")
    check = sub.add_parser("check", help="load models, generate a few tokens, print tokens/s")
    check.add_argument("names", nargs="*", help="embedded names or any model spec (default: all embedded)")
    check.add_argument("--tokens", type=int, default=32, help="new tokens to generate (default 32)")
    check.add_argument("--prompt", default="Write a Python function that returns the square of x.")
    _load_options(check)
    serve = sub.add_parser("serve", help="serve a model over an OpenAI-compatible HTTP API")
    serve.add_argument("spec", help="model spec, e.g. embedded:teacher (see docs/models.md)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--name", action="append", dest="names", metavar="NAME",
                       help="model name clients ask for (repeatable; default: the spec)")
    serve.add_argument("--api-key-env", metavar="VAR",
                       help="require 'Authorization: Bearer $VAR' on every request")
    serve.add_argument("--max-batch", type=int, default=32, help="most requests per generate call")
    serve.add_argument("--batch-wait", type=float, default=0.02,
                       help="seconds to wait for more requests to batch together (default 0.02)")
    serve.add_argument("--default-max-tokens", type=int, default=512,
                       help="max_tokens when a request gives none (default 512)")
    serve.add_argument("--inject-failures", default="", metavar="SPEC",
                       help="for testing clients: '429:0.1,500:0.05' fails those fractions of requests; "
                            "'429,500' fails the first requests with those statuses")
    serve.add_argument("--delay", type=float, default=0.0, help="for testing: seconds to wait per request")
    serve.add_argument("--verbose", action="store_true", help="log every request")
    _load_options(serve)


def _load_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dtype", default="auto", help="auto, bf16, fp16 or fp32 (local models)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (local models)")
    parser.add_argument("--batch-size", type=int, default=8, help="rows per forward pass (local models)")


def run(args: argparse.Namespace) -> int:
    """Dispatch to the chosen action; exit 1 when a model named in `prepare` or `check` failed."""
    return {"list": _list, "prepare": _prepare, "check": _check, "serve": _serve}[args.action](args)


def _names(names: list[str]) -> list[embedded.EmbeddedModel]:
    return [embedded.get(n) for n in names] if names else list(embedded.EMBEDDED.values())


def _list(args: argparse.Namespace) -> int:
    table = Table(title="embedded models: spec embedded:<name> or embedded:<role>")
    for column in ("name", "role", "from wheels", "size", "verified", "converted"):
        table.add_column(column, overflow="fold")
    where = []
    for model in embedded.EMBEDDED.values():
        parts = embedded.locate(model)
        if args.no_hash:
            verified = "not-installed" if parts is None else "unchecked"
        else:
            with console.status(f"hashing {model.name} source files"):
                verified = embedded.verify(model).status
        converted = embedded.is_converted(model)
        colour = {"verified": "green", "mismatch": "red", "not-installed": "yellow"}.get(verified, "")
        table.add_row(model.name, model.role, model.wheels, f"{model.size / 1e6:.0f} MB",
                      f"[{colour}]{verified}[/{colour}]" if colour else verified, "yes" if converted else "no")
        source = parts[0].parent if parts else "not installed"
        where.append(f"{model.name}: {model.folder if converted else '(not converted yet)'}; source {source}")
    out.print(table)
    for line in where:
        out.print(line, highlight=False, soft_wrap=True)
    out.print("any hf:<hub id>, local folder or openai:<url>#<model> spec works too (docs/models.md)")
    out.print(f"converted models live in {embedded.paths.models_dir()} "
              "(set CODISTILL_MODELS or CODISTILL_HOME to move them)", highlight=False, soft_wrap=True)
    return 0


def _prepare(args: argparse.Namespace) -> int:
    failed = 0
    for model in _names(args.names):
        try:
            with console.status(f"preparing {model.name}") as status:
                name = model.name
                folder = embedded.prepare(model, log=lambda msg, n=name: status.update(f"{n}: {msg}"))
            out.print(f"[green]ok[/green] {model.name}: {folder}", highlight=False)
        except ModelError as exc:
            console.print(f"[red]failed[/red] {model.name}: {exc}", highlight=False)
            failed += 1
    return 1 if failed else 0


def _check(args: argparse.Namespace) -> int:
    specs = []
    for name in args.names or [m.spec for m in embedded.EMBEDDED.values()]:
        try:
            specs.append(embedded.get(name).spec)
        except ModelError:
            specs.append(name)  # any model spec
    table = Table(title="model check")
    for column in ("spec", "load s", "new tokens", "tok/s", "text"):
        table.add_column(column, overflow="fold")
    lines, failed = [], 0
    sampling = Sampling(max_new_tokens=args.tokens)
    for spec in specs:
        try:
            parse_spec(spec)
            with console.status(f"loading {spec}"):
                started = time.perf_counter()
                generator = load_generator(spec, dtype=args.dtype, device=args.device, batch_size=args.batch_size)
                loaded = time.perf_counter() - started
            with console.status(f"generating with {spec}"), generator:
                started = time.perf_counter()
                [gen] = generator.generate([Request.user(args.prompt)], sampling)
                seconds = time.perf_counter() - started
            tokens = sum(gen.completion_tokens)
            if not gen.text.strip():
                raise ModelError(f"{spec} generated only whitespace")
            rate = tokens / seconds if seconds > 0 else float("inf")
            table.add_row(spec, f"{loaded:.1f}", str(tokens), f"{rate:.1f}", gen.text[:60].replace("\n", "⏎"))
            lines.append(f"[green]ok[/green] {generator.identity}: {tokens} tokens in {seconds:.2f} s "
                         f"({rate:.1f} tok/s): {gen.text[:60]!r}")
        except ModelError as exc:  # SpecError too: one bad spec is a FAILED row, the others still run
            failed += 1
            table.add_row(spec, "-", "-", "-", "[red]FAILED[/red]")
            lines.append(f"[red]FAILED[/red] {spec}: {exc}")
    out.print(table)
    for line in lines:
        out.print(line, highlight=False, soft_wrap=True)
    return 1 if failed else 0


def _serve(args: argparse.Namespace) -> int:
    from codistill.models.server import Failures, OpenAIServer

    spec = parse_spec(args.spec)
    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env)
        if not api_key:
            raise ModelError(f"--api-key-env {args.api_key_env}: that environment variable is empty or unset",
                             hint=f"export {args.api_key_env}=<key> first, or leave --api-key-env out")
    try:
        failures = Failures.parse(args.inject_failures)
    except ValueError as exc:
        raise ModelError(f"--inject-failures: {exc}", hint="e.g. --inject-failures 429:0.1,500:0.05") from None
    names = args.names or [spec.raw] + ([spec.target] if spec.kind == "embedded" and spec.target != spec.raw else [])
    with console.status(f"loading {spec}"):
        generator = load_generator(spec, dtype=args.dtype, device=args.device, batch_size=args.batch_size)
    try:
        server = OpenAIServer(generator, names, host=args.host, port=args.port, api_key=api_key,
                              failures=failures, delay=args.delay, default_max_tokens=args.default_max_tokens,
                              max_batch=args.max_batch, batch_wait=args.batch_wait, verbose=args.verbose)
    except OSError as exc:
        raise ModelError(f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc})",
                         hint="choose another --port (0 picks a free one)") from None
    out.print(f"serving {generator.identity} at {server.url} as {', '.join(names)}",
              highlight=False, soft_wrap=True)
    out.print(f"use it as the model spec openai:{server.url}#{names[0]}", highlight=False, soft_wrap=True)
    sys.stdout.flush()  # whoever started us may be waiting for the URL on a pipe
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        out.print("stopped")
    finally:
        server.close()
        generator.close()
    return 0
