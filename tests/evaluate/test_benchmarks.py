"""Benchmark loaders on fixtures written in each benchmark's published layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codistill.evaluate.benchmarks import BenchmarkError, load_benchmark
from codistill.evaluate.benchmarks.evalplus_harness import input_kind
from codistill.prompting import solve_prompt


def test_humaneval_from_the_package() -> None:
    problems = load_benchmark("humaneval")
    assert len(problems) == 164
    first = problems[0]
    assert first.id == "HumanEval/0" and first.entry_point == "has_close_elements"
    assert "def check(candidate)" in first.tests
    assert first.reference.startswith(first.prompt)
    assert "Complete the following Python function" in solve_prompt(first)
    assert [p.id for p in load_benchmark("humaneval", limit=3)] == [f"HumanEval/{i}" for i in range(3)]


def test_mbpp_sanitized_fixture(fixtures: Path) -> None:
    problems = load_benchmark(f"mbpp:{fixtures / 'mbpp' / 'sanitized-mbpp.json'}")
    # task 2 is a few-shot prompt task, outside the test split 11-510
    assert [p.id for p in problems] == ["Mbpp/11", "Mbpp/12", "Mbpp/13", "Mbpp/14"]
    area = problems[2]
    assert area.entry_point == "circle_area"
    assert area.tests.startswith("import math\n\n")
    assert area.tests.count("assert ") == 3
    assert "Your function must pass this test:\nassert math.isclose(circle_area(1)" in area.question
    assert area.meta["completion_prompt"].startswith('"""\nWrite a function to find the area')
    assert area.prompt == ""  # instruct models get the question, not a code prompt
    asked = solve_prompt(area)
    assert "circle_area" in asked and "Write the solution in Python" in asked


def test_mbpp_default_looks_in_the_benchmarks_folder(fixtures: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODISTILL_HOME", str(tmp_path))
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "sanitized-mbpp.json").write_text(
        (fixtures / "mbpp" / "sanitized-mbpp.json").read_text())
    assert len(load_benchmark("mbpp")) == 4


def test_humanevalplus_release_fixture(fixtures: Path) -> None:
    problems = load_benchmark(f"humaneval+:{fixtures / 'evalplus' / 'HumanEvalPlus-fixture.jsonl'}")
    assert [p.id for p in problems] == [f"HumanEval/{i}" for i in range(900, 904)]
    mean = problems[0]
    assert mean.prompt.startswith("from typing import List") and mean.entry_point == "mean_of"
    assert "def check(candidate)" in mean.tests and "_CDX_INPUTS" in mean.tests
    assert mean.reference == mean.prompt + "    return sum(values) / len(values)\n"
    assert mean.meta["timeout_s"] >= 10
    assert "'poly_root'" in problems[3].tests  # find_zero gets EvalPlus's root oracle


def test_mbppplus_release_fixture(fixtures: Path) -> None:
    problems = load_benchmark(f"mbpp+:{fixtures / 'evalplus' / 'MbppPlus-fixture.jsonl'}")
    assert [p.id for p in problems] == ["Mbpp/2", "Mbpp/17", "Mbpp/124", "Mbpp/250"]
    common = problems[0]
    assert common.entry_point == "common_sorted"
    assert common.question.startswith("Write a function to find the elements present in both")
    assert "assert common_sorted((3, 4, 5, 6), (5, 7, 4, 10)) == (4, 5)" in common.question
    assert common.meta["completion_prompt"].startswith('"""\nWrite a function')
    assert "_CDX_KIND = 'tuple_args'" in common.tests
    assert input_kind(124) == "float_complex" and input_kind(17) is None


def test_evalplus_hub_layouts(fixtures: Path) -> None:
    he = load_benchmark(f"humaneval+:{fixtures / 'evalplus' / 'humanevalplus-hub.jsonl'}")
    assert [p.entry_point for p in he] == ["clamp", "count_words"]
    assert he[0].tests.lstrip().startswith("import math")
    mb = load_benchmark(f"mbpp+:{fixtures / 'evalplus' / 'mbppplus-hub.jsonl'}")
    assert [(p.id, p.entry_point) for p in mb] == [("Mbpp/20", "double_all"), ("Mbpp/21", "first_upper")]
    assert "assertion(double_all(*inp), exp, 0)" in mb[0].tests


