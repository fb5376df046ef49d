"""Reading HumanEval check functions into literal cases."""

from __future__ import annotations

import ast

import pytest

from codistill.evaluate.multilang.values import Case, NotLiteral, evaluate, parse_check

CHECK = '''
METADATA = {}

def check(candidate):
    import random
    assert candidate([1, 2], 3) == [1, 2, 3], "message"
    assert abs(candidate([1.0], 0) - 2.0 / 4.0) < 1e-6
    assert candidate("a") is None
    assert candidate(-1)
    assert not candidate(3 * 19)
    assert tuple(candidate([3, 1])) == tuple([1, 3])
    assert True, "placeholder"
    for x in range(2, 4):
        assert candidate(x, x + 1) == str(x)
    for _ in range(100):
        y = random.randint(0, 9)
        assert candidate(y) == y
    assert candidate(helper(2)) == 1
'''


def test_parse_check_reads_every_form():
    found = parse_check(CHECK, "f")
    assert found.cases == [
        Case(([1, 2], 3), [1, 2, 3], "candidate([1, 2], 3) == [1, 2, 3]"),
        Case(([1.0], 0), 0.5, "abs(candidate([1.0], 0) - 2.0 / 4.0) < 1e-06", 1e-6),
        Case(("a",), None, "candidate('a') is None"),
        Case((-1,), True, "candidate(-1)", truthiness=True),
        Case((57,), False, "not candidate(3 * 19)", truthiness=True),
        Case(([3, 1],), [1, 3], "tuple(candidate([3, 1])) == tuple([1, 3])"),
        Case((2, 3), "2", "candidate(x, x + 1) == str(x)"),
        Case((3, 4), "3", "candidate(x, x + 1) == str(x)"),
    ]
    reasons = [why for _, why in found.dropped]
    assert reasons[0].startswith("loop over generated inputs")
    assert reasons[1] == "call to helper()"
    assert found.total == 10


def test_entry_point_name_is_accepted_like_candidate():
    found = parse_check("def check(candidate):\n    assert f(1) == 2\n", "f")
    assert found.cases == [Case((1,), 2, "f(1) == 2")]


def test_computed_names_are_dropped_with_reason():
    code = ("def check(candidate):\n    lst = list(range(3))\n    s = sum([i for i in lst])\n"
            "    assert candidate(lst) == s\n")
    found = parse_check(code)
    assert found.cases == []
    assert found.dropped == [("candidate(lst) == s", "computed value 's'")]


@pytest.mark.parametrize(
    ("text", "value"),
    [("-3", -3), ("[1, 0 ** 0]", [1, 1]), ("'ab' + 'c'", "abc"), ("(1, 2)", (1, 2)),
     ("{'a': 1}", {"a": 1}), ("str(12)", "12"), ("list(range(3))", [0, 1, 2])],
)
def test_evaluate_literals(text, value):
    assert evaluate(ast.parse(text, mode="eval").body) == value


@pytest.mark.parametrize("text", ["{1, 2}", "f(1)", "x", "2 ** 100000", "lambda: 1"])
def test_evaluate_rejects_non_data(text):
    with pytest.raises(NotLiteral):
        evaluate(ast.parse(text, mode="eval").body)
