"""Questions grounded in real code (OSS-Instruct): functions from installed modules or the user's
own files ground the questions, and where a function can run alone it settles their tests.

Harvest: functions are read from source files with `ast`, never imported, so a user's repository
runs nothing on the host. Two kinds qualify:

- runnable: top-level, public, undecorated, 3 to 25 lines, 1 to 4 plain parameters, returns a
  value, and self-contained: every name it reads is a parameter, a local, a builtin or a safe
  standard-library module the file imports. Those import lines travel with it
  (`GroundedFunction.imports`), so what it needs to run is part of the harvested record, not
  something the sandbox opens up for every program. The teacher is shown the code and writes its
  question (the same name and parameters, a docstring, example calls, no body); the original
  then runs on the example inputs in place of a second solution (codistill.stages.questions), so
  the tests are the real code's behaviour.
- inspiring: any other short function or method with a docstring. The teacher is shown what the
  docstring says (not the code, which a small teacher copies) and writes a new exercise on a
  related task, settled by agreement like a synth question. This is what widens the topics.

Only the example *inputs* of a teacher's reply are kept; its claimed outputs never become tests.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import importlib.util
import sys
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from codistill.data.synth import StubError, draft_question
from codistill.errors import UserError
from codistill.models.base import Request
from codistill.prompting import render
from codistill.records import Problem

# Standard-library modules a runnable function may use: computation only. Anything that reaches
# the file system, processes, the network, the clock, randomness or the interpreter's state is
# left out, so the original's output depends on its inputs alone. (Safety is the sandbox's job:
# every original runs there, like every answer.)
UNSAFE_MODULES = frozenset({
    "os", "sys", "subprocess", "socket", "shutil", "pathlib", "io", "tempfile", "glob", "signal",
    "threading", "multiprocessing", "asyncio", "ctypes", "importlib", "inspect", "gc", "builtins",
    "urllib.request", "http", "ftplib", "smtplib", "webbrowser", "pickle", "marshal", "shelve",
    "sqlite3", "logging", "warnings", "atexit", "time", "random", "secrets", "uuid", "platform",
    "locale", "getpass", "pwd", "grp", "select", "selectors", "mmap", "fcntl", "resource",
})
UNSAFE_CALLS = frozenset({"open", "input", "print", "exec", "eval", "compile", "__import__",
                          "globals", "locals", "vars", "breakpoint", "exit", "quit", "setattr",
                          "delattr", "getattr", "id", "hash", "help", "memoryview"})
# A default that gives varied, HumanEval-sized functions from the standard library alone.
DEFAULT_SOURCES = ("textwrap", "string", "fnmatch", "difflib", "heapq", "bisect", "statistics",
                   "colorsys", "html", "shlex", "calendar", "fractions", "urllib.parse", "email.utils",
                   "base64", "quopri", "functools", "ipaddress", "json", "csv", "re", "tokenize",
                   "plistlib", "pprint", "reprlib", "datetime", "collections", "configparser",
                   "argparse", "gettext", "typing", "dataclasses", "enum", "numbers", "copy")
MIN_LINES, MAX_LINES = 3, 25
MIN_NODES = 12  # syntax-tree nodes in the body of a runnable function
MAX_INSPIRING_LINES = 40  # longer code is rarely one idea
MIN_SUMMARY, MAX_SUMMARY = 20, 300  # characters of a docstring's first paragraph that inspire


class GroundingError(UserError, ValueError):
    """A source of grounded functions that cannot be read; the message says what to change."""


@dataclass(frozen=True)
class GroundedFunction:
    """One harvested function: where it came from, its code, and the imports it needs."""

    origin: str  # "module:function" or "path:function"
    name: str
    code: str  # the function's source as written
    imports: tuple[str, ...]  # the import lines it needs, from its file
    runnable: bool = False  # self-contained: its own behaviour settles the question's tests
    summary: str = ""  # the first paragraph of its docstring: what an inspired exercise is about

    @property
    def source(self) -> str:
        """A self-contained program text: its imports, then the function."""
        return "".join(f"{line}\n" for line in self.imports) + ("\n" if self.imports else "") + self.code


def _stdlib(module: str) -> bool:
    top = module.split(".")[0]
    return top in sys.stdlib_module_names and top not in UNSAFE_MODULES and module not in UNSAFE_MODULES


def _imports(tree: ast.Module) -> dict[str, str]:
    """Top-level names a file binds by importing a safe standard-library module -> the import line."""
    bound: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _stdlib(alias.name):
                    name = alias.asname or alias.name.split(".")[0]
                    bound[name] = ast.unparse(ast.Import(names=[alias]))
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level and _stdlib(node.module):
            for alias in node.names:
                if alias.name != "*":
                    bound[alias.asname or alias.name] = ast.unparse(
                        ast.ImportFrom(module=node.module, names=[alias], level=0))
    return bound


def _bound_inside(fn: ast.FunctionDef) -> set[str]:
    """Names the function binds itself: parameters, assignments, loop and comprehension targets."""
    args = fn.args
    names = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef) and node is not fn:
            names.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
    return names


def _why_not(fn: ast.FunctionDef, lines: int) -> str:
    """Why a function cannot be a grounded question ('' when it can)."""
    args = fn.args
    params = len(args.posonlyargs) + len(args.args)
    if fn.name.startswith("_") or fn.decorator_list:
        return "private_or_decorated"
    if not MIN_LINES <= lines <= MAX_LINES:
        return "size"
    if args.vararg or args.kwarg or not 1 <= params <= 4 or args.kwonlyargs:
        return "parameters"
    body = fn.body[1:] if ast.get_docstring(fn) is not None else fn.body
    nodes = [n for stmt in body for n in ast.walk(stmt)]
    if len(nodes) < MIN_NODES:
        return "trivial"  # `return a < b` teaches nothing
    if any(isinstance(n, ast.Yield | ast.YieldFrom | ast.Await | ast.Global | ast.Nonlocal
                      | ast.AsyncFunctionDef | ast.ClassDef) for n in nodes):
        return "not_a_plain_function"
    if not any(isinstance(n, ast.Return) and n.value is not None for n in nodes):
        return "returns_nothing"
    if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in UNSAFE_CALLS
           for n in nodes):
        return "unsafe_call"
    if any(isinstance(n, ast.Import) and not all(_stdlib(a.name) for a in n.names)
           or isinstance(n, ast.ImportFrom) and (n.level or not _stdlib(n.module or "")) for n in nodes):
        return "unsafe_import"
    if any(isinstance(n, ast.Attribute) and n.attr.startswith("__") for n in nodes):
        return "dunder_access"
    return ""


def _candidates(tree: ast.Module) -> Iterator[tuple[ast.FunctionDef, bool]]:
    """Top-level functions (True) and methods (False) of a module, in source order."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield node, True
        elif isinstance(node, ast.ClassDef):
            yield from ((m, False) for m in node.body if isinstance(m, ast.FunctionDef))


