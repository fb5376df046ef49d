"""Test code for EvalPlus tasks: differential testing against the embedded canonical solution.

EvalPlus publishes inputs, not expected outputs (`base_input`, `plus_input`), and scores a
candidate by comparing its output with the canonical solution's on every input. The generated
`check(candidate)` does exactly that inside the sandbox: it runs the reference in its own
namespace (so helper names never collide with the candidate's), gives each side a deep copy of
the input (so a mutating candidate cannot change what the reference sees), and compares the way
EvalPlus does: equal, or for floats within `atol` (1e-6 when the task gives 0), relative
tolerance 1e-7 as numpy's `assert_allclose`.
"""

from __future__ import annotations

import json
import math
from typing import Any

# How MBPP+ stores inputs whose Python type JSON cannot hold, per EvalPlus's own loader:
# each kind names one conversion the harness applies before calling either side.
INPUT_KINDS = {
    "tuple_args": {2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596,
                   616, 630, 726, 740, 744, 809},
    "tuple_items_args": {63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780},
    "tuple_items_first": {75, 413, 444, 753},
    "tuple_second": {106, 750},
    "tuple_first": {250, 307, 405, 446, 617, 720, 763, 808},
    "tuple_of_tuples_args": {259, 401, 445},
    "mixed_tuple_first": {278},
    "dict_tuple_values_first": {722},
    "complex_first": {252},
    "float_complex": {124},
    "sets_first": {115},
    "all_tuples": {580, 615, 791},
}


def input_kind(task_number: int) -> str | None:
    """The MBPP+ input conversion a task needs, if any."""
    return next((kind for kind, ids in INPUT_KINDS.items() if task_number in ids), None)


_TEMPLATE = '''
import copy as _cdx_copy
import json as _cdx_json
import math as _cdx_math

_CDX_REFERENCE = {reference}
_CDX_ENTRY = {entry}
_CDX_INPUTS = _cdx_json.loads({inputs})
_CDX_ATOL = {atol}
_CDX_KIND = {kind}
_CDX_ORACLE = {oracle}


def _cdx_tuples(value):
    if isinstance(value, list):
        return tuple(_cdx_tuples(v) for v in value)
    return value


def _cdx_convert(args):
    kind = _CDX_KIND
    if kind == "tuple_args":
        return [tuple(a) for a in args]
    if kind == "tuple_items_args":
        return [[tuple(x) for x in a] for a in args]
    if kind == "tuple_items_first":
        return [[tuple(x) for x in args[0]]] + list(args[1:])
    if kind == "tuple_second":
        return [args[0], tuple(args[1])] + list(args[2:])
    if kind == "tuple_first":
        return [tuple(args[0])] + list(args[1:])
    if kind == "tuple_of_tuples_args":
        return [tuple(tuple(x) for x in a) for a in args]
    if kind == "mixed_tuple_first":
        return [tuple(tuple(x) if isinstance(x, list) else x for x in args[0])] + list(args[1:])
    if kind == "dict_tuple_values_first":
        return [{{k: tuple(v) for k, v in args[0].items()}}] + list(args[1:])
    if kind == "complex_first":
        return [complex(args[0])] + list(args[1:])
    if kind == "float_complex":
        return [float(args[0]), complex(args[1])]
    if kind == "sets_first":
        return [[set(x) if isinstance(x, list) and x else {{}} for x in args[0]]]
    if kind == "all_tuples":
        return list(_cdx_tuples(list(args)))
    return args


def _cdx_floats(value):
    if isinstance(value, float):
        return True
    return isinstance(value, (list, tuple)) and len(value) > 0 and all(isinstance(v, float) for v in value)


def _cdx_close(actual, expected, atol):
    if isinstance(expected, (list, tuple)):
        return (isinstance(actual, (list, tuple)) and len(actual) == len(expected)
                and all(_cdx_close(a, e, atol) for a, e in zip(actual, expected)))
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        if _cdx_math.isnan(expected) or _cdx_math.isnan(actual):
            return _cdx_math.isnan(expected) and _cdx_math.isnan(actual)
        return abs(actual - expected) <= atol + 1e-7 * abs(expected)
    return actual == expected


def _cdx_same(actual, expected):
    try:
        if actual == expected:
            return True
    except Exception:
        return False
    atol = _CDX_ATOL
    if atol == 0 and _cdx_floats(expected):
        atol = 1e-6
    return atol != 0 and _cdx_close(actual, expected, atol)


def _cdx_reference_function():
    namespace = {{"__name__": "_cdx_reference"}}
    exec(compile(_CDX_REFERENCE, "<canonical solution>", "exec"), namespace)
    return namespace[_CDX_ENTRY]


def check(candidate):
    reference = _cdx_reference_function()
    for index, raw in enumerate(_CDX_INPUTS):
        args = _cdx_convert(raw)
        expected = reference(*_cdx_copy.deepcopy(args))
        actual = candidate(*_cdx_copy.deepcopy(args))
        if _CDX_ORACLE == "poly_root":
            xs = args[0]
            value = sum(c * _cdx_math.pow(actual, i) for i, c in enumerate(xs))
            assert abs(value) <= max(_CDX_ATOL, 1e-6), f"input {{index}}: not a root: poly={{value!r}}"
        assert _cdx_same(actual, expected), (
            f"input {{index}}: {{repr(raw)[:200]}} -> {{repr(actual)[:200]}}, expected {{repr(expected)[:200]}}"
        )
'''


def harness(reference: str, entry_point: str, inputs: list[Any], atol: float,
            kind: str | None = None, oracle: str | None = None) -> str:
    """The Python test code (defining `check(candidate)`) for one EvalPlus task."""
    text = json.dumps(inputs, allow_nan=True)
    return _TEMPLATE.format(
        reference=repr(reference), entry=repr(entry_point), inputs=repr(text),
        atol=repr(float(atol)) if math.isfinite(float(atol)) else "0.0",
        kind=repr(kind), oracle=repr(oracle),
    ).lstrip("\n")
