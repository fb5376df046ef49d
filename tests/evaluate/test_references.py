"""Every reference passes through our sandbox, and wrong answers fail: fixtures and HumanEval."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from codistill.evaluate import load_benchmark, score_samples
from codistill.evaluate.runner import execute
from codistill.extract import assemble_program
from codistill.records import Problem, Sample
from codistill.sandbox.types import Limits

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PYTHON_FIXTURES = [
    "mbpp:" + str(FIXTURES / "mbpp" / "sanitized-mbpp.json"),
    "humaneval+:" + str(FIXTURES / "evalplus" / "HumanEvalPlus-fixture.jsonl"),
    "humaneval+:" + str(FIXTURES / "evalplus" / "humanevalplus-hub.jsonl"),
    "mbpp+:" + str(FIXTURES / "evalplus" / "MbppPlus-fixture.jsonl"),
    "mbpp+:" + str(FIXTURES / "evalplus" / "mbppplus-hub.jsonl"),
]
MULTIPLE = ["py", "js", "ts", "cpp", "java", "go", "rs"]


def run_programs(problems: list[Problem], programs: list[str]) -> list[Sample]:
    by_id = {p.id: p for p in problems}
    samples = [Sample(task_id=p.id, completion="", program=src) for p, src in zip(problems, programs, strict=True)]
    return execute(by_id, samples, Limits(timeout_s=20.0))


@pytest.mark.parametrize("name", PYTHON_FIXTURES)
def test_python_fixture_references_pass(name: str) -> None:
    problems = load_benchmark(name)
    results = run_programs(problems, [p.reference for p in problems])
    assert [(s.task_id, s.status) for s in results] == [(p.id, "passed") for p in problems], \
        [s.message for s in results]


@pytest.mark.parametrize("name", PYTHON_FIXTURES)
def test_python_fixture_wrong_answers_fail(name: str) -> None:
    problems = load_benchmark(name)
    wrong = [f"def {p.entry_point}(*args):\n    return None\n" for p in problems]
    results = run_programs(problems, wrong)
    assert all(not s.passed for s in results), [(s.task_id, s.status) for s in results]


def test_evalplus_tests_catch_what_the_base_tests_miss() -> None:
    problems = load_benchmark("humaneval+:" + str(FIXTURES / "evalplus" / "HumanEvalPlus-fixture.jsonl"))
    by_name = {p.entry_point: p for p in problems}
    # Right on the base inputs, wrong on a plus input (the 40 consonants before "ia").
    capped = ("def longest_vowel_run(text):\n    best = run = 0\n    for ch in text[:20]:\n"
              "        run = run + 1 if ch.lower() in 'aeiou' else 0\n        best = max(best, run)\n"
              "    return best\n")
    # Floats within atol pass; a root found by another method passes the find_zero oracle.
    close = "def mean_of(values):\n    return sum(values) / len(values) + 1e-9\n"
    newton = ("def find_zero(xs):\n    x = 0.5\n    for _ in range(100):\n"
              "        f = sum(c * x ** i for i, c in enumerate(xs))\n"
              "        d = sum(i * c * x ** (i - 1) for i, c in enumerate(xs) if i)\n"
              "        x -= f / d\n    return x\n")
    # Mutating the input must not change what the reference sees.
    mutating = "def sorted_unique(numbers):\n    numbers.sort()\n    return sorted(set(numbers))\n"
    cases = [(by_name["longest_vowel_run"], capped, False), (by_name["mean_of"], close, True),
             (by_name["find_zero"], newton, True), (by_name["sorted_unique"], mutating, True)]
    results = run_programs([c[0] for c in cases], [c[1] for c in cases])
    assert [s.passed for s in results] == [c[2] for c in cases], [s.message for s in results]


def test_mbppplus_inputs_get_their_python_types() -> None:
    problems = load_benchmark("mbpp+:" + str(FIXTURES / "evalplus" / "MbppPlus-fixture.jsonl"))
    by_name = {p.entry_point: p for p in problems}
    # Only correct when the inputs really are tuples and complex numbers.
    tuple_only = "def count_in_tuple(tup, x):\n    assert isinstance(tup, tuple)\n    return tup.count(x)\n"
    complex_only = "def magnitude_of_sum(x, z):\n    assert isinstance(z, complex)\n    return abs(x + z)\n"
    results = run_programs([by_name["count_in_tuple"], by_name["magnitude_of_sum"]],
                           [tuple_only, complex_only])
    assert [s.status for s in results] == ["passed", "passed"], [s.message for s in results]


@pytest.mark.parametrize("ext", MULTIPLE)
def test_multiple_fixture_completions_pass(ext: str) -> None:
    completions = json.loads((FIXTURES / "multipl-e" / "completions.json").read_text())
    problems = load_benchmark(f"multipl-e:{FIXTURES / 'multipl-e' / f'humaneval-{ext}-fixture.json'}")
    language_key = "go_test.go" if ext == "go" else ext
    programs = [assemble_program(p, completions[f"{language_key}/{p.id}"], "completion") for p in problems]
    results = run_programs(problems, programs)
    assert [s.status for s in results] == ["passed"] * 3, [s.message for s in results]
    # A wrong body fails the same tests.
    wrong = {"py": "    return None\n", "js": "  return null;\n}\n", "ts": "  return null as any;\n}\n",
             "cpp": "    return {};", "java": "        return null;", "go": "    panic(1)\n}\n",
             "rs": "    unimplemented!()"}[ext]
    failed = run_programs(problems[1:2], [assemble_program(problems[1], wrong, "completion")])
    assert not failed[0].passed


CHAT_ANSWERS = {
    "cpp": "```cpp\n#include <string>\n#include <sstream>\nstd::string reverse_words(std::string s) {\n"
           "    std::istringstream in(s); std::string w, out;\n    while (in >> w) out = out.empty() ? w : w + \" \" + out;\n"
           "    return out;\n}\n```",
    "java": "```java\nclass Problem {\n    public static String reverseWords(String s) {\n"
            "        List<String> w = new ArrayList<>(Arrays.asList(s.split(\" \")));\n"
            "        Collections.reverse(w);\n        return String.join(\" \", w);\n    }\n}\n```",
    "go": "```go\npackage main\n\nimport \"strings\"\n\nfunc reverse_words(s string) string {\n"
          "\tw := strings.Fields(s)\n\tfor i, j := 0, len(w)-1; i < j; i, j = i+1, j-1 {\n"
          "\t\tw[i], w[j] = w[j], w[i]\n\t}\n\treturn strings.Join(w, \" \")\n}\n```",
    "rs": "```rust\nfn reverse_words(sentence: String) -> String {\n"
          "    sentence.split_whitespace().rev().collect::<Vec<_>>().join(\" \")\n}\n```",
    "ts": "```typescript\nfunction reverse_words(sentence: string): string {\n"
          "  return sentence.split(\" \").reverse().join(\" \");\n}\n```",
}


@pytest.mark.parametrize("ext", sorted(CHAT_ANSWERS))
def test_multiple_chat_answers_run(ext: str) -> None:
    problem = load_benchmark(f"multipl-e:{FIXTURES / 'multipl-e' / f'humaneval-{ext}-fixture.json'}")[1]
    results = run_programs([problem], [assemble_program(problem, CHAT_ANSWERS[ext], "chat")])
    assert results[0].status == "passed", results[0].message


def test_every_humaneval_canonical_solution_passes() -> None:
    problems = load_benchmark("humaneval")
    started = time.monotonic()
    result = score_samples(problems, [Sample(task_id=p.id, completion=p.reference[len(p.prompt):])
                                      for p in problems])
    elapsed = time.monotonic() - started
    failing = [t.task_id for t in result.per_task if t.correct != 1]
    assert result.tasks == 164 and failing == [], failing
    assert result.pass1 == 1.0
    print(f"164/164 HumanEval canonical solutions passed in {elapsed:.1f}s")
