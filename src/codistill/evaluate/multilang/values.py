"""Read HumanEval's `check(candidate)` into test cases of literal values, with `ast`.

Only what is plainly data is kept: arguments and expected values that are literals or
arithmetic on literals, and loops over a constant `range` (unrolled). Random inputs, calls to
other functions and computed expectations are dropped, each with the reason why.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass, field
from typing import Any

_MAX_UNROLL = 64
_BINOPS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_CONVERSIONS = {"str": str, "int": int, "float": float, "tuple": tuple, "list": list, "abs": abs}


class NotLiteral(ValueError):
    """An expression that is not plain data; the message says what it is instead."""


@dataclass(frozen=True)
class Case:
    """One test: call the function with `args`, compare the result with `expected`.

    `tolerance` is set when the Python test compared with `abs(result - expected) < tol`.
    """

    args: tuple[Any, ...]
    expected: Any
    source: str
    tolerance: float | None = None
    truthiness: bool = False  # `assert candidate(x)` / `assert not candidate(x)`


@dataclass
class Cases:
    """The cases read from one check function, and the asserts that could not be read."""

    cases: list[Case] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (python source, reason)

    @property
    def total(self) -> int:
        """Number of assertions seen (kept and dropped)."""
        return len(self.cases) + len(self.dropped)


def evaluate(node: ast.expr, env: dict[str, Any] | None = None) -> Any:
    """The value of a literal expression: constants, containers, arithmetic, a few builtins."""
    env = env or {}
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bytes | complex) or node.value is ...:
            raise NotLiteral(f"{type(node.value).__name__} constant")
        return node.value
    if isinstance(node, ast.List):
        return [evaluate(e, env) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(evaluate(e, env) for e in node.elts)
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise NotLiteral("dict unpacking")
        return {evaluate(k, env): evaluate(v, env) for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.Set):
        raise NotLiteral("set literal")
    if isinstance(node, ast.UnaryOp):
        value = evaluate(node.operand, env)
        if isinstance(node.op, ast.USub):
            return -value
        if isinstance(node.op, ast.UAdd):
            return +value
        if isinstance(node.op, ast.Not):
            return not value
        raise NotLiteral(f"operator {type(node.op).__name__}")
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = evaluate(node.left, env), evaluate(node.right, env)
        if isinstance(node.op, ast.Pow) and isinstance(right, int) and abs(right) > 256:
            raise NotLiteral("huge power")
        try:
            return _BINOPS[type(node.op)](left, right)
        except (TypeError, ArithmeticError) as err:
            raise NotLiteral(f"arithmetic fails: {err}") from err
    if isinstance(node, ast.Name):
        if node.id in env:
            return env[node.id]
        raise NotLiteral(f"computed value {node.id!r}")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        name = node.func.id
        if name == "range":
            bounds = [evaluate(a, env) for a in node.args]
            if not all(isinstance(b, int) for b in bounds):
                raise NotLiteral("range over non-integers")
            return range(*bounds)
        if name in _CONVERSIONS and len(node.args) == 1:
            value = evaluate(node.args[0], env)
            result = _CONVERSIONS[name](value)
            return list(result) if isinstance(result, range) else result
        raise NotLiteral(f"call to {name}()")
    raise NotLiteral(f"expression {type(node).__name__}")


def parse_check(test_code: str, entry_point: str = "candidate") -> Cases:
    """The cases of HumanEval's `def check(candidate)` (or of top-level asserts)."""
    tree = ast.parse(test_code)
    body: list[ast.stmt] = tree.body
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "check":
            body = node.body
            break
    names = {"candidate", entry_point}
    found = Cases()
    _walk(body, {}, names, found)
    return found


def _walk(body: list[ast.stmt], env: dict[str, Any], names: set[str], found: Cases) -> None:
    for stmt in body:
        if isinstance(stmt, ast.Assert):
            _read_assert(stmt, env, names, found)
        elif isinstance(stmt, ast.For):
            _unroll(stmt, env, names, found)
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], ast.Name):
            try:
                env[stmt.targets[0].id] = evaluate(stmt.value, env)
            except NotLiteral:
                env.pop(stmt.targets[0].id, None)
        elif isinstance(stmt, ast.Import | ast.ImportFrom | ast.Expr | ast.Pass):
            continue  # imports, prints and bare strings test nothing
        else:
            for inner in ast.walk(stmt):
                if isinstance(inner, ast.Assert):
                    found.dropped.append((ast.unparse(inner), f"inside {type(stmt).__name__.lower()}"))


