"""What every target language provides: type names, literals, a prompt, and test assertions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from codistill.evaluate.multilang.types import UNKNOWN, Type, type_of
from codistill.evaluate.multilang.values import Case

INT64 = (-(2**63) + 1, 2**63 - 1)


class Untranslatable(Exception):
    """A type or a value with no faithful form in the target language; the message says why."""


@dataclass(frozen=True)
class Signature:
    """A function's target-language names and its types."""

    name: str
    params: tuple[tuple[str, Type], ...]
    returns: Type
    python_name: str

    @property
    def types(self) -> dict[str, str]:
        """Python-style type of each parameter and of the return value, for metadata."""
        return {**{n: str(t) for n, t in self.params}, "return": str(self.returns)}


class Target:
    """One target language. Subclasses fill in the hooks; the shared flow lives here."""

    name = ""
    title = ""
    none_word = "None"  # how the docstring's "None" reads in this language
    reserved: frozenset[str] = frozenset()  # names a function or parameter must avoid
    # Tasks whose types translate but which the language's standard library cannot solve.
    unsolvable: dict[str, str] = {}

    # -- types and values -------------------------------------------------------------------

    def type_name(self, t: Type) -> str:
        """The target type for t; raises Untranslatable."""
        raise NotImplementedError

    def literal(self, value: Any, t: Type) -> str:
        """A target-language expression for a Python value of type t; raises Untranslatable."""
        raise NotImplementedError

    def check_signature(self, sig: Signature) -> None:
        """Raise Untranslatable when a parameter or the return type has no target form."""
        for name, t in sig.params:
            self._check_type(t, f"parameter {name!r}")
        self._check_type(sig.returns, "return type")

    def _check_type(self, t: Type, where: str) -> None:
        try:
            self.type_name(t)
        except Untranslatable as err:
            raise Untranslatable(f"{where} {t}: {err}") from err

    def identifier(self, name: str) -> str:
        """A Python name made safe in the target (a trailing underscore avoids reserved words)."""
        return name + "_" if name in self.reserved else name

    # -- code ---------------------------------------------------------------------------------

    def declaration(self, sig: Signature) -> str:
        """The function's header line, without the opening brace."""
        raise NotImplementedError

    def prompt(self, sig: Signature, doc: str) -> str:
        """Code up to where the body begins: imports, doc comment, header and `{`."""
        raise NotImplementedError

    def call(self, sig: Signature, args: tuple[Any, ...]) -> str:
        """A call of the function on literal arguments."""
        rendered = [self.literal(v, t) for v, (_, t) in zip(args, sig.params, strict=True)]
        return f"{sig.name}({', '.join(rendered)})"

    def example_value(self, value: Any, t: Type) -> str:
        """How a docstring example shows a result (a literal, unless that would mislead)."""
        return self.literal(value, t)

    def assertion(self, sig: Signature, case: Case, label: str) -> str:
        """One test statement checking one case; raises Untranslatable."""
        raise NotImplementedError

    def tests(self, sig: Signature, assertions: list[str]) -> str:
        """The complete test code, written to docs/sandbox.md's convention for this language."""
        raise NotImplementedError

    def notes(self, sig: Signature) -> str:
        """Conventions a chat model must follow to be tested (the question's last paragraph)."""
        return ""


# -- helpers shared by the language modules ---------------------------------------------------


def doc_block(doc: str, indent: str = "") -> str:
    """A `/** ... */` comment holding the docstring, safe against an early `*/`."""
    lines = doc.replace("*/", "* /").splitlines() or [""]
    body = "\n".join(f"{indent} * {line}".rstrip() for line in lines)
    return f"{indent}/**\n{body}\n{indent} */\n"


def line_comments(doc: str, indent: str = "") -> str:
    """The docstring as `//` comment lines."""
    lines = doc.splitlines() or [""]
    return "".join(f"{indent}// {line}".rstrip() + "\n" for line in lines)


def checked_int(value: Any, bounds: tuple[int, int] = INT64) -> int:
    """An int that fits the bounds; raises Untranslatable otherwise."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise Untranslatable(f"{value!r} is not an int")
    if not bounds[0] <= value <= bounds[1]:
        raise Untranslatable(f"{value} does not fit a 64-bit integer")
    return value


def float_text(value: Any) -> str:
    """A finite float written with a decimal point or exponent (valid in every target)."""
    number = float(value)
    text = repr(number)
    if "e" not in text and "." not in text:
        text += ".0"
    return text


def runtime_type(value: Any) -> Type:
    """The type a value of a dynamically typed (`any`) position is written as."""
    return type_of(value)


def ascii_only(text: str) -> str:
    """The string, if ASCII; byte-string languages would count other characters differently."""
    if not text.isascii():
        raise Untranslatable("non-ASCII string (bytes and characters would differ)")
    return text


def escape(text: str, table: dict[str, str], other: Any) -> str:
    """Escape each character by the table, or by `other(char)` when it is not printable ASCII."""
    out = []
    for ch in text:
        if ch in table:
            out.append(table[ch])
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.append(other(ch))
    return "".join(out)


_C_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def c_string(text: str) -> str:
    """A C/C++ string literal of an ASCII string (octal escapes; no trigraph can form)."""
    out = []
    for ch in ascii_only(text):
        if ch in _C_ESCAPES:
            out.append(_C_ESCAPES[ch])
        elif ch == "?" and out and out[-1] == "?":
            out.append("\\?")
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):03o}")
    return '"' + "".join(out) + '"'


def sequence_element(t: Type) -> Type:
    """The element type of a list, or of a tuple whose items all share one type.

    For languages without tuples, a same-typed tuple becomes a list (a pair of ints: `[a, b]`).
    """
    if t.kind == "list":
        return t.args[0]
    if any(a != t.args[0] for a in t.args):
        raise Untranslatable("tuple of mixed element types (no tuple type)")
    return t.args[0] if t.args else UNKNOWN


def label_text(index: int, source: str, limit: int = 100) -> str:
    """A short ASCII label for one case, shown when its assertion fails."""
    text = f"case {index}: {source}".encode("ascii", "replace").decode()
    return text if len(text) <= limit else text[: limit - 3] + "..."
