"""SODA's fault taxonomy, and deterministic AST mutations that make faulty Python variants.

A mutant is only a *candidate* faulty solution: the teach stage keeps it only if the sandbox
shows it really fails the question's tests.
"""

from __future__ import annotations

import ast
import builtins
import copy
import random
from collections.abc import Callable
from dataclasses import dataclass

FAULT_TYPES = ("syntax", "logic", "type", "name", "timeout")

FAULT_DESCRIPTIONS = {
    "syntax": "a syntax error, such as a missing colon or an unbalanced bracket",
    "logic": "a logic error, such as an off-by-one bound, a wrong operator or a missing case",
    "type": "a type error, such as mixing strings and numbers or returning the wrong type",
    "name": "a name error, such as a misspelled or undefined variable or function",
    "timeout": "a loop that never terminates on some inputs",
}


def observed_fault(status: str, error_type: str | None, message: str, language: str) -> str:
    """The fault class a verdict shows, in SODA's taxonomy, or "other" / "" (not a fault).

    A failed test is a logic error and a time-out is "timeout"; compile and runtime errors are
    classed by the language module's FAULT_CLASSES (a compile error nothing matches counts as
    syntax); what fits no class (an IndexError, running out of memory) is "other". A pass, or an
    environment or sandbox problem, is no fault at all ("").
    """
    import re

    from codistill.sandbox.languages import get

    if status == "failed":
        return "logic"
    if status == "timeout":
        return "timeout"
    if status in ("compile_error", "runtime_error"):
        text = f"{error_type or ''}: {message}" if error_type else message
        for pattern, fault in get(language).FAULT_CLASSES:
            if re.search(pattern, text):
                return fault
        return "syntax" if status == "compile_error" else "other"
    if status in ("memory_exceeded", "output_exceeded"):
        return "other"
    return ""


@dataclass(frozen=True)
class Mutant:
    """A candidate faulty variant of a solution."""

    code: str
    operator: str
    fault_type: str
    line: int



_CMP_FLIP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
             ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
_OP_SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult,
            ast.Mod: ast.FloorDiv, ast.Div: ast.Mult}


def _function_nodes(tree: ast.Module) -> list[ast.AST]:
    """Function definitions and every node inside them, once each, in a stable order.

    Module-level code (constants, imports) is left alone: mutating it rarely makes a fault.
    """
    out: list[ast.AST] = []
    seen: set[int] = set()
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                if id(node) not in seen:
                    seen.add(id(node))
                    out.append(node)
    return out


def _off_by_one_range(node: ast.AST) -> bool:
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "range" and 1 <= len(node.args) <= 2):
        return False
    end = node.args[-1]
    node.args[-1] = ast.BinOp(left=end, op=ast.Sub(), right=ast.Constant(1))
    return True


def _off_by_one_slice(node: ast.AST) -> bool:
    if not (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice)):
        return False
    sl = node.slice
    if sl.upper is not None:
        sl.upper = ast.BinOp(left=sl.upper, op=ast.Sub(), right=ast.Constant(1))
    elif sl.lower is not None:
        sl.lower = ast.BinOp(left=sl.lower, op=ast.Add(), right=ast.Constant(1))
    else:
        return False
    return True


def _flip_comparison(node: ast.AST) -> bool:
    if not isinstance(node, ast.Compare) or type(node.ops[0]) not in _CMP_FLIP:
        return False
    node.ops[0] = _CMP_FLIP[type(node.ops[0])]()
    return True


def _wrong_operator(node: ast.AST) -> bool:
    if isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in _OP_SWAP:
        node.op = _OP_SWAP[type(node.op)]()
        return True
    if isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        return True
    return False


def _swap_arguments(node: ast.AST) -> bool:
    if not (isinstance(node, ast.Call) and len(node.args) == 2
            and not any(isinstance(a, ast.Starred) for a in node.args)):
        return False
    if ast.dump(node.args[0]) == ast.dump(node.args[1]):
        return False
    node.args.reverse()
    return True


def _early_return_ifs(node: ast.AST) -> bool:
    """Drop an `if ...: return ...` guard (a base case or a boundary check)."""
    body = getattr(node, "body", None)
    if not isinstance(node, ast.FunctionDef) or not isinstance(body, list):
        return False
    for i, stmt in enumerate(body):
        if (isinstance(stmt, ast.If) and not stmt.orelse and len(stmt.body) == 1
                and isinstance(stmt.body[0], ast.Return) and i < len(body) - 1):
            del body[i]
            return True
    return False