def _unroll(loop: ast.For, env: dict[str, Any], names: set[str], found: Cases) -> None:
    asserts = [ast.unparse(n) for n in ast.walk(loop) if isinstance(n, ast.Assert)]
    try:
        values = evaluate(loop.iter, env)
        if not isinstance(loop.target, ast.Name) or loop.orelse:
            raise NotLiteral("loop target is not a name")
        values = list(values)
        if len(values) > _MAX_UNROLL:
            raise NotLiteral("loop too long to unroll")
    except (NotLiteral, TypeError) as err:
        found.dropped.extend((a, f"loop over generated inputs ({err})") for a in asserts)
        return
    for value in values:
        _walk(loop.body, {**env, loop.target.id: value}, names, found)


def _read_assert(stmt: ast.Assert, env: dict[str, Any], names: set[str], found: Cases) -> None:
    source = ast.unparse(stmt.test)
    if isinstance(stmt.test, ast.Constant):
        return  # `assert True`: HumanEval's placeholder, not a test
    try:
        call, expected, tolerance = _split(stmt.test, env, names)
        args = tuple(evaluate(a, env) for a in call.args)
    except NotLiteral as err:
        found.dropped.append((source, str(err)))
        return
    truthiness = not isinstance(stmt.test, ast.Compare)
    found.cases.append(Case(args, expected, source, tolerance, truthiness))


def _candidate_call(node: ast.expr, names: set[str]) -> ast.Call | None:
    """The candidate call in `node`, looking through tuple()/list() wrappers."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id in names:
            if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
                raise NotLiteral("keyword or starred arguments")
            return node
        if node.func.id in ("tuple", "list") and len(node.args) == 1 and not node.keywords:
            return _candidate_call(node.args[0], names)
    return None


def _split(test: ast.expr, env: dict[str, Any], names: set[str]) -> tuple[ast.Call, Any, float | None]:
    """(candidate call, expected value, tolerance) of one assert's test expression."""
    if call := _candidate_call(test, names):
        return call, True, None
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        if call := _candidate_call(test.operand, names):
            return call, False, None
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, op, right = test.left, test.ops[0], test.comparators[0]
        if isinstance(op, ast.Eq | ast.Is):
            for side, other in ((left, right), (right, left)):
                if call := _candidate_call(side, names):
                    expected = evaluate(other, env)
                    if isinstance(op, ast.Is) and expected not in (True, False, None):
                        raise NotLiteral("identity test on a non-singleton")
                    return call, _untuple(other, expected), None
        if isinstance(op, ast.Lt | ast.LtE) and (diff := _abs_difference(left, names)):
            call, other = diff
            tolerance = evaluate(right, env)
            if isinstance(tolerance, int | float) and not isinstance(tolerance, bool):
                return call, evaluate(other, env), float(tolerance)
    raise NotLiteral("unsupported assertion form")


def _untuple(node: ast.expr, value: Any) -> Any:
    """`tuple([..])` on the expected side only mirrors a `tuple(candidate(..))` wrapper."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tuple":
        return list(value)
    return value


def _abs_difference(node: ast.expr, names: set[str]) -> tuple[ast.Call, ast.expr] | None:
    """(candidate call, other operand) of `abs(candidate(..) - y)` or `math.fabs(y - candidate(..))`."""
    if not (isinstance(node, ast.Call) and len(node.args) == 1):
        return None
    func = node.func
    is_abs = (isinstance(func, ast.Name) and func.id in ("abs", "fabs")) or (
        isinstance(func, ast.Attribute) and func.attr == "fabs")
    inner = node.args[0]
    if not is_abs or not (isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Sub)):
        return None
    for side, other in ((inner.left, inner.right), (inner.right, inner.left)):
        if call := _candidate_call(side, names):
            return call, other
    return None
