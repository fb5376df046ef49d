"""Validate the translated harnesses by running hand-written solutions through them.

`solutions/<language>/<task>.<ext>` holds a completion: the code that follows the translated
prompt (which ends where the body begins), closing braces included. Correct ones must pass;
the same ones with a deliberate bug must fail, so the tests have teeth.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codistill.evaluate.multilang import TARGETS, translate_humaneval
from codistill.records import Problem
from codistill.sandbox import Limits, Program, Status, Verdict, run_all

SOLUTIONS = Path(__file__).parent / "solutions"
EXTENSIONS = {"javascript": "js", "typescript": "ts", "java": "java", "cpp": "cpp", "go": "go",
              "c": "c"}
# (language, task, text in the correct completion, the bug that replaces it)
BUGS = [
    ("javascript", 8, "product *= n", "product += n"),
    ("javascript", 111, "if (n === most)", "if (n > 0)"),
    ("typescript", 12, "s.length > best.length", "s.length >= best.length"),
    ("typescript", 21, "(x - low) / (high - low)", "(x - low) / high"),
    ("java", 136, ".max(Long::compare)", ".min(Long::compare)"),
    ("java", 21, "(x - low) / (high - low)", "(x - low) / high"),
    ("cpp", 112, "kept.rbegin()", "kept.begin()"),
    ("cpp", 0, "< threshold", "> threshold"),
    ("go", 149, "len(s)%2 == 0", "len(s)%2 == 1"),
    ("go", 111, "n == most", "n >= 1"),
    ("c", 9, "numbers[i] > result[i - 1]", "numbers[i] < result[i - 1]"),
    ("c", 2, "floor(number)", "ceil(number)"),
]
SMOKE = [("javascript", 87), ("c", 28)]


def completions(lang: str) -> dict[int, str]:
    folder = SOLUTIONS / lang
    return {int(f.stem): f.read_text() for f in sorted(folder.glob(f"*.{EXTENSIONS[lang]}"))}


def problems(lang: str) -> dict[int, Problem]:
    suite = translate_humaneval(lang)
    return {int(p.meta["original_id"].split("/")[1]): p for p in suite.problems}


def program(problem: Problem, completion: str) -> Program:
    """HumanEval style: the candidate is the prompt followed by the completion."""
    return Program(language=problem.language, source=problem.prompt + completion,
                   tests=problem.tests, entry_point=problem.entry_point, id=problem.id)


def run_programs(programs: list[Program]) -> list[Verdict]:
    # Generous limits: compilers share two cores with the rest of the test suite.
    return run_all(programs, Limits(timeout_s=30.0, compile_timeout_s=180.0), workers=2)


def failures(programs: list[Program]) -> list[str]:
    return [f"{v.id}: {v.status.value} {v.message}\n{v.stderr[-1500:]}"
            for v in run_programs(programs) if not v.passed]


@pytest.mark.parametrize("lang", TARGETS)
def test_each_language_has_a_diverse_sample(lang):
    sample = completions(lang)
    assert len(sample) >= 8
    kept = problems(lang)
    assert set(sample) <= set(kept), "a solution exists for a task the translation skips"
    returns = {kept[n].meta["types"]["return"] for n in sample}
    assert any("List" in r or "Tuple" in r for r in returns)
    assert any(r in ("str", "bool", "int", "float") for r in returns)
    assert any("float" in t for n in sample for t in kept[n].meta["types"].values())


def test_smoke_solutions_pass_and_bugs_fail():
    """A quick subset with fast toolchains; the full sample runs in the slow test below."""
    chosen = [program(problems(lang)[number], completions(lang)[number]) for lang, number in SMOKE]
    assert failures(chosen) == []
    lang, number, good, bad = BUGS[-2]
    buggy = completions(lang)[number].replace(good, bad)
    (verdict,) = run_programs([program(problems(lang)[number], buggy)])
    assert verdict.status is Status.FAILED, verdict.message


@pytest.mark.slow
@pytest.mark.parametrize("lang", TARGETS)
def test_correct_solutions_pass(lang):
    kept, sample = problems(lang), completions(lang)
    assert failures([program(kept[n], code) for n, code in sample.items()]) == []


@pytest.mark.slow
def test_buggy_solutions_fail():
    chosen = []
    for lang, number, good, bad in BUGS:
        correct = completions(lang)[number]
        assert good in correct, f"{lang}/{number}: the bug's anchor text is missing"
        chosen.append(program(problems(lang)[number], correct.replace(good, bad)))
    verdicts = run_programs(chosen)
    # Each bug must be caught by a test assertion, not by a build failure or a crash.
    assert {v.id: v.status for v in verdicts} == {p.id: Status.FAILED for p in chosen}
