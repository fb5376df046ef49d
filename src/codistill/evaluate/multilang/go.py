"""Go: int/float64/bool/string, slices for lists and same-typed tuples, maps; no optionals."""

from __future__ import annotations

import math
from typing import Any

from codistill.evaluate.multilang.base import (
    Signature,
    Target,
    Untranslatable,
    ascii_only,
    checked_int,
    escape,
    float_text,
    line_comments,
    sequence_element,
)
from codistill.evaluate.multilang.types import Type
from codistill.evaluate.multilang.values import Case

KEYWORDS = frozenset("""
    break case chan const continue default defer else fallthrough for func go goto if import
    interface map package range return select struct switch type var
    any bool byte comparable complex64 complex128 error float32 float64 int int8 int16 int32
    int64 rune string uint uint8 uint16 uint32 uint64 uintptr true false iota nil append cap
    clear close complex copy delete imag len make max min new panic print println real recover
    main fmt math sort strconv strings reflect cdxEqual cdxValues
""".split())
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}

# Prompts import what solutions commonly need; the blank uses keep Go from rejecting an
# import the completion happens not to use.
PROMPT_HEADER = """\
package main

import (
\t"fmt"
\t"math"
\t"sort"
\t"strconv"
\t"strings"
)

var _, _, _, _, _ = fmt.Sprint, math.Abs, sort.Ints, strconv.Itoa, strings.Split

"""

# reflect.DeepEqual would tell a nil slice from an empty one and compare floats exactly.
HARNESS = """\
package main

import (
\t"math"
\t"reflect"
)

func cdxEqual(a, b interface{}) bool { return cdxValues(reflect.ValueOf(a), reflect.ValueOf(b)) }

func cdxValues(a, b reflect.Value) bool {
\tif !a.IsValid() || !b.IsValid() {
\t\treturn a.IsValid() == b.IsValid()
\t}
\tif a.Type() != b.Type() {
\t\treturn false
\t}
\tswitch a.Kind() {
\tcase reflect.Float32, reflect.Float64:
\t\treturn a.Float() == b.Float() || math.Abs(a.Float()-b.Float()) <= 1e-6
\tcase reflect.Slice, reflect.Array:
\t\tif a.Len() != b.Len() {
\t\t\treturn false
\t\t}
\t\tfor i := 0; i < a.Len(); i++ {
\t\t\tif !cdxValues(a.Index(i), b.Index(i)) {
\t\t\t\treturn false
\t\t\t}
\t\t}
\t\treturn true
\tcase reflect.Map:
\t\tif a.Len() != b.Len() {
\t\t\treturn false
\t\t}
\t\tfor _, key := range a.MapKeys() {
\t\t\tother := b.MapIndex(key)
\t\t\tif !other.IsValid() || !cdxValues(a.MapIndex(key), other) {
\t\t\t\treturn false
\t\t\t}
\t\t}
\t\treturn true
\t}
\treturn a.Interface() == b.Interface()
}

func main() {
"""


class Go(Target):
    """A function in package main; tests are a second file with their own `func main()`."""

    name = "go"
    title = "Go"
    reserved = KEYWORDS

    def type_name(self, t: Type) -> str:
        """The Go type."""
        kind = t.kind
        simple = {"int": "int", "float": "float64", "bool": "bool", "str": "string"}
        if kind in simple:
            return simple[kind]
        if kind in ("list", "tuple"):
            return "[]" + self.type_name(sequence_element(t))
        if kind == "dict":
            if t.args[0].kind not in simple:
                raise Untranslatable("map keys must be comparable scalars")
            return f"map[{self.type_name(t.args[0])}]{self.type_name(t.args[1])}"
        if kind in ("optional", "none"):
            raise Untranslatable("Go has no optional values")
        if kind == "any":
            raise Untranslatable(f"no static type ({t.why or 'Any'})")
        if kind == "unknown":
            raise Untranslatable("element type unknown (the tests only hold empty containers)")
        raise Untranslatable(f"no Go type for {t}")

    def literal(self, value: Any, t: Type) -> str:
        """A Go expression; composite literals name their type."""
        kind = t.kind
        if value is None:
            raise Untranslatable(f"None where {t} is expected")
        if kind == "int":
            return str(checked_int(value))
        if kind == "float":
            number = float(value)
            if math.isnan(number):
                return "math.NaN()"
            if math.isinf(number):
                return f"math.Inf({1 if number > 0 else -1})"
            return float_text(number)
        if kind == "bool":
            return "true" if value else "false"
        if kind == "str":
            return '"' + escape(ascii_only(value), _ESCAPES, lambda ch: f"\\x{ord(ch):02x}") + '"'
        if kind in ("list", "tuple"):
            elem = sequence_element(t)
            items = ", ".join(self.literal(v, elem) for v in value)
            return f"{self.type_name(t)}{{{items}}}"
        if kind == "dict":
            items = ", ".join(f"{self.literal(k, t.args[0])}: {self.literal(v, t.args[1])}"
                              for k, v in value.items())
            return f"{self.type_name(t)}{{{items}}}"
        raise Untranslatable(f"no Go literal for {t}")

    def declaration(self, sig: Signature) -> str:
        """`func f(xs []int, k int) int`."""
        params = ", ".join(f"{n} {self.type_name(t)}" for n, t in sig.params)
        return f"func {sig.name}({params}) {self.type_name(sig.returns)}"

    def prompt(self, sig: Signature, doc: str) -> str:
        """Package, imports, the doc comment and the header."""
        return PROMPT_HEADER + line_comments(doc) + self.declaration(sig) + " {\n"

    def assertion(self, sig: Signature, case: Case, label: str) -> str:
        """A comparison that panics with the case label."""
        call = self.call(sig, case.args)
        expected = self.literal(case.expected, sig.returns)
        text = '"' + escape(label, _ESCAPES, lambda ch: f"\\x{ord(ch):02x}") + '"'
        return f"\tif !cdxEqual({call}, {expected}) {{\n\t\tpanic({text})\n\t}}"

    def tests(self, sig: Signature, assertions: list[str]) -> str:
        """A second file of package main: the equality helper and `func main()`."""
        return HARNESS + "\n".join(assertions) + "\n}\n"

    def notes(self, sig: Signature) -> str:
        """Go's convention."""
        return "Use package main and do not write a `main` function (the tests bring one)."


TARGET = Go()
