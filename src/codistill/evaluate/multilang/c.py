"""C11, conservatively: scalars, strings, and flat arrays with explicit lengths.

Calling convention (also stated in every question):
- int -> `long`, float -> `double`, bool -> `bool`, str argument -> `const char *`.
- A list (or a same-typed tuple) of ints, floats or strings is passed as two arguments,
  a pointer and a length: `long *xs, size_t xs_len` (`double *`, `const char **`). The
  tests pass modifiable arrays, so a solution may sort them in place.
- A str result is a `char *` (allocated or static: the tests never free it).
- A list of ints or floats is returned as a pointer to `malloc`-allocated memory with its
  length stored through an extra last parameter `size_t *out_len`.
Anything else (dicts, optionals, nested lists, string-list results) is skipped.
"""

from __future__ import annotations

import math
from typing import Any

from codistill.evaluate.multilang.base import (
    Signature,
    Target,
    Untranslatable,
    c_string,
    checked_int,
    doc_block,
    float_text,
    sequence_element,
)
from codistill.evaluate.multilang.cpp import LIBC
from codistill.evaluate.multilang.types import Type
from codistill.evaluate.multilang.values import Case

KEYWORDS = frozenset("""
    auto break case char const continue default do double else enum extern float for goto if
    inline int long register restrict return short signed sizeof static struct switch typedef
    union unsigned void volatile while bool true false NULL out_len cdx_n cdx_r cdx_close
    cdx_streq cdx_eq_long cdx_eq_double size_t
""".split()) | LIBC

_SCALARS = {"int": "long", "float": "double", "bool": "bool"}
_ARRAYS = {"int": "long *", "float": "double *", "str": "const char **"}
HEADERS = ("ctype.h", "math.h", "stdbool.h", "stddef.h", "stdio.h", "stdlib.h", "string.h")
TEST_HEADERS = ("assert.h", "math.h", "stdbool.h", "stddef.h", "string.h")
HELPERS = {
    "cdx_close": "static bool cdx_close(double a, double b) "
                 "{ return a == b || fabs(a - b) <= 1e-6; }\n",
    "cdx_streq": "static bool cdx_streq(const char *a, const char *b) "
                 "{ return a != NULL && strcmp(a, b) == 0; }\n",
    "cdx_eq_long": """\
static bool cdx_eq_long(const long *a, size_t n, const long *b, size_t m) {
    if (n != m || (n > 0 && a == NULL)) return false;
    for (size_t i = 0; i < n; i++) if (a[i] != b[i]) return false;
    return true;
}
""",
    "cdx_eq_double": """\
static bool cdx_eq_double(const double *a, size_t n, const double *b, size_t m) {
    if (n != m || (n > 0 && a == NULL)) return false;
    for (size_t i = 0; i < n; i++) if (!cdx_close(a[i], b[i])) return false;
    return true;
}
""",
}


