"""Read one Python HumanEval problem into a language-independent task: signature, doc, cases."""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass, field

from codistill.evaluate.multilang.types import (
    BOOL,
    FLOAT,
    UNKNOWN,
    Type,
    conforms,
    merge,
    parse_annotation,
    type_of,
    unify,
)
from codistill.evaluate.multilang.values import Case, parse_check
from codistill.records import Problem


class Skip(Exception):
    """A task (or a task in one language) that cannot be translated; the message says why."""

    @property
    def reason(self) -> str:
        """The recorded reason."""
        return str(self)


@dataclass(frozen=True)
class Param:
    """One parameter: its Python name and its Type."""

    name: str
    type: Type


@dataclass
class Task:
    """Everything a target language needs to write one HumanEval task."""

    id: str  # "HumanEval/12"
    name: str  # the Python entry point
    params: list[Param]
    returns: Type
    doc: str
    cases: list[Case]
    total: int  # assertions seen in the Python tests, kept or not
    dropped: list[tuple[str, str]] = field(default_factory=list)
    helpers: list[str] = field(default_factory=list)  # other functions the prompt defines
    annotated: bool = False  # True when every position's type came from annotations alone

    @property
    def number(self) -> str:
        """The task number, kept in every translated id."""
        return self.id.rsplit("/", 1)[-1]


def read_task(problem: Problem) -> Task:
    """The Task of one Python problem; raises Skip when its shape cannot be translated."""
    name = problem.entry_point
    if not name:
        raise Skip("prompt: no entry point")
    try:
        module = ast.parse(problem.prompt + "\n    pass\n")
    except SyntaxError as err:
        raise Skip(f"prompt: does not parse ({err.msg})") from err
    functions = [n for n in module.body if isinstance(n, ast.FunctionDef)]
    func = next((f for f in functions if f.name == name), None)
    if func is None:
        raise Skip(f"prompt: no function {name}()")
    spec = func.args
    if spec.vararg or spec.kwarg or spec.kwonlyargs or spec.defaults or spec.posonlyargs:
        raise Skip("prompt: variadic, keyword-only or default parameters")

    found = parse_check(problem.tests, name)
    arity = len(spec.args)
    cases, dropped = [], list(found.dropped)
    for case in found.cases:
        if len(case.args) == arity:
            cases.append(case)
        else:
            dropped.append((case.source, f"{len(case.args)} arguments for {arity} parameters"))

    params = []
    for i, arg in enumerate(spec.args):
        annotated = parse_annotation(arg.annotation)
        values = [c.args[i] for c in cases]
        position = _position_type(annotated, values)
        if position.contains("any") and not annotated.contains("any"):
            position = _majority_type(values) or position
        params.append(Param(arg.arg, position))
    annotated_return = parse_annotation(func.returns)
    returns = _return_type(annotated_return, cases)
    kept = []
    for case in cases:
        if case.truthiness and returns != BOOL:
            dropped.append((case.source, f"truthiness test on a {returns} result"))
        elif not all(conforms(v, p.type) for v, p in zip(case.args, params, strict=True)):
            dropped.append((case.source, "an argument's type differs from most cases"))
        elif _whole_float_among_ints(case, cases):
            dropped.append((case.source, "tells a whole float from an int, which only Python can"))
        elif not conforms(case.expected, returns):
            dropped.append((case.source, f"expected value does not fit {returns}"))
        else:
            kept.append(case)
    return Task(
        id=problem.id,
        name=name,
        params=params,
        returns=returns,
        doc=_docstring(func),
        cases=kept,
        total=found.total,
        dropped=dropped,
        helpers=[f.name for f in functions if f.name != name],
        annotated=all(parse_annotation(a.annotation).complete for a in spec.args)
        and annotated_return.complete,
    )


def _position_type(annotated: Type, values: list) -> Type:
    inferred = UNKNOWN
    for value in values:
        inferred = unify(inferred, type_of(value))
    return merge(annotated, inferred)


def _majority_type(values: list) -> Type | None:
    """A precise type for all but a few (at most a quarter) of the values, if there is one.

    HumanEval sometimes adds one Python-only oddity (an empty list where strings go, an int
    key among string keys); those cases are dropped rather than the whole task.
    """
    kinds: dict[str, int] = {}
    for value in values:
        kinds[type_of(value).kind] = kinds.get(type_of(value).kind, 0) + 1
    result, left_out = UNKNOWN, 0
    for value in sorted(values, key=lambda v: -kinds[type_of(v).kind]):
        candidate = unify(result, type_of(value))
        if candidate.contains("any"):
            left_out += 1
        else:
            result = candidate
    if left_out * 4 > len(values) or not result.complete:
        return None
    return result


def _whole_float_among_ints(case: Case, cases: list[Case]) -> bool:
    """True when a scalar argument is a whole float (3.0) where other cases pass ints.

    Only Python tells 3.0 from 3; translated, such a case would demand the impossible.
    """
    for i, value in enumerate(case.args):
        if isinstance(value, float) and value.is_integer() and any(
            type(c.args[i]) is int for c in cases
        ):
            return True
    return False


def _return_type(annotated: Type, cases: list[Case]) -> Type:
    inferred = UNKNOWN
    for case in cases:
        if not case.truthiness:
            seen = type_of(case.expected)
            inferred = unify(inferred, FLOAT if case.tolerance is not None else seen)
    if any(c.truthiness for c in cases) and inferred.kind in ("unknown", "bool"):
        inferred = BOOL
    return merge(annotated, inferred)


def _docstring(func: ast.FunctionDef) -> str:
    """The function's docstring; HumanEval/115 puts an import before it, so look further."""
    if doc := ast.get_docstring(func):
        return doc
    for stmt in func.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
                and isinstance(stmt.value.value, str):
            return inspect.cleandoc(stmt.value.value)
    return ""