def _wrong_return(node: ast.AST) -> bool:
    if not isinstance(node, ast.Return) or node.value is None:
        return False
    value = node.value
    if isinstance(value, ast.Constant) and isinstance(value.value, bool):
        value.value = not value.value
    elif isinstance(value, ast.Constant) and isinstance(value.value, int):
        value.value += 1
    elif isinstance(value, ast.Compare | ast.BoolOp) or (
            isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not)):
        node.value = ast.UnaryOp(op=ast.Not(), operand=value)
    else:
        return False
    return True


def _misspelled_name(node: ast.AST) -> bool:
    if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and len(node.id) > 1
            and not hasattr(builtins, node.id) and node.id not in ("self", "cls")):
        return False
    name = node.id
    node.id = name[:-2] + name[-1] + name[-2] if name[-1] != name[-2] else name + "_"
    return True


def _type_confusion(node: ast.AST) -> bool:
    if not isinstance(node, ast.Return) or node.value is None:
        return False
    if isinstance(node.value, ast.Constant) and node.value.value is None:
        return False
    node.value = ast.Call(func=ast.Name(id="str", ctx=ast.Load()), args=[node.value], keywords=[])
    return True


def _non_terminating(node: ast.AST) -> bool:
    """Make a loop's progress step a no-op (`i += 1` -> `i += 0`), or a for-loop into `while True`."""
    if isinstance(node, ast.While):
        for stmt in ast.walk(node):
            if (isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add | ast.Sub)
                    and isinstance(stmt.value, ast.Constant)):
                stmt.value = ast.Constant(0)
                return True
        return False
    if isinstance(node, ast.For) and not node.orelse:
        # Iterate forever over the first element: the loop body never sees the rest.
        node.iter = ast.Call(
            func=ast.Attribute(value=ast.Name(id="__import__('itertools')", ctx=ast.Load()),
                               attr="repeat", ctx=ast.Load()),
            args=[ast.Constant(0)], keywords=[])
        return True
    return False


# operator -> (fault type, node applier)
OPERATORS: dict[str, tuple[str, Callable[[ast.AST], bool]]] = {
    "off_by_one_range": ("logic", _off_by_one_range),
    "off_by_one_slice": ("logic", _off_by_one_slice),
    "flip_comparison": ("logic", _flip_comparison),
    "wrong_operator": ("logic", _wrong_operator),
    "swap_arguments": ("logic", _swap_arguments),
    "remove_guard": ("logic", _early_return_ifs),
    "wrong_return": ("logic", _wrong_return),
    "misspelled_name": ("name", _misspelled_name),
    "type_confusion": ("type", _type_confusion),
    "non_terminating_loop": ("timeout", _non_terminating),
}


def _syntax_break(code: str, rng: random.Random) -> Mutant | None:
    """Text-level syntax fault: drop the colon of a block header."""
    lines = code.splitlines()
    headers = [i for i, line in enumerate(lines)
               if line.rstrip().endswith(":") and line.lstrip().startswith(
                   ("if ", "for ", "while ", "def ", "elif ", "else"))]
    if not headers:
        return None
    i = rng.choice(headers)
    lines[i] = lines[i].rstrip()[:-1]
    return Mutant("\n".join(lines) + "\n", "missing_colon", "syntax", i + 1)


def mutate(code: str, operator: str, rng: random.Random) -> Mutant | None:
    """One mutant of `code` by `operator` at a random applicable site, or None."""
    if operator == "missing_colon":
        return _syntax_break(code, rng)
    fault_type, apply = OPERATORS[operator]
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    nodes = _function_nodes(tree)
    # Try each site on a copy first, so only applicable sites are drawn from.
    sites = [node for node in nodes if apply(copy.deepcopy(node))]
    if not sites:
        return None
    node = rng.choice(sites)
    apply(node)
    ast.fix_missing_locations(tree)
    try:
        mutated = ast.unparse(tree) + "\n"
    except Exception:  # noqa: BLE001 - an unparseable tree is just "no mutant here"
        return None
    if mutated.strip() == ast.unparse(ast.parse(code)).strip():
        return None
    return Mutant(mutated, operator, fault_type, getattr(node, "lineno", 0))


ALL_OPERATORS = (*OPERATORS, "missing_colon")


def mutants(code: str, k: int, *, seed: int = 0, operators: tuple[str, ...] = ALL_OPERATORS) -> list[Mutant]:
    """Up to `k` distinct mutants, each from a different operator, chosen reproducibly by `seed`."""
    rng = random.Random(seed)
    order = list(operators)
    rng.shuffle(order)
    out: list[Mutant] = []
    seen = {code.strip()}
    for operator in order:
        if len(out) >= k:
            break
        mutant = mutate(code, operator, rng)
        if mutant is not None and mutant.code.strip() not in seen:
            seen.add(mutant.code.strip())
            out.append(mutant)
    return out
