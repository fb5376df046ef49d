"""C++17: long/double/bool/std::string, std::vector, std::tuple, std::map, std::optional."""

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
)
from codistill.evaluate.multilang.types import Type
from codistill.evaluate.multilang.values import Case

# C library names live in the global namespace too; a function named `strlen` taking a
# std::string would lose overload resolution to ::strlen for a string literal argument.
LIBC = frozenset("""
    abs labs fabs floor ceil round trunc fmod modf pow sqrt exp exp2 log log2 log10 sin cos tan
    atan atan2 min max div rand srand time clock exit abort malloc calloc realloc free qsort
    bsearch atoi atol strtol strlen strcpy strncpy strcat strcmp strncmp strchr strrchr strstr
    strtok strdup memcpy memset memcmp printf sprintf puts putchar getchar isalpha isdigit
    isalnum isspace isupper islower toupper tolower index remove rename signal raise select
    read write y0 y1 j0 j1 gamma main assert
""".split())
KEYWORDS = frozenset("""
    alignas alignof and and_eq asm auto bitand bitor bool break case catch char char16_t
    char32_t class compl const constexpr const_cast continue decltype default delete do double
    dynamic_cast else enum explicit export extern false float for friend goto if inline int
    long mutable namespace new noexcept not not_eq nullptr operator or or_eq private protected
    public register reinterpret_cast return short signed sizeof static static_assert
    static_cast struct switch template this thread_local throw true try typedef typeid
    typename union unsigned using virtual void volatile wchar_t while xor xor_eq std
    cdx_close cdx_close_tuple
""".split()) | LIBC

# Forward declarations first, so each overload can see the others whatever the nesting.
CLOSE_HELPER = """\
bool cdx_close(double a, double b);
template <class T> bool cdx_close(const T& a, const T& b);
template <class T> bool cdx_close(const std::vector<T>& a, const std::vector<T>& b);
template <class T> bool cdx_close(const std::optional<T>& a, const std::optional<T>& b);
template <class K, class V> bool cdx_close(const std::map<K, V>& a, const std::map<K, V>& b);
template <class... T> bool cdx_close(const std::tuple<T...>& a, const std::tuple<T...>& b);

bool cdx_close(double a, double b) { return a == b || std::fabs(a - b) <= 1e-6; }
template <class T> bool cdx_close(const T& a, const T& b) { return a == b; }
template <class T> bool cdx_close(const std::vector<T>& a, const std::vector<T>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); i++) if (!cdx_close(a[i], b[i])) return false;
    return true;
}
template <class T> bool cdx_close(const std::optional<T>& a, const std::optional<T>& b) {
    if (a.has_value() != b.has_value()) return false;
    return !a.has_value() || cdx_close(*a, *b);
}
template <class K, class V> bool cdx_close(const std::map<K, V>& a, const std::map<K, V>& b) {
    if (a.size() != b.size()) return false;
    for (const auto& [key, value] : a) {
        auto it = b.find(key);
        if (it == b.end() || !cdx_close(value, it->second)) return false;
    }
    return true;
}
template <class Tuple, std::size_t... I>
bool cdx_close_tuple(const Tuple& a, const Tuple& b, std::index_sequence<I...>) {
    return (cdx_close(std::get<I>(a), std::get<I>(b)) && ...);
}
template <class... T> bool cdx_close(const std::tuple<T...>& a, const std::tuple<T...>& b) {
    return cdx_close_tuple(a, b, std::index_sequence_for<T...>{});
}

"""
TEST_HEADERS = (
    "cassert", "cmath", "limits", "map", "optional", "string", "tuple", "utility", "vector",
)


