"""Practice questions written by the teacher at its own level, with tests taken from its examples.

The teacher is asked for a function stub: a signature and a docstring with doctest examples, no
body. The examples become the question's tests. Nothing here decides whether they are right: a
question is only used once an independent teacher answer (written later, in the teach stage,
without seeing any solution) passes them, so the tests and the solution must agree by execution.
Stubs that do not parse, have too few examples, repeat another stub, or overlap a benchmark are
dropped here, each with its reason.
"""

from __future__ import annotations

import ast
import doctest
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from codistill.extract import fenced_blocks, python_definitions
from codistill.models.base import Generator, Request, Sampling
from codistill.prompting import render
from codistill.records import Problem

# Topic and data hints only steer variety; the teacher chooses the task itself.
TOPICS = (
    "string manipulation", "counting characters", "palindromes", "vowels and consonants",
    "word frequencies", "parsing numbers from text", "prime numbers", "divisors and factors",
    "digits of a number", "greatest common divisor", "fibonacci-like sequences", "sums and products",
    "running totals", "minimum and maximum", "sorting", "searching", "removing duplicates",
    "merging sequences", "filtering items", "grouping items", "pairs with a property",
    "sliding windows", "matrix operations", "grid walking", "dates and times given as numbers",
    "unit conversion", "geometry with integers", "binary representation", "bit counting",
    "roman numerals", "caesar ciphers", "run-length encoding", "brackets and balance",
    "anagrams", "set operations", "dictionary lookups", "inventory bookkeeping", "grades and scores",
    "temperatures", "prices and discounts", "interest and growth", "averages and medians",
    "rounding", "intervals", "ranges of integers", "counting steps", "simulation of a simple game",
    "string formatting", "camel case and snake case", "splitting and joining", "list rotation",
    "nested lists", "flattening", "indexing and slicing", "stack operations", "queues",
    "recursion", "combinatorics with small numbers", "powers and roots", "even and odd numbers",
)
DATA = (
    "a list of integers", "a string", "two strings", "a list of strings", "a positive integer",
    "two integers", "a list of floats", "a dictionary", "a list of tuples", "a list of lists",
    "a string and an integer", "a list of integers and a target integer",
)
FORBIDDEN_IMPORTS = re.compile(r"^\s*(import|from)\s+(os|sys|subprocess|socket|shutil|pathlib)\b",
                               re.MULTILINE)


@dataclass
class SynthStats:
    """What happened to the teacher's stubs: kept, or dropped and why."""

    counts: dict[str, int] = field(default_factory=dict)
    tokens: int = 0

    def add(self, key: str) -> None:
        """Count one outcome."""
        self.counts[key] = self.counts.get(key, 0) + 1


def slot_request(index: int, seed: int) -> Request:
    """The request for stub number `index`: a seeded topic, kind of data and number of examples."""
    digest = hashlib.sha256(f"{seed}:{index}".encode()).digest()
    topic = TOPICS[int.from_bytes(digest[:4], "big") % len(TOPICS)]
    data = DATA[int.from_bytes(digest[4:8], "big") % len(DATA)]
    examples = 3 + digest[8] % 2
    return Request.user(render("synth_question", topic=topic, data=data, examples=examples))


class StubError(ValueError):
    """A teacher reply that cannot be used as a question; the message says why."""


def _parse(code: str) -> tuple[str, ast.Module]:
    """The code (cut to its longest parseable prefix when the reply was cut off) and its tree."""
    try:
        return code, ast.parse(code)
    except SyntaxError:
        pass
    lines = code.splitlines()
    for end in range(len(lines) - 1, 0, -1):
        prefix = "\n".join(lines[:end]) + "\n"
        try:
            return prefix, ast.parse(prefix)
        except SyntaxError:
            continue
    raise StubError("unparseable")


def _pair(call: str, want: str | None) -> tuple[str, str] | None:
    """(call, expected) from `f(x)` + `want`, or from `f(x) == want` written as one expression."""
    call = call.strip()
    if want is None or not want.strip():
        try:
            node = ast.parse(call, mode="eval").body
        except SyntaxError:
            return None
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1
                and isinstance(node.ops[0], ast.Eq)):
            return None
        call, want = ast.unparse(node.left), ast.unparse(node.comparators[0])
    want = want.strip()
    try:
        ast.literal_eval(want)
        if not isinstance(ast.parse(call, mode="eval").body, ast.Call):
            return None
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return call, want


def _doctest_pairs(text: str) -> list[tuple[str, str]]:
    try:
        examples = doctest.DocTestParser().get_examples(text)
    except ValueError:
        return []
    return [pair for ex in examples
            if "\n" not in ex.source.strip() and (pair := _pair(ex.source, ex.want or None))]


