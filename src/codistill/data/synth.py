"""Practice questions written by the teacher at its own level, with tests settled by execution.

The teacher is asked for a complete function with a docstring and examples. Its description and
signature become the question; the *inputs* of its examples are kept, its expected values are
not (a 0.5B model computes them in its head badly). The expected values are settled by running
independent solutions on those inputs: the writer's own function and an answer written by the
teacher afresh from the description alone (codistill.stages.questions). Where they return the
same literal value for every input, those values become the tests and two of them the examples
shown in the prompt; otherwise the question is dropped. Replies that do not parse, state too few
example calls, need helper functions, repeat another question or overlap a benchmark are dropped
before any solving, each with its reason.
"""

from __future__ import annotations

import ast
import doctest
import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

from codistill.extract import fenced_blocks, python_definitions
from codistill.models.base import Request
from codistill.prompting import normalize_text, render
from codistill.records import Problem
from codistill.sandbox import Program, Verdict

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
# Half of the slots also get a setting: without one the teacher writes the obvious exercise for
# each topic (is_palindrome, word_frequency) and past a few hundred slots most are duplicates.
SETTINGS = (
    "a library catalogue", "a parking garage", "sports results", "a weather station",
    "a to-do list", "an online shop", "a school timetable", "a chess or checkers board",
    "DNA sequences", "a music playlist", "bank transactions", "a train schedule",
    "a file system path", "log lines from a server", "a voting system", "a recipe",
    "a warehouse", "a social network", "a board game", "an elevator", "a calendar",
    "student grades", "a spreadsheet column", "network packets", "a hotel booking system",
    "a text editor", "a robot on a grid", "a fitness tracker", "a restaurant bill", "a card game",
)
FORBIDDEN_IMPORTS = re.compile(r"^\s*(import|from)\s+(os|sys|subprocess|socket|shutil|pathlib)\b",
                               re.MULTILINE)


def slot_request(index: int, seed: int) -> Request:
    """The request for stub number `index`: a seeded topic, kind of data, setting and number of examples."""
    digest = hashlib.sha256(f"{seed}:{index}".encode()).digest()
    topic = TOPICS[int.from_bytes(digest[:4], "big") % len(TOPICS)]
    data = DATA[int.from_bytes(digest[4:8], "big") % len(DATA)]
    examples = 3 + digest[8] % 2
    setting = SETTINGS[int.from_bytes(digest[9:13], "big") % len(SETTINGS)] if digest[13] % 2 else ""
    return Request.user(render("synth_question", topic=topic, data=data, examples=examples,
                               setting=setting))


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


