"""Java: long/double/boolean/String, List for lists and same-typed tuples, Map, Optional."""

from __future__ import annotations

import math
from typing import Any

from codistill.evaluate.multilang.base import (
    Signature,
    Target,
    Untranslatable,
    checked_int,
    doc_block,
    escape,
    float_text,
    sequence_element,
)
from codistill.evaluate.multilang.types import Type
from codistill.evaluate.multilang.values import Case

KEYWORDS = frozenset("""
    abstract assert boolean break byte case catch char class const continue default do double
    else enum extends final finally float for goto if implements import instanceof int
    interface long native new package private protected public return short static strictfp
    super switch synchronized this throw throws transient try void volatile while var record
    yield sealed permits true false null Solution Main cdxEq cdxCheck
""".split())

_PRIMITIVE = {"int": ("long", "Long"), "float": ("double", "Double"),
              "bool": ("boolean", "Boolean"), "str": ("String", "String")}
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b",
            "\f": "\\f"}

# Structural equality with a tolerance on doubles: List.equals would compare doubles exactly.
HARNESS = """\
import java.util.*;

public class Main {
    static boolean cdxEq(Object a, Object b) {
        if (a instanceof Double && b instanceof Double) {
            double x = (Double) a, y = (Double) b;
            return x == y || Math.abs(x - y) <= 1e-6;
        }
        if (a instanceof List && b instanceof List) {
            List<?> x = (List<?>) a, y = (List<?>) b;
            if (x.size() != y.size()) return false;
            for (int i = 0; i < x.size(); i++) if (!cdxEq(x.get(i), y.get(i))) return false;
            return true;
        }
        if (a instanceof Map && b instanceof Map) {
            Map<?, ?> x = (Map<?, ?>) a, y = (Map<?, ?>) b;
            if (x.size() != y.size()) return false;
            for (Map.Entry<?, ?> e : x.entrySet()) {
                if (!y.containsKey(e.getKey()) || !cdxEq(e.getValue(), y.get(e.getKey()))) return false;
            }
            return true;
        }
        if (a instanceof Optional && b instanceof Optional) {
            Optional<?> x = (Optional<?>) a, y = (Optional<?>) b;
            if (x.isPresent() != y.isPresent()) return false;
            return !x.isPresent() || cdxEq(x.get(), y.get());
        }
        return Objects.equals(a, b);
    }

    static void cdxCheck(Object actual, Object expected, String label) {
        if (!cdxEq(actual, expected)) throw new AssertionError(label + " (got " + actual + ")");
    }

    public static void main(String[] args) {
"""


class Java(Target):
    """`class Solution` with a public static method; tests in `public class Main`."""

    name = "java"
    title = "Java"
    none_word = "Optional.empty()"
    reserved = KEYWORDS

    def type_name(self, t: Type, boxed: bool = False) -> str:
        """The Java type (boxed inside generics)."""
        kind = t.kind
        if kind in _PRIMITIVE:
            return _PRIMITIVE[kind][1 if boxed else 0]
        if kind in ("list", "tuple"):
            return f"List<{self.type_name(sequence_element(t), boxed=True)}>"
        if kind == "dict":
            return f"Map<{self.type_name(t.args[0], True)}, {self.type_name(t.args[1], True)}>"
        if kind == "optional":
            return f"Optional<{self.type_name(t.args[0], boxed=True)}>"
        if kind == "any":
            raise Untranslatable(f"no static type ({t.why or 'Any'})")
        if kind == "unknown":
            raise Untranslatable("element type unknown (the tests only hold empty containers)")
        raise Untranslatable(f"no Java type for {t}")

    def literal(self, value: Any, t: Type) -> str:
        """A Java expression; lists and maps are mutable copies, as a caller would pass."""
        kind = t.kind
        if kind == "optional":
            inner = t.args[0]
            if value is None:
                return f"Optional.<{self.type_name(inner, True)}>empty()"
            return f"Optional.of({self.literal(value, inner)})"
        if value is None:
            raise Untranslatable(f"None where {t} is expected")
        if kind == "int":
            return f"{checked_int(value)}L"
        if kind == "float":
            number = float(value)
            if math.isnan(number):
                return "Double.NaN"
            if math.isinf(number):
                return "Double.POSITIVE_INFINITY" if number > 0 else "Double.NEGATIVE_INFINITY"
            return float_text(number)
        if kind == "bool":
            return "true" if value else "false"
        if kind == "str":
            return '"' + escape(value, _ESCAPES, _unicode) + '"'
        if kind in ("list", "tuple"):
            elem = sequence_element(t)
            boxed = self.type_name(elem, True)
            if not value:
                return f"new ArrayList<{boxed}>()"
            items = ", ".join(self.literal(v, elem) for v in value)
            return f"new ArrayList<{boxed}>(Arrays.asList({items}))"
        if kind == "dict":
            generic = f"{self.type_name(t.args[0], True)}, {self.type_name(t.args[1], True)}"
            if not value:
                return f"new HashMap<{generic}>()"
            entries = ", ".join(f"Map.entry({self.literal(k, t.args[0])}, {self.literal(v, t.args[1])})"
                                for k, v in value.items())
            return f"new HashMap<{generic}>(Map.ofEntries({entries}))"
        raise Untranslatable(f"no Java literal for {t}")

    def declaration(self, sig: Signature) -> str:
        """`public static long f(List<Long> xs, long k)`."""
        params = ", ".join(f"{self.type_name(t)} {n}" for n, t in sig.params)
        return f"public static {self.type_name(sig.returns)} {sig.name}({params})"

    def prompt(self, sig: Signature, doc: str) -> str:
        """Imports, `class Solution {`, the doc comment and the method header."""
        header = "import java.util.*;\nimport java.util.function.*;\nimport java.util.stream.*;\n\n"
        return (header + "class Solution {\n" + doc_block(doc, "    ")
                + f"    {self.declaration(sig)} {{\n")

    def call(self, sig: Signature, args: tuple[Any, ...]) -> str:
        """`Solution.f(...)`."""
        return "Solution." + super().call(sig, args)

    def assertion(self, sig: Signature, case: Case, label: str) -> str:
        """A cdxCheck call inside Main.main."""
        call = self.call(sig, case.args)
        expected = self.literal(case.expected, sig.returns)
        text = '"' + escape(label, _ESCAPES, _unicode) + '"'
        return f"        cdxCheck({call}, {expected}, {text});"

    def tests(self, sig: Signature, assertions: list[str]) -> str:
        """Main.java: the equality helper and a main that checks every case."""
        return HARNESS + "\n".join(assertions) + "\n    }\n}\n"

    def notes(self, sig: Signature) -> str:
        """Java's calling convention."""
        return ("Write it as a `public static` method of a class named `Solution` "
                "(no `main` method); `java.util.*` is imported.")


def _unicode(ch: str) -> str:
    units = ch.encode("utf-16-be")
    return "".join(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2))


TARGET = Java()
