"""Each language's type names and literals, checked on literal inputs and outputs."""

from __future__ import annotations

import pytest

from codistill.evaluate.multilang import REGISTRY, TARGETS
from codistill.evaluate.multilang.base import Signature, Untranslatable
from codistill.evaluate.multilang.types import (
    ANY,
    BOOL,
    FLOAT,
    INT,
    STR,
    dict_of,
    list_of,
    optional,
    tuple_of,
)
from codistill.evaluate.multilang.values import Case

TYPES = {
    "javascript": [],
    "typescript": [
        (list_of(optional(STR)), "(string | null)[]"),
        (tuple_of(INT, FLOAT), "[number, number]"),
        (dict_of(STR, list_of(INT)), "{[key: string]: number[]}"),
        (ANY, "any"),
    ],
    "java": [
        (list_of(list_of(INT)), "List<List<Long>>"),
        (tuple_of(INT, INT), "List<Long>"),
        (dict_of(STR, INT), "Map<String, Long>"),
        (optional(STR), "Optional<String>"),
        (BOOL, "boolean"),
    ],
    "cpp": [
        (list_of(tuple_of(INT, INT)), "std::vector<std::tuple<long, long>>"),
        (tuple_of(STR, BOOL), "std::tuple<std::string, bool>"),
        (dict_of(STR, INT), "std::map<std::string, long>"),
        (optional(INT), "std::optional<long>"),
    ],
    "go": [
        (list_of(list_of(INT)), "[][]int"),
        (tuple_of(INT, INT), "[]int"),
        (dict_of(STR, FLOAT), "map[string]float64"),
    ],
    "c": [(INT, "long"), (FLOAT, "double"), (STR, "const char *"), (list_of(INT), "long *")],
}

LITERALS = {
    "javascript": [
        ([1, 2.5], list_of(FLOAT), "[1.0, 2.5]"),
        ({"a": None}, dict_of(STR, optional(INT)), '{"a": null}'),
        ('say "hi"\n', STR, '"say \\"hi\\"\\n"'),
        ([4, {}, "x"], list_of(ANY), '[4, {}, "x"]'),
    ],
    "typescript": [((1, True), tuple_of(INT, BOOL), "[1, true]")],
    "java": [
        ([1, -2], list_of(INT), "new ArrayList<Long>(Arrays.asList(1L, -2L))"),
        ([], list_of(STR), "new ArrayList<String>()"),
        ({"a": 1}, dict_of(STR, INT),
         'new HashMap<String, Long>(Map.ofEntries(Map.entry("a", 1L)))'),
        (None, optional(STR), "Optional.<String>empty()"),
        ("é\\", STR, '"\\u00e9\\\\"'),
        (3, FLOAT, "3.0"),
    ],
    "cpp": [
        ([[1], []], list_of(list_of(INT)), "std::vector<std::vector<long>>{std::vector<long>{1}, std::vector<long>{}}"),
        ((1, "a"), tuple_of(INT, STR), 'std::tuple<long, std::string>(1, "a")'),
        ({"a": 1.5}, dict_of(STR, FLOAT), 'std::map<std::string, double>{{"a", 1.5}}'),
        (None, optional(INT), "std::optional<long>()"),
        ("a??=b", STR, 'std::string("a?\\?=b")'),
    ],
    "go": [
        ([[1, 2]], list_of(list_of(INT)), "[][]int{[]int{1, 2}}"),
        ({"k": 2}, dict_of(STR, INT), 'map[string]int{"k": 2}'),
        ("tab\t", STR, '"tab\\t"'),
        (float("inf"), FLOAT, "math.Inf(1)"),
    ],
    "c": [
        ([1, 2, 3], list_of(INT), "(long[]){1, 2, 3}, 3"),
        ([], list_of(FLOAT), "NULL, 0"),
        (["a", "b"], list_of(STR), '(const char *[]){"a", "b"}, 2'),
        ("\x01", STR, '"\\001"'),
    ],
}

UNTRANSLATABLE = {
    "javascript": [(2**60, INT), ({1: "a"}, dict_of(INT, STR))],
    "typescript": [(2**60, INT)],
    "java": [(2**64, INT), (None, STR)],
    "cpp": [("é", STR), (None, list_of(INT))],
    "go": [("é", STR)],
    "c": [("é", STR), (2**64, INT)],
}