class C(Target):
    """A free function; tests are appended with their own `int main(void)`."""

    name = "c"
    title = "C"
    reserved = KEYWORDS

    def type_name(self, t: Type) -> str:
        """The C type of a scalar, or of an array's element pointer."""
        if t.kind in _SCALARS:
            return _SCALARS[t.kind]
        if t.kind == "str":
            return "const char *"
        if t.kind in ("list", "tuple"):
            elem = sequence_element(t)
            if elem.kind not in _ARRAYS:
                raise Untranslatable("only flat arrays of ints, floats or strings")
            return _ARRAYS[elem.kind]
        raise Untranslatable(f"kept out of C ({t.kind} values)")

    def check_signature(self, sig: Signature) -> None:
        """Parameters as type_name allows; results: scalars, strings, int or float arrays."""
        super().check_signature(sig)
        returns = sig.returns
        if returns.kind in ("list", "tuple") and sequence_element(returns).kind == "str":
            raise Untranslatable(f"return type {returns}: string arrays are kept out of C")

    def literal(self, value: Any, t: Type) -> str:
        """A C expression; an array becomes `pointer, length` (two arguments)."""
        if value is None:
            raise Untranslatable(f"None where {t} is expected")
        kind = t.kind
        if kind == "int":
            return str(checked_int(value))
        if kind == "float":
            number = float(value)
            if math.isnan(number):
                return "NAN"
            if math.isinf(number):
                return "INFINITY" if number > 0 else "-INFINITY"
            return float_text(number)
        if kind == "bool":
            return "true" if value else "false"
        if kind == "str":
            if "\0" in value:
                raise Untranslatable("string holds a NUL character")
            return c_string(value)
        if kind in ("list", "tuple"):
            elem = sequence_element(t)
            if not value:
                return "NULL, 0"
            items = ", ".join(self.literal(v, elem) for v in value)
            array = _ARRAYS[elem.kind].rstrip(" *") if elem.kind != "str" else "const char *"
            return f"({array}[]){{{items}}}, {len(value)}"
        raise Untranslatable(f"no C literal for {t}")

    def example_value(self, value: Any, t: Type) -> str:
        """An array result reads `{1, 2, 3}` (its length goes to *out_len)."""
        if t.kind in ("list", "tuple"):
            elem = sequence_element(t)
            return "{" + ", ".join(self.literal(v, elem) for v in value) + "}"
        return self.literal(value, t)

    def _returns_array(self, sig: Signature) -> bool:
        return sig.returns.kind in ("list", "tuple")

    def declaration(self, sig: Signature) -> str:
        """`long *f(long *xs, size_t xs_len, size_t *out_len)`."""
        params = []
        for name, t in sig.params:
            c_type = self.type_name(t)
            if t.kind in ("list", "tuple"):
                params.append(f"{c_type}{name}, size_t {name}_len")
            else:
                params.append(f"{c_type}{name}" if c_type.endswith("*") else f"{c_type} {name}")
        if self._returns_array(sig):
            params.append("size_t *out_len")
        returns = "char *" if sig.returns.kind == "str" else self.type_name(sig.returns)
        space = "" if returns.endswith("*") else " "
        return f"{returns}{space}{sig.name}({', '.join(params) or 'void'})"

    def prompt(self, sig: Signature, doc: str) -> str:
        """Standard headers, the doc comment and the header."""
        head = "".join(f"#include <{h}>\n" for h in HEADERS) + "\n"
        return head + doc_block(doc) + self.declaration(sig) + " {\n"

    def assertion(self, sig: Signature, case: Case, label: str) -> str:
        """An assert (inside a block that receives the length, for array results)."""
        message = c_string(label)
        returns = sig.returns
        if self._returns_array(sig):
            elem = sequence_element(returns)
            call = self.call(sig, case.args)[:-1] + (", &cdx_n)" if sig.params else "&cdx_n)")
            helper = "cdx_eq_long" if elem.kind == "int" else "cdx_eq_double"
            expected = self.literal(case.expected, returns)
            return (f"    {{\n        size_t cdx_n = 0;\n        {self.type_name(returns)}cdx_r = {call};\n"
                    f"        assert({helper}(cdx_r, cdx_n, {expected}) && {message});\n    }}")
        call = self.call(sig, case.args)
        expected = self.literal(case.expected, returns)
        if returns.kind == "float":
            test = f"cdx_close({call}, {expected})"
        elif returns.kind == "str":
            test = f"cdx_streq({call}, {expected})"
        else:
            test = f"({call} == {expected})"
        return f"    assert({test} && {message});"

    def tests(self, sig: Signature, assertions: list[str]) -> str:
        """Headers, the helpers the assertions use, and `int main(void)`."""
        body = "\n".join(assertions)
        used = [name for name in HELPERS if name + "(" in body]
        if "cdx_eq_double" in used and "cdx_close" not in used:
            used.insert(0, "cdx_close")
        head = "".join(f"#include <{h}>\n" for h in TEST_HEADERS) + "\n"
        helpers = "".join(HELPERS[name] for name in HELPERS if name in used)
        return head + helpers + "\nint main(void) {\n" + body + "\n    return 0;\n}\n"

    def notes(self, sig: Signature) -> str:
        """C's calling convention, as it applies to this signature."""
        notes = ["Use C11 and the standard library only; do not write a `main` function."]
        arrays = [n for n, t in sig.params if t.kind in ("list", "tuple")]
        if arrays:
            names = ", ".join(f"`{n}` (length `{n}_len`)" for n in arrays)
            notes.append(f"Arrays are passed as a pointer and a length: {names}.")
        if self._returns_array(sig):
            notes.append("Return the result array allocated with `malloc`, and store its "
                         "length in `*out_len`.")
        if sig.returns.kind == "str":
            notes.append("Return the string as a `char *` (it may be allocated with `malloc`).")
        return " ".join(notes)


TARGET = C()
