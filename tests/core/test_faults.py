"""AST fault injection: each operator makes the intended, deterministic change."""

from __future__ import annotations

import random

import pytest

from codistill.faults import ALL_OPERATORS, FAULT_TYPES, OPERATORS, mutants, mutate


def _run(code: str, name: str, *args: object) -> object:
    scope: dict[str, object] = {}
    exec(compile(code, "<mutant>", "exec"), scope)  # noqa: S102 - our own literal code
    return scope[name](*args)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("operator", "code", "expected_line"),
    [
        ("off_by_one_range", "def f(n):\n    return [i for i in range(n)]\n",
         "return [i for i in range(n - 1)]"),
        ("off_by_one_slice", "def f(s):\n    return s[1:]\n", "return s[1 + 1:]"),
        ("flip_comparison", "def f(a, b):\n    return a < b\n", "return a <= b"),
        ("wrong_operator", "def f(a, b):\n    return a + b\n", "return a - b"),
        ("swap_arguments", "def f(a, b):\n    return pow(a, b)\n", "return pow(b, a)"),
        ("wrong_return", "def f(a):\n    return True\n", "return False"),
        ("misspelled_name", "def f(total):\n    return total\n", "return totla"),
        ("type_confusion", "def f(a):\n    return a * 2\n", "return str(a * 2)"),
    ],
)
def test_operator_makes_the_intended_change(operator: str, code: str, expected_line: str) -> None:
    mutant = mutate(code, operator, random.Random(0))
    assert mutant is not None and mutant.operator == operator
    assert expected_line in mutant.code
    assert mutant.fault_type == OPERATORS[operator][0]


def test_remove_guard_drops_the_base_case() -> None:
    code = "def fact(n):\n    if n <= 1:\n        return 1\n    return n * fact(n - 1)\n"
    mutant = mutate(code, "remove_guard", random.Random(0))
    assert mutant is not None and "if n <= 1" not in mutant.code
    with pytest.raises(RecursionError):
        _run(mutant.code, "fact", 3)


def test_non_terminating_loop_zeroes_the_step() -> None:
    code = "def f(n):\n    i = 0\n    while i < n:\n        i += 1\n    return i\n"
    mutant = mutate(code, "non_terminating_loop", random.Random(0))
    assert mutant is not None and mutant.fault_type == "timeout"
    assert "i += 0" in mutant.code


def test_missing_colon_is_a_syntax_error() -> None:
    mutant = mutate("def f(a):\n    if a:\n        return 1\n    return 2\n", "missing_colon",
                    random.Random(0))
    assert mutant is not None and mutant.fault_type == "syntax"
    with pytest.raises(SyntaxError):
        compile(mutant.code, "<m>", "exec")


def test_mutants_are_distinct_reproducible_and_change_behaviour() -> None:
    code = (
        "def count_above(xs, k):\n"
        "    if not xs:\n        return 0\n"
        "    n = 0\n"
        "    for i in range(len(xs)):\n"
        "        if xs[i] > k:\n            n += 1\n"
        "    return n\n"
    )
    first = mutants(code, 6, seed=7)
    assert first == mutants(code, 6, seed=7)
    assert len({m.code for m in first}) == len(first) == 6
    assert len({m.operator for m in first}) == 6
    changed = 0
    for m in first:
        if m.fault_type == "timeout":  # would hang in-process; the sandbox times it out
            changed += 1
            continue
        try:
            changed += _run(m.code, "count_above", [1, 5, 7], 2) != 2
        except Exception:  # noqa: BLE001 - raising is a behaviour change too
            changed += 1
    assert changed >= 4  # most mutants break this input; the sandbox filters the rest


def test_unparseable_or_inapplicable_code_gives_nothing() -> None:
    assert mutate("def f(:\n", "flip_comparison", random.Random(0)) is None
    assert mutate("def f():\n    pass\n", "swap_arguments", random.Random(0)) is None
    assert set(FAULT_TYPES) >= {OPERATORS[o][0] for o in OPERATORS}
    assert "missing_colon" in ALL_OPERATORS