def functions_in(text: str, origin: str) -> Iterator[GroundedFunction]:
    """The functions of one Python source text that can ground a question (module docstring).

    A short, public function or method with a docstring can inspire one (by what its
    docstring says, not by its code); `runnable` marks those that can also settle its tests,
    being self-contained top-level functions with safe imports (with or without a docstring).
    """
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return
    imports = _imports(tree)
    known = set(dir(builtins))
    for fn, top in _candidates(tree):
        if fn.end_lineno is None or fn.name.startswith("_"):
            continue  # private helpers and dunders are plumbing; the teacher copies their names
        lines = fn.end_lineno - fn.lineno + 1
        code = ast.get_source_segment(text, fn)
        if code is None or not MIN_LINES <= lines <= MAX_INSPIRING_LINES:
            continue
        loads = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        free = loads - _bound_inside(fn) - known
        runnable = top and not _why_not(fn, lines) and free <= set(imports)
        needed = tuple(sorted({imports[name] for name in free})) if runnable else ()
        summary = " ".join((ast.get_docstring(fn) or "").split("\n\n")[0].split())[:MAX_SUMMARY]
        if not runnable and len(summary) < MIN_SUMMARY:
            continue  # nothing to be inspired by: its code alone, shown to a small teacher, is copied
        yield GroundedFunction(origin=f"{origin}:{fn.name}", name=fn.name,
                               code=textwrap.dedent(code) + "\n", imports=needed, runnable=runnable,
                               summary=summary)


