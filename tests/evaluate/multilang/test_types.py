"""The type model: annotations, inference from values, unification, conformance."""

from __future__ import annotations

import ast

import pytest

from codistill.evaluate.multilang.types import (
    ANY,
    BOOL,
    FLOAT,
    INT,
    NONE,
    STR,
    UNKNOWN,
    conforms,
    dict_of,
    list_of,
    merge,
    optional,
    parse_annotation,
    tuple_of,
    type_of,
    unify,
)


def annotation(text: str):
    return parse_annotation(ast.parse(text, mode="eval").body)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("int", INT),
        ("List[float]", list_of(FLOAT)),
        ("list", list_of(UNKNOWN)),
        ("Tuple[int, int]", tuple_of(INT, INT)),
        ("Dict[str, int]", dict_of(STR, INT)),
        ("Optional[str]", optional(STR)),
        ("List[Any]", list_of(ANY)),
        ("Union[int, float]", FLOAT),
        ("tuple[str, ...]", list_of(STR)),
    ],
)
def test_annotations_parse(text, expected):
    assert annotation(text) == expected


def test_unknown_annotation_is_any_with_reason():
    parsed = annotation("Callable[[int], int]")
    assert parsed.kind == "any" and "Callable" in parsed.why


def test_missing_annotation_is_unknown():
    assert parse_annotation(None) == UNKNOWN


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, BOOL),
        (3, INT),
        (2.5, FLOAT),
        ("x", STR),
        (None, NONE),
        ([1, 2.5], list_of(FLOAT)),
        ([], list_of(UNKNOWN)),
        ((1, "a"), tuple_of(INT, STR)),
        ({"a": [1]}, dict_of(STR, list_of(INT))),
    ],
)
def test_type_of_values(value, expected):
    assert type_of(value) == expected


def test_unify_widens_and_wraps():
    assert unify(INT, FLOAT) == FLOAT
    assert unify(NONE, STR) == optional(STR)
    assert unify(optional(INT), FLOAT) == optional(FLOAT)
    assert unify(list_of(UNKNOWN), list_of(STR)) == list_of(STR)
    # Tuples of different lengths are sequences of one element type.
    assert unify(tuple_of(STR, STR), tuple_of()) == list_of(STR)


def test_unify_clash_says_why():
    clash = unify(BOOL, INT)
    assert clash.kind == "any" and clash.why == "mixes bool and int"
    assert unify(list_of(STR), INT).kind == "any"


def test_merge_fills_only_unknown_parts():
    assert merge(list_of(UNKNOWN), list_of(INT)) == list_of(INT)
    assert merge(UNKNOWN, tuple_of(INT, INT)) == tuple_of(INT, INT)
    assert merge(FLOAT, INT) == FLOAT
    assert merge(list_of(ANY), list_of(INT)) == list_of(ANY)


def test_conforms():
    assert conforms(3, FLOAT) and not conforms(2.5, INT)
    assert not conforms(True, INT)
    assert conforms(None, optional(STR)) and not conforms(None, STR)
    assert conforms((1, 2), tuple_of(INT, INT)) and not conforms((1,), tuple_of(INT, INT))
    assert not conforms({1: "a"}, dict_of(STR, STR))


def test_str_reads_like_python():
    assert str(dict_of(STR, list_of(optional(INT)))) == "Dict[str, List[Optional[int]]]"