TYPE_GAPS = {
    "javascript": [dict_of(INT, STR)],
    "typescript": [dict_of(INT, STR)],
    "java": [ANY, tuple_of(STR, BOOL), list_of(ANY)],
    "cpp": [ANY, list_of(ANY)],
    "go": [optional(INT), tuple_of(STR, BOOL), dict_of(list_of(INT), INT)],
    "c": [dict_of(STR, INT), optional(INT), list_of(list_of(INT))],
}


def cases(table):
    return [(lang, *row) for lang in TARGETS for row in table[lang]]


@pytest.mark.parametrize(("lang", "t", "expected"), cases(TYPES))
def test_type_names(lang, t, expected):
    assert REGISTRY[lang].type_name(t) == expected


@pytest.mark.parametrize(("lang", "value", "t", "expected"), cases(LITERALS))
def test_literals(lang, value, t, expected):
    assert REGISTRY[lang].literal(value, t) == expected


@pytest.mark.parametrize(("lang", "value", "t"), cases(UNTRANSLATABLE))
def test_values_without_a_faithful_literal(lang, value, t):
    with pytest.raises(Untranslatable):
        REGISTRY[lang].literal(value, t)


@pytest.mark.parametrize(("lang", "t"), [(lang, t) for lang in TARGETS for t in TYPE_GAPS[lang]])
def test_types_without_a_target_form(lang, t):
    sig = Signature("f", (("x", t),), INT, "f")
    with pytest.raises(Untranslatable, match="parameter 'x'"):
        REGISTRY[lang].check_signature(sig)


def test_c_rejects_string_array_results():
    sig = Signature("f", (("n", INT),), list_of(STR), "f")
    with pytest.raises(Untranslatable, match="string arrays"):
        REGISTRY["c"].check_signature(sig)


DECLARATIONS = {
    "javascript": "function f(xs, string)",
    "typescript": "function f(xs: number[], string: string): number[]",
    "java": "public static List<Long> f(List<Long> xs, String string)",
    "cpp": "std::vector<long> f(std::vector<long> xs, std::string string)",
    "go": "func f(xs []int, string_ string) []int",
    "c": "long *f(long *xs, size_t xs_len, const char *string, size_t *out_len)",
}


@pytest.mark.parametrize("lang", TARGETS)
def test_declarations_rename_reserved_names(lang):
    target = REGISTRY[lang]
    sig = Signature("f", (("xs", list_of(INT)), (target.identifier("string"), STR)),
                    list_of(INT), "f")
    assert target.declaration(sig) == DECLARATIONS[lang]


ASSERTIONS = {
    "javascript": 'assert.ok(cdxClose(f(1.5), 0.5, 1e-06), "case 0");',
    "java": '        cdxCheck(Solution.f(1.5), 0.5, "case 0");',
    "cpp": '    assert((cdx_close(f(1.5), 0.5)) && "case 0");',
    "go": '\tif !cdxEqual(f(1.5), 0.5) {\n\t\tpanic("case 0")\n\t}',
    "c": '    assert(cdx_close(f(1.5), 0.5) && "case 0");',
}


@pytest.mark.parametrize("lang", sorted(ASSERTIONS))
def test_float_results_compare_with_tolerance(lang):
    sig = Signature("f", (("x", FLOAT),), FLOAT, "f")
    line = REGISTRY[lang].assertion(sig, Case((1.5,), 0.5, "f(1.5) == 0.5", 1e-6), "case 0")
    assert line == ASSERTIONS[lang]


def test_c_array_result_reads_length_through_out_param():
    sig = Signature("f", (("xs", list_of(INT)),), list_of(INT), "f")
    text = REGISTRY["c"].assertion(sig, Case(([3, 1],), [1, 3], "src"), "case 0")
    assert "long *cdx_r = f((long[]){3, 1}, 2, &cdx_n);" in text
    assert 'assert(cdx_eq_long(cdx_r, cdx_n, (long[]){1, 3}, 2) && "case 0");' in text