def harvest_examples(code: str, tree: ast.Module) -> list[tuple[str, str]]:
    """Every (call, expected) a reply states: doctest lines in docstrings or comments, and
    `assert f(...) == value` lines anywhere (a check function, the top level)."""
    pairs: list[tuple[str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and (doc := ast.get_docstring(node)):
            pairs += _doctest_pairs(doc)
        if isinstance(node, ast.Assert) and (pair := _pair(ast.unparse(node.test), None)):
            pairs.append(pair)
    comments = "\n".join(re.sub(r"^\s*#\s?", "", line) for line in code.splitlines()
                         if line.lstrip().startswith("#"))
    pairs += _doctest_pairs(comments)
    for match in _PRINTED.finditer(code):  # print(f(x))  # Should return 3
        if pair := _pair(match.group("call"), match.group("want")):
            pairs.append(pair)
    return list(dict.fromkeys(pairs))


_PRINTED = re.compile(r"^print\((?P<call>\w+\(.*\))\)\s*#\s*(?:should (?:return|be|print)|"
                      r"expected(?: output)?|output|returns?|->|=>)\s*:?\s*(?P<want>.+?)\s*$",
                      re.MULTILINE | re.IGNORECASE)


def _helpers(node: ast.FunctionDef, funcs: dict[str, ast.FunctionDef]) -> list[str]:
    """Other functions of the reply that the entry function calls (test drivers are not)."""
    called = {n.func.id for n in ast.walk(node)
              if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return [name for name in funcs if name != node.name and name in called]


def _called(call: str) -> str:
    func = ast.parse(call, mode="eval").body.func  # type: ignore[attr-defined]
    return func.id if isinstance(func, ast.Name) else ""


def stub_to_problem(text: str, problem_id: str, *, min_examples: int = 2) -> Problem:
    """A Problem from a teacher's function reply: its signature and docstring become the prompt,
    the examples it states become the tests, and its body is kept aside (`meta["writer_code"]`)
    as one candidate; raises StubError with a one-word reason."""
    blocks = [b for b in fenced_blocks(text) if b[0] in ("python", "py", "python3", "")]
    if not blocks:
        raise StubError("no_code_block")
    code = blocks[0][1]
    if FORBIDDEN_IMPORTS.search(code):
        raise StubError("system_import")
    code, tree = _parse(code)
    funcs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    examples = [(c, w) for c, w in harvest_examples(code, tree) if _called(c) in funcs]
    if not examples:
        raise StubError("no_examples")
    name = max(funcs, key=lambda f: sum(_called(c) == f for c, _ in examples))
    examples = [(c, w) for c, w in examples if _called(c) == name][:8]
    if len(examples) < min_examples:
        raise StubError("too_few_examples")
    node = funcs[name]
    if _helpers(node, funcs):
        raise StubError("helper_functions")  # the prompt would have to show them
    doc = ast.get_docstring(node) or ""
    description = doc.split(">>>")[0].strip()
    if len(description) < 20:
        raise StubError("no_description")
    if ">>>" not in doc:  # show two examples, as a benchmark prompt does
        doc = doc.rstrip() + "\n\nExamples:\n" + "".join(f">>> {c}\n{w}\n" for c, w in examples[:2])
    imports = [ast.unparse(n) for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    signature = ast.FunctionDef(name=node.name, args=node.args, body=[ast.Expr(ast.Constant(doc))],
                                decorator_list=[], returns=node.returns, type_params=[],
                                lineno=node.lineno)
    prompt = ("\n".join(imports) + "\n\n\n" if imports else "") + _with_indented_doc(
        ast.unparse(ast.fix_missing_locations(signature)))
    tests = "def check(candidate):\n" + "".join(
        f"    assert candidate({call[len(name) + 1:]} == {want}\n" for call, want in examples)
    return Problem(id=problem_id, language="python", question=description, prompt=prompt,
                   entry_point=name, tests=tests, source="synth",
                   meta={"tests_by": "teacher-examples", "examples": len(examples),
                         "writer_code": python_definitions(code)})


def _with_indented_doc(source: str) -> str:
    """ast.unparse writes docstring lines flush left with the closing quotes on the last one;
    indent them and close on a line of their own, as a human-written prompt does."""
    head, *body = source.splitlines()
    text = "\n".join(body).strip()
    quote = text[:3]
    inner = text[3:-3].strip("\n")
    lines = ["    " + ln.strip() if ln.strip() else "" for ln in inner.splitlines()]
    return "\n".join([head, "    " + quote + lines[0].strip(), *lines[1:], "    " + quote]) + "\n"


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def synthesize(teacher: Generator, count: int, *, seed: int, sampling: Sampling,
               done: Sequence[str] = (), batch_size: int = 32,
               on_batch: Callable[[list[tuple[int, Problem | None, str, str]]], None] | None = None,
               ) -> SynthStats:
    """Ask the teacher for `count` stubs (slots not in `done`), in batches; report each batch.

    `on_batch` receives (slot, problem or None, reason, raw reply) per slot, so the caller
    writes them as they come and a killed run resumes at the next batch.
    """
    stats = SynthStats()
    finished = set(done)
    todo = [i for i in range(count) if f"synth-{seed}-{i}" not in finished]
    for start in range(0, len(todo), batch_size):
        slots = todo[start : start + batch_size]
        gens = teacher.generate([slot_request(i, seed) for i in slots], sampling)
        batch = []
        for i, gen in zip(slots, gens, strict=True):
            stats.tokens += sum(gen.completion_tokens or [0])
            try:
                problem: Problem | None = stub_to_problem(gen.text, f"synth-{seed}-{i}")
                reason = "parsed"
            except StubError as exc:
                problem, reason = None, str(exc)
            stats.add(reason)
            batch.append((i, problem, reason, gen.text))
        if on_batch:
            on_batch(batch)
    return stats


def dedupe(problems: Iterable[Problem]) -> tuple[list[Problem], int]:
    """Problems with a repeated function name or description removed (first kept), and the count dropped."""
    seen: set[str] = set()
    kept, dropped = [], 0
    for p in problems:
        keys = {f"name:{p.entry_point}", f"doc:{_norm(p.question)}"}
        if keys & seen:
            dropped += 1
            continue
        seen |= keys
        kept.append(p)
    return kept, dropped