class Cpp(Target):
    """A free function; tests are appended with their own `int main()`."""

    name = "cpp"
    title = "C++"
    none_word = "std::nullopt"
    reserved = KEYWORDS
    unsolvable = {"HumanEval/162": "needs an MD5 digest, which the C++ standard library lacks"}

    def type_name(self, t: Type) -> str:
        """The C++ type."""
        kind = t.kind
        simple = {"int": "long", "float": "double", "bool": "bool", "str": "std::string"}
        if kind in simple:
            return simple[kind]
        if kind == "list":
            return f"std::vector<{self.type_name(t.args[0])}>"
        if kind == "tuple":
            return "std::tuple<" + ", ".join(self.type_name(a) for a in t.args) + ">"
        if kind == "dict":
            return f"std::map<{self.type_name(t.args[0])}, {self.type_name(t.args[1])}>"
        if kind == "optional":
            return f"std::optional<{self.type_name(t.args[0])}>"
        if kind == "any":
            raise Untranslatable(f"no static type ({t.why or 'Any'})")
        if kind == "unknown":
            raise Untranslatable("element type unknown (the tests only hold empty containers)")
        raise Untranslatable(f"no C++ type for {t}")

    def literal(self, value: Any, t: Type) -> str:
        """A C++ expression; containers name their type so overloads and templates resolve."""
        return self._literal(value, t, top=True)

    def _literal(self, value: Any, t: Type, top: bool = False) -> str:
        kind = t.kind
        if kind == "optional":
            inner = self.type_name(t.args[0])
            if value is None:
                return f"std::optional<{inner}>()"
            return f"std::optional<{inner}>({self._literal(value, t.args[0])})"
        if value is None:
            raise Untranslatable(f"None where {t} is expected")
        if kind == "int":
            return str(checked_int(value))
        if kind == "float":
            number = float(value)
            if math.isnan(number):
                return "std::nan(\"\")"
            if math.isinf(number):
                return ("" if number > 0 else "-") + "std::numeric_limits<double>::infinity()"
            return float_text(number)
        if kind == "bool":
            return "true" if value else "false"
        if kind == "str":
            # Only a top-level argument needs the type spelled out (to pin the overload).
            return f"std::string({c_string(value)})" if top else c_string(value)
        if kind == "list":
            items = ", ".join(self._literal(v, t.args[0]) for v in value)
            return f"{self.type_name(t)}{{{items}}}"
        if kind == "tuple":
            items = ", ".join(self._literal(v, a) for v, a in zip(value, t.args, strict=True))
            return f"{self.type_name(t)}({items})"
        if kind == "dict":
            items = ", ".join(f"{{{self._literal(k, t.args[0])}, {self._literal(v, t.args[1])}}}"
                              for k, v in value.items())
            return f"{self.type_name(t)}{{{items}}}"
        raise Untranslatable(f"no C++ literal for {t}")

    def declaration(self, sig: Signature) -> str:
        """`long f(std::vector<long> xs, long k)`: arguments by value, as Python passes them."""
        params = ", ".join(f"{self.type_name(t)} {n}" for n, t in sig.params)
        return f"{self.type_name(sig.returns)} {sig.name}({params})"

    def prompt(self, sig: Signature, doc: str) -> str:
        """`#include <bits/stdc++.h>`, the doc comment and the header."""
        return "#include <bits/stdc++.h>\n\n" + doc_block(doc) + self.declaration(sig) + " {\n"

    def assertion(self, sig: Signature, case: Case, label: str) -> str:
        """An assert whose message is the case label (doubled parentheses guard the commas)."""
        call = self.call(sig, case.args)
        expected = self.literal(case.expected, sig.returns)
        if sig.returns.contains("float"):
            test = f"cdx_close({call}, {expected})"
        else:
            test = f"{call} == {expected}"
        return f"    assert(({test}) && {c_string(label)});"

    def tests(self, sig: Signature, assertions: list[str]) -> str:
        """Headers, the tolerance helpers when needed, and `int main()`."""
        head = "".join(f"#include <{h}>\n" for h in TEST_HEADERS) + "\n"
        helper = CLOSE_HELPER if any("cdx_close(" in a for a in assertions) else ""
        return head + helper + "int main() {\n" + "\n".join(assertions) + "\n    return 0;\n}\n"

    def notes(self, sig: Signature) -> str:
        """C++'s convention."""
        return "Use C++17 and the standard library only; do not write a `main` function."


TARGET = Cpp()
