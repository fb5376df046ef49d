"""Carry a Python docstring into a target language: its examples and its True/False/None."""

from __future__ import annotations

import ast
import re

from codistill.evaluate.multilang.base import Signature, Target, Untranslatable
from codistill.evaluate.multilang.types import conforms
from codistill.evaluate.multilang.values import NotLiteral, evaluate

# `f(x) ==> y`, `f(x) -> y`, `f(x) ➞ y`, `f(x) == y`, `f(x) should return y`, ...
_ARROW = re.compile(r"^\s*(==>|=>|->|➞|==|=|should return|returns?)\s*(.+?)\s*([.,;]?)\s*$")


def translate_doc(doc: str, python_name: str, sig: Signature, target: Target) -> str:
    """The docstring with examples rewritten as target-language calls and values."""
    lines = doc.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        indent = line[: len(line) - len(line.lstrip())]
        stripped = line.strip()
        if stripped.startswith(">>>") and i + 1 < len(lines):
            example = _example(stripped[3:].strip(), lines[i + 1].strip(), python_name, sig, target)
            if example:
                out += [f"{indent}>>> {example[0]}", f"{indent}{example[1]}"]
                i += 2
                continue
        out.append(_inline(line, python_name, sig, target) or _words(line, target))
        i += 1
    return "\n".join(out)


def _example(call_text: str, result_text: str, python_name: str, sig: Signature,
             target: Target) -> tuple[str, str] | None:
    """(call, result) in the target language, or None when either part is not plain data."""
    try:
        call = ast.parse(call_text, mode="eval").body
        result = evaluate(ast.parse(result_text, mode="eval").body)
    except (SyntaxError, NotLiteral, ValueError, TypeError):
        return None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id == python_name and not call.keywords):
        return None
    try:
        args = tuple(evaluate(a) for a in call.args)
    except (NotLiteral, ValueError, TypeError):
        return None
    if len(args) != len(sig.params) or not conforms(result, sig.returns) or not all(
            conforms(v, t) for v, (_, t) in zip(args, sig.params, strict=True)):
        return None
    try:
        return target.call(sig, args), target.example_value(result, sig.returns)
    except (Untranslatable, KeyError, TypeError, ValueError):
        return None


def _inline(line: str, python_name: str, sig: Signature, target: Target) -> str | None:
    """A one-line example such as `f([1, 2]) ==> 3` rewritten, or None."""
    start = line.find(python_name + "(")
    if start < 0 or (start > 0 and (line[start - 1].isalnum() or line[start - 1] == "_")):
        return None
    depth, end = 0, -1
    for j in range(start + len(python_name), len(line)):
        depth += {"(": 1, ")": -1}.get(line[j], 0)
        if depth == 0:
            end = j + 1
            break
    match = _ARROW.match(line[end:]) if end > 0 else None
    if not match:
        return None
    example = _example(line[start:end], match.group(2), python_name, sig, target)
    if not example:
        return None
    return f"{line[:start]}{example[0]} {match.group(1)} {example[1]}{match.group(3)}"


def _words(line: str, target: Target) -> str:
    """Python's constants named in prose, in the target's spelling."""
    line = re.sub(r"\bTrue\b", "true", line)
    line = re.sub(r"\bFalse\b", "false", line)
    return re.sub(r"\bNone\b", target.none_word, line)
