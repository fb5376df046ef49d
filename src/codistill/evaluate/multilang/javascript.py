"""JavaScript: arrays for lists and tuples, objects for string-keyed dicts, null for None."""

from __future__ import annotations

import json
import math
from typing import Any

from codistill.evaluate.multilang.base import (
    Signature,
    Target,
    Untranslatable,
    doc_block,
    runtime_type,
)
from codistill.evaluate.multilang.types import Type
from codistill.evaluate.multilang.values import Case

SAFE_INT = (-(2**53) + 1, 2**53 - 1)

KEYWORDS = frozenset("""
    await break case catch class const continue debugger default delete do else enum export
    extends false finally for function if implements import in instanceof interface let new
    null package private protected public return static super switch this throw true try
    typeof var void while with yield arguments eval undefined NaN Infinity assert require
    cdxClose
""".split())

# Numbers are compared with a tolerance only where the type holds floats; elsewhere exactly.
CLOSE_HELPER = """\
function cdxClose(actual, expected, tol) {
  if (typeof actual === "number" && typeof expected === "number") {
    return actual === expected || Math.abs(actual - expected) <= tol;
  }
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length &&
      expected.every((e, i) => cdxClose(actual[i], e, tol));
  }
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return false;
    const keys = Object.keys(expected);
    return keys.length === Object.keys(actual).length && keys.every((k) =>
      Object.prototype.hasOwnProperty.call(actual, k) && cdxClose(actual[k], expected[k], tol));
  }
  return actual === expected;
}
"""


class JavaScript(Target):
    """Node.js scripts checked with node:assert."""

    name = "javascript"
    title = "JavaScript"
    none_word = "null"
    reserved = KEYWORDS
    prelude = 'const assert = require("node:assert");\n'
    close_helper = CLOSE_HELPER

    def type_name(self, t: Type) -> str:
        """JavaScript is untyped; only check that every part has a faithful value form."""
        if t.kind == "dict" and t.args[0].kind not in ("str", "unknown"):
            raise Untranslatable("object keys are always strings")
        for arg in t.args:
            self.type_name(arg)
        return ""

    def literal(self, value: Any, t: Type) -> str:
        """A JavaScript literal."""
        kind = t.kind
        if kind in ("any", "unknown"):
            kind, t = runtime_type(value).kind, runtime_type(value)
        if value is None:
            if kind not in ("none", "optional", "any"):
                raise Untranslatable(f"None where {t} is expected")
            return "null"
        if kind == "optional":
            return self.literal(value, t.args[0])
        if kind == "bool":
            return "true" if value else "false"
        if kind == "int":
            if not SAFE_INT[0] <= value <= SAFE_INT[1]:
                raise Untranslatable(f"{value} is beyond JavaScript's exact integers")
            return str(value)
        if kind == "float":
            return _number(float(value))
        if kind == "str":
            return json.dumps(value)
        if kind in ("list", "tuple"):
            types = t.args if kind == "tuple" else (t.args[0],) * len(value)
            return "[" + ", ".join(self.literal(v, e) for v, e in zip(value, types, strict=True)) + "]"
        if kind == "dict":
            if not all(isinstance(k, str) for k in value):
                raise Untranslatable("object keys are always strings")
            items = (f"{json.dumps(k)}: {self.literal(v, t.args[1])}" for k, v in value.items())
            return "{" + ", ".join(items) + "}"
        raise Untranslatable(f"no JavaScript literal for {t}")

    def declaration(self, sig: Signature) -> str:
        """`function f(a, b)`."""
        return f"function {sig.name}({', '.join(n for n, _ in sig.params)})"

    def prompt(self, sig: Signature, doc: str) -> str:
        """Doc comment, then the header; the body follows."""
        return doc_block(doc) + self.declaration(sig) + " {\n"

    def assertion(self, sig: Signature, case: Case, label: str) -> str:
        """A node:assert call."""
        call = self.call(sig, case.args)
        expected = self.literal(case.expected, sig.returns)
        if sig.returns.contains("float") or case.tolerance is not None:
            tol = case.tolerance if case.tolerance is not None else 1e-6
            return f"assert.ok(cdxClose({call}, {expected}, {tol!r}), {json.dumps(label)});"
        return f"assert.deepStrictEqual({call}, {expected}, {json.dumps(label)});"

    def tests(self, sig: Signature, assertions: list[str]) -> str:
        """Prelude, the float helper when needed, then one assertion a line."""
        helper = self.close_helper if any("cdxClose(" in a for a in assertions) else ""
        return self.prelude + helper + "\n".join(assertions) + "\n"


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


TARGET = JavaScript()