def _files(source: str) -> list[tuple[Path, str]]:
    """(file, origin) pairs for a module name or a path, located without importing anything."""
    path = Path(source).expanduser()
    if path.exists():
        files = [path] if path.is_file() else sorted(
            p for p in path.rglob("*.py") if not any(part.startswith(".") for part in p.parts))
        return [(f, str(f)) for f in files]
    top, *rest = source.split(".")
    try:
        spec = importlib.util.find_spec(top)  # a top-level name: found without running it
    except (ImportError, ValueError):
        spec = None
    if spec is None or not (spec.origin or spec.submodule_search_locations):
        raise GroundingError(f"grounded source {source!r} is neither a path nor an installed module; "
                             "name a module (e.g. textwrap) or a folder of Python files")
    if spec.submodule_search_locations:
        base = Path(next(iter(spec.submodule_search_locations))).joinpath(*rest)
    else:
        base = Path(spec.origin or "")
    if base.is_dir():
        return [(f, source + "." + ".".join(f.relative_to(base).with_suffix("").parts))
                for f in sorted(base.rglob("*.py")) if "test" not in f.name]
    file = base.with_suffix(".py") if rest else base
    if not file.is_file() or file.suffix != ".py":
        raise GroundingError(f"grounded source {source!r} has no Python source file here ({file}); "
                             "compiled modules cannot be read")
    return [(file, source)]


def harvest(sources: Iterable[str]) -> list[GroundedFunction]:
    """Every qualifying function in these modules or paths, each body once, in a stable order."""
    found: dict[str, GroundedFunction] = {}
    for source in sources:
        for file, origin in _files(source):
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            for fn in functions_in(text, origin.removesuffix(".__init__")):
                found.setdefault(ast.dump(ast.parse(fn.code)), fn)  # a body copied across files once
    return list(found.values())


def slot_order(functions: list[GroundedFunction], seed: int) -> list[GroundedFunction]:
    """The functions in the seeded order slots take them (slot i: order[i % len]), so each
    function grounds one slot before any grounds a second."""
    if not functions:
        raise GroundingError("no grounded function qualified: name modules or folders with small, "
                             "self-contained functions (data.grounded_from)")
    return sorted(functions, key=lambda f: hashlib.sha256(f"{seed}:{f.origin}".encode()).digest())


def grounded_request(fn: GroundedFunction, index: int, seed: int = 0) -> Request:
    """The teacher's request for the question `fn` grounds (3 or 4 example calls).

    A runnable function asks for its own behaviour (same name and parameters, no body: the
    original settles the tests); any other asks for a new exercise on what its docstring says,
    written in full like a synth question (the writer's function is one of the settling
    solutions). Its code is not shown: a 0.5B teacher shown library code hands it back (measured:
    0 of 32 slots kept, 19 with no example at all).
    """
    examples = 3 + hashlib.sha256(f"{seed}:{index}".encode()).digest()[0] % 2
    if fn.runnable:
        return Request.user(render("grounded_question", code=fn.source, function=fn.name,
                                   examples=examples))
    return Request.user(render("grounded_inspired", where=fn.origin.rsplit("/", 1)[-1],
                               summary=fn.summary, examples=examples))


def draft_grounded(text: str, fn: GroundedFunction, problem_id: str) -> Problem:
    """A draft question from the teacher's reply to `grounded_request(fn, ...)`.

    For a runnable function the reply must keep its name (the example calls then run on the
    original), and `meta["writer_code"]` becomes the original's code, so settling compares the
    original's behaviour with the teacher's fresh answer. An inspired draft is settled like a
    synth one.
    """
    draft = draft_question(text, problem_id)
    meta = {**draft.meta, "grounded_in": fn.origin,
            "tests_by": "original" if fn.runnable else "agreement"}
    if fn.runnable:
        if draft.entry_point != fn.name:
            raise StubError("renamed")
        meta["writer_code"] = fn.source
    return draft.model_copy(update={"source": "grounded", "meta": meta})