@pytest.mark.parametrize(("ext", "language", "entries"), [
    ("py", "python", ["sum_squares", "reverse_words", "is_even"]),
    ("js", "javascript", ["sum_squares", "reverse_words", "is_even"]),
    ("ts", "typescript", ["sum_squares", "reverse_words", "is_even"]),
    ("cpp", "cpp", ["sum_squares", "reverse_words", "is_even"]),
    ("java", "java", ["sumSquares", "reverseWords", "isEven"]),
    ("go", "go", ["sum_squares", "reverse_words", "is_even"]),
    ("rs", "rust", ["sum_squares", "reverse_words", "is_even"]),
])
def test_multiple_fixtures_map_to_sandbox_conventions(fixtures: Path, ext: str, language: str,
                                                      entries: list[str]) -> None:
    problems = load_benchmark(f"multipl-e:{fixtures / 'multipl-e' / f'humaneval-{ext}-fixture.json'}")
    assert [p.language for p in problems] == [language] * 3
    assert [p.entry_point for p in problems] == entries
    assert problems[0].id == "HumanEval_900_sum_squares"
    assert problems[0].meta["stop"]
    tests = problems[0].tests
    if language in ("cpp", "rust"):
        assert not tests.lstrip().startswith("}")
        assert problems[0].meta["completion_suffix"] == "\n}\n"
    if language == "java":
        assert "public class Main extends Problem {" in tests
        assert "org.javatuples" not in problems[0].prompt
    if language == "go":
        assert tests.startswith("package main") and "*testing.T" not in tests and "func main()" in tests


def test_multiple_unsupported_language_is_refused(tmp_path: Path) -> None:
    row = {"name": "HumanEval_0_x", "language": "lua", "prompt": "local function x()\n",
           "doctests": "keep", "original": "x.py", "prompt_terminology": "verbatim",
           "tests": "lu = require('luaunit')", "stop_tokens": ["\nlocal"]}
    path = tmp_path / "humaneval-lua.json"
    path.write_text(json.dumps([row]))
    with pytest.raises(BenchmarkError, match="'lua' has no toolchain.*supported: cpp, go"):
        load_benchmark(f"multipl-e:{path}")


def test_user_jsonl_of_problems(tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    rows = [
        {"id": "mine/1", "question": "Double x.", "entry_point": "double",
         "tests": "assert double(2) == 4\n", "reference": "def double(x):\n    return 2 * x\n"},
        {"task_id": "he/1", "prompt": "def inc(x):\n", "entry_point": "inc",
         "test": "def check(candidate):\n    assert candidate(1) == 2\n",
         "canonical_solution": "    return x + 1\n"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    problems = load_benchmark(str(path))
    assert [p.id for p in problems] == ["mine/1", "he/1"]
    assert problems[0].source == str(path)
    assert load_benchmark(f"jsonl:{path}", limit=1)[0].id == "mine/1"


@pytest.mark.parametrize(("content", "message"), [
    ('{"id": "a", "question": "q"}\n', "has no tests"),
    ('{"id": "a", "question": "q", "tests": "x", "colour": 1}\n', "unknown field `colour`"),
    ('{"id": "a", "question": "q", "tests": "x"}\n{"id": "a", "question": "q", "tests": "y"}\n',
     "duplicate problem ids a"),
    ("not json\n", ":1: not valid JSON"),
])
def test_user_jsonl_errors_name_the_problem(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(BenchmarkError, match=message):
        load_benchmark(f"jsonl:{path}")


def test_unknown_benchmark_lists_the_known_ones() -> None:
    with pytest.raises(BenchmarkError) as info:
        load_benchmark("humaneavl")
    text = str(info.value)
    assert "unknown benchmark 'humaneavl'" in text
    for name in ("humaneval", "mbpp", "humaneval+", "mbpp+", "humaneval-<lang>", "multipl-e:"):
        assert name in text


def test_missing_file_and_wrong_format_are_clear(fixtures: Path) -> None:
    with pytest.raises(BenchmarkError, match="does not exist"):
        load_benchmark("mbpp:/nowhere/sanitized-mbpp.json")
    with pytest.raises(BenchmarkError, match="missing field.*code"):
        load_benchmark(f"mbpp:{fixtures / 'evalplus' / 'HumanEvalPlus-fixture.jsonl'}")