def draft_question(text: str, problem_id: str, *, min_calls: int = 3) -> Problem:
    """A draft question from a teacher's function reply, or StubError with a one-word reason.

    The prompt is the signature and the docstring's description, without the reply's examples:
    a small teacher computes expected values in its head badly, so only the example *inputs*
    are kept (`meta["calls"]`), and the expected values are settled later by running
    independent solutions (`settle`). The reply's body is kept as one of them
    (`meta["writer_code"]`).
    """
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
    calls = list(dict.fromkeys(c for c, _ in examples if _called(c) == name))[:8]
    if len(calls) < min_calls:
        raise StubError("too_few_examples")
    node = funcs[name]
    if _helpers(node, funcs):
        raise StubError("helper_functions")  # the prompt would have to show them
    description = re.sub(r"\s*(for )?examples?( usage)?:?\s*$", "",
                         (ast.get_docstring(node) or "").split(">>>")[0].strip(), flags=re.I)
    if len(description) < 20:
        raise StubError("no_description")
    imports = [ast.unparse(n) for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    return Problem(id=problem_id, language="python", question=description,
                   prompt=_signature(node, imports, description), entry_point=name, source="synth",
                   meta={"calls": calls, "writer_code": python_definitions(code),
                         "imports": imports})


def _signature(node: ast.FunctionDef, imports: list[str], doc: str) -> str:
    signature = ast.FunctionDef(name=node.name, args=node.args, body=[ast.Expr(ast.Constant(doc))],
                                decorator_list=[], returns=node.returns, type_params=[],
                                lineno=node.lineno)
    return ("\n".join(imports) + "\n\n\n" if imports else "") + _with_indented_doc(
        ast.unparse(ast.fix_missing_locations(signature)))


_MARK = "@@codistill-output@@ "


def output_program(code: str, calls: list[str], program_id: str) -> Program:
    """A program that runs `code` and prints the repr of each call's result (or the exception)."""
    driver = (f"\n\nimport json as _json\nfor _call in {calls!r}:\n"
              "    try:\n        _out = repr(eval(_call))\n"
              "    except BaseException as _exc:\n        _out = '!' + type(_exc).__name__\n"
              f"    print({_MARK!r} + _json.dumps(_out), flush=True)\n")
    return Program(language="python", source=code + driver, id=program_id)


def read_outputs(verdict: Verdict, n: int) -> list[str] | None:
    """The n printed results of an `output_program` run, or None when it did not finish."""
    if not verdict.passed:
        return None
    outs = [json.loads(line[len(_MARK):]) for line in verdict.stdout.splitlines()
            if line.startswith(_MARK)]
    return outs if len(outs) == n else None


def _value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _UNREADABLE


_UNREADABLE = object()


def agreed_values(runs: list[list[str] | None], min_calls: int = 3) -> list[str] | None:
    """Each call's result when every run returned the same literal value for it, else None.

    Needs at least `min_calls` calls and two different results (a constant function tests
    nothing); a call that raised in every run is not usable as an example, so it disagrees.
    """
    if len(runs) < 2 or any(r is None for r in runs):
        return None
    first = runs[0]
    assert first is not None
    values = []
    for i, text in enumerate(first):
        value = _value(text)
        if text.startswith("!") or value is _UNREADABLE:
            return None
        if any(_value(r[i]) != value for r in runs[1:] if r is not None):
            return None
        values.append(text)
    if len(values) < min_calls or len({repr(_value(v)) for v in values}) < 2:
        return None
    return values


def settle(draft: Problem, values: list[str]) -> Problem:
    """The final question: two agreed examples in the docstring, every agreed result a test."""
    calls = draft.meta["calls"]
    examples = "".join(f">>> {c}\n{v}\n" for c, v in zip(calls[:2], values[:2], strict=False))
    name = draft.entry_point or ""
    doc = f"{draft.question}\n\nExamples:\n{examples}"
    node = ast.parse(draft.prompt).body[-1]
    assert isinstance(node, ast.FunctionDef)
    tests = "def check(candidate):\n" + "".join(
        f"    assert candidate({c[len(name) + 1:]} == {v}\n" for c, v in zip(calls, values, strict=True))
    return draft.model_copy(update={
        "prompt": _signature(node, draft.meta.get("imports", []), doc), "tests": tests,
        "meta": {**draft.meta, "tests_by": draft.meta.get("tests_by", "agreement"), "values": values}})


def _with_indented_doc(source: str) -> str:
    """ast.unparse writes docstring lines flush left with the closing quotes on the last one;
    indent them and close on a line of their own, as a human-written prompt does."""
    head, *body = source.splitlines()
    text = "\n".join(body).strip()
    quote = text[:3]
    inner = text[3:-3].strip("\n")
    lines = ["    " + ln.strip() if ln.strip() else "" for ln in inner.splitlines()]
    return "\n".join([head, "    " + quote + lines[0].strip(), *lines[1:], "    " + quote]) + "\n"


def duplicate_keys(problem: Problem) -> set[str]:
    """What makes two questions the same here: the function's signature, or the words of the description.

    Names alone are too coarse: the teacher names functions after their topic, so
    `inventory_bookkeeping(items: list[tuple[str, int]])` and `inventory_bookkeeping(stock: dict)`
    are different exercises; the same name with the same parameters and return type is not.
    """
    return {f"sig:{signature(problem)}", f"doc:{normalize_text(problem.question)}"}


def signature(problem: Problem) -> str:
    """The entry point's def line without spaces, e.g. `f(xs:list[int])->int` (the name alone if absent)."""
    found = re.search(rf"^\s*def\s+{re.escape(problem.entry_point)}\s*(\(.*?\)\s*(->[^:]*)?):\s*$",
                      problem.prompt, re.MULTILINE)
    return problem.entry_point + ("".join(found.group(1).split()) if found else "")


def dedupe(problems: Iterable[Problem]) -> tuple[list[Problem], int]:
    """Problems with a repeated signature or description removed (first kept), and the count dropped."""
    seen: set[str] = set()
    kept, dropped = [], 0
    for p in problems:
        keys = duplicate_keys(p)
        if keys & seen:
            dropped += 1
            continue
        seen |= keys
        kept.append(p)
    return kept, dropped
