"""A small type model for HumanEval signatures: read from annotations, inferred from test values.

Most HumanEval prompts after task 30 carry no annotations (or a bare `list`), so a position's
type is the annotation where it is complete, filled in from the literal values the tests pass
and expect where it is not (the MultiPL-E method, with inference standing in for their
hand-written annotations).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

SCALARS = ("int", "float", "bool", "str")


@dataclass(frozen=True)
class Type:
    """A Python type: a scalar, `none`, `any`, `unknown`, or a container of other types.

    Kinds: int, float, bool, str, none, list, tuple, dict, optional, any, unknown.
    `why` explains an `any` (which values clashed); it does not take part in equality.
    """

    kind: str
    args: tuple[Type, ...] = ()
    why: str = field(default="", compare=False)

    def __str__(self) -> str:
        names = {"list": "List", "tuple": "Tuple", "dict": "Dict", "optional": "Optional"}
        if self.kind in names:
            inner = ", ".join(str(a) for a in self.args) if self.args else "()"
            return f"{names[self.kind]}[{inner}]"
        return {"none": "None", "any": "Any", "unknown": "?"}.get(self.kind, self.kind)

    @property
    def complete(self) -> bool:
        """True when no part of the type is still unknown."""
        return self.kind != "unknown" and all(a.complete for a in self.args)

    def contains(self, kind: str) -> bool:
        """True when this type or any part of it has the given kind."""
        return self.kind == kind or any(a.contains(kind) for a in self.args)


INT, FLOAT, BOOL, STR = Type("int"), Type("float"), Type("bool"), Type("str")
NONE, ANY, UNKNOWN = Type("none"), Type("any"), Type("unknown")


def list_of(elem: Type) -> Type:
    """List[elem]."""
    return Type("list", (elem,))


def tuple_of(*elems: Type) -> Type:
    """Tuple[elems...]."""
    return Type("tuple", tuple(elems))


def dict_of(key: Type, value: Type) -> Type:
    """Dict[key, value]."""
    return Type("dict", (key, value))


def optional(inner: Type) -> Type:
    """Optional[inner] (flattened: Optional of Optional is Optional)."""
    if inner.kind in ("optional", "none", "any"):
        return inner
    return Type("optional", (inner,))


def any_because(why: str) -> Type:
    """Any, remembering why no precise type exists."""
    return Type("any", why=why)


_NAMES = {"int": INT, "float": FLOAT, "bool": BOOL, "str": STR, "None": NONE, "Any": ANY}
_BARE = {
    "list": list_of(UNKNOWN), "List": list_of(UNKNOWN),
    "dict": dict_of(UNKNOWN, UNKNOWN), "Dict": dict_of(UNKNOWN, UNKNOWN),
    "tuple": UNKNOWN, "Tuple": UNKNOWN,
}


def parse_annotation(node: ast.expr | None) -> Type:
    """The Type an annotation names; `unknown` when absent, `any` when not understood."""
    if node is None:
        return UNKNOWN
    if isinstance(node, ast.Constant) and node.value is None:
        return NONE
    if isinstance(node, ast.Name | ast.Attribute):
        name = node.id if isinstance(node, ast.Name) else node.attr
        if name in _NAMES:
            return _NAMES[name]
        if name in _BARE:
            return _BARE[name]
        return any_because(f"annotation {ast.unparse(node)}")
    if isinstance(node, ast.Subscript):
        head = node.value.id if isinstance(node.value, ast.Name) else ""
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        args = [parse_annotation(item) for item in items]
        if head in ("List", "list") and len(args) == 1:
            return list_of(args[0])
        if head in ("Dict", "dict") and len(args) == 2:
            return dict_of(*args)
        if head in ("Tuple", "tuple"):
            if len(items) == 2 and isinstance(items[1], ast.Constant) and items[1].value is ...:
                return list_of(args[0])
            return tuple_of(*args)
        if head == "Optional" and len(args) == 1:
            return optional(args[0])
        if head == "Union":
            result = args[0]
            for arg in args[1:]:
                result = unify(result, arg)
            return result
    return any_because(f"annotation {ast.unparse(node)}")


def type_of(value: Any) -> Type:
    """The Type of one Python literal value (bool before int: bool is an int subclass)."""
    if value is None:
        return NONE
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    if isinstance(value, str):
        return STR
    if isinstance(value, list):
        return list_of(_unify_all([type_of(v) for v in value]))
    if isinstance(value, tuple):
        return tuple_of(*(type_of(v) for v in value))
    if isinstance(value, dict):
        return dict_of(_unify_all([type_of(k) for k in value]),
                       _unify_all([type_of(v) for v in value.values()]))
    return any_because(f"value of type {type(value).__name__}")


def _unify_all(types: list[Type]) -> Type:
    result = UNKNOWN
    for t in types:
        result = unify(result, t)
    return result


def unify(a: Type, b: Type) -> Type:
    """The narrowest Type holding both; `any` (with a reason) when they clash."""
    if a.kind == "unknown" or a == b:
        return b if a.kind == "unknown" else a
    if b.kind == "unknown":
        return a
    if a.kind == "any" or b.kind == "any":
        return a if a.kind == "any" else b
    if {a.kind, b.kind} == {"int", "float"}:
        return FLOAT
    if a.kind == "none" or b.kind == "none":
        return optional(b if a.kind == "none" else a)
    if a.kind == "optional" or b.kind == "optional":
        inner = unify(a.args[0] if a.kind == "optional" else a,
                      b.args[0] if b.kind == "optional" else b)
        return optional(inner)
    if a.kind == b.kind == "list":
        return list_of(unify(a.args[0], b.args[0]))
    if a.kind == b.kind == "dict":
        return dict_of(unify(a.args[0], b.args[0]), unify(a.args[1], b.args[1]))
    if a.kind == b.kind == "tuple" and len(a.args) == len(b.args):
        return tuple_of(*(unify(x, y) for x, y in zip(a.args, b.args, strict=True)))
    if {a.kind, b.kind} <= {"tuple", "list"}:
        # Tuples of varying length (or a tuple meeting a list) are sequences of one type.
        elem = _unify_all([*_elements(a), *_elements(b)])
        if elem.kind == "any":
            return any_because(f"sequence mixes element types ({elem.why})")
        return list_of(elem)
    return any_because(f"mixes {a} and {b}")


def _elements(t: Type) -> tuple[Type, ...]:
    return t.args if t.kind == "tuple" else (t.args[0],)


def merge(annotated: Type, inferred: Type) -> Type:
    """The annotation, with its unknown parts filled in from the inferred type."""
    if annotated.kind == "unknown":
        return inferred
    if annotated.kind == "any" or not annotated.args:
        return annotated
    if annotated.kind == inferred.kind and len(annotated.args) == len(inferred.args):
        parts = (merge(a, i) for a, i in zip(annotated.args, inferred.args, strict=True))
        return Type(annotated.kind, tuple(parts))
    if annotated.kind == "list" and inferred.kind == "tuple":
        return list_of(merge(annotated.args[0], _unify_all(list(inferred.args))))
    return annotated


def conforms(value: Any, t: Type) -> bool:
    """True when a Python value can be written as a literal of type t."""
    kind = t.kind
    if kind in ("any", "unknown"):
        return True
    if kind == "optional":
        return value is None or conforms(value, t.args[0])
    if kind == "none":
        return value is None
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind == "list":
        return isinstance(value, list | tuple) and all(conforms(v, t.args[0]) for v in value)
    if kind == "tuple":
        return (isinstance(value, list | tuple) and len(value) == len(t.args)
                and all(conforms(v, a) for v, a in zip(value, t.args, strict=True)))
    if kind == "dict":
        return isinstance(value, dict) and all(
            conforms(k, t.args[0]) and conforms(v, t.args[1]) for k, v in value.items())
    return False
