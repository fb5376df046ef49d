"""TypeScript: JavaScript's values with static types (number, string, T[], tuples, records)."""

from __future__ import annotations

from codistill.evaluate.multilang.base import Signature, Untranslatable
from codistill.evaluate.multilang.javascript import JavaScript
from codistill.evaluate.multilang.types import Type

CLOSE_HELPER = """\
function cdxClose(actual: any, expected: any, tol: number): boolean {
  if (typeof actual === "number" && typeof expected === "number") {
    return actual === expected || Math.abs(actual - expected) <= tol;
  }
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length &&
      expected.every((e: any, i: number) => cdxClose(actual[i], e, tol));
  }
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return false;
    const keys = Object.keys(expected);
    return keys.length === Object.keys(actual).length && keys.every((k: string) =>
      Object.prototype.hasOwnProperty.call(actual, k) && cdxClose(actual[k], expected[k], tol));
  }
  return actual === expected;
}
"""


class TypeScript(JavaScript):
    """JavaScript's harness, type-checked by tsc; Any stays `any`."""

    name = "typescript"
    title = "TypeScript"
    prelude = 'declare var require: any;\nconst assert = require("node:assert");\n'
    close_helper = CLOSE_HELPER

    def type_name(self, t: Type) -> str:
        """The TypeScript type."""
        super().type_name(t)  # the same value limits as JavaScript
        kind = t.kind
        if kind in ("int", "float"):
            return "number"
        if kind == "str":
            return "string"
        if kind == "bool":
            return "boolean"
        if kind == "none":
            return "null"
        if kind in ("any", "unknown"):
            return "any"
        if kind == "optional":
            return f"{self.type_name(t.args[0])} | null"
        if kind == "list":
            inner = self.type_name(t.args[0])
            return f"({inner})[]" if "|" in inner else f"{inner}[]"
        if kind == "tuple":
            return "[" + ", ".join(self.type_name(a) for a in t.args) + "]"
        if kind == "dict":
            return f"{{[key: string]: {self.type_name(t.args[1])}}}"
        raise Untranslatable(f"no TypeScript type for {t}")

    def declaration(self, sig: Signature) -> str:
        """`function f(a: number[], b: number): boolean`."""
        params = ", ".join(f"{n}: {self.type_name(t)}" for n, t in sig.params)
        return f"function {sig.name}({params}): {self.type_name(sig.returns)}"


TARGET = TypeScript()
