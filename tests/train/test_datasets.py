"""Training rows: literal rows in and out, clear errors on bad input, and rows from verified
solutions (SODA's split, the fallback to SFT, AKD's rejected side)."""

from __future__ import annotations

import json

import pytest

from codistill.prompting import answer_text, solve_prompt
from codistill.records import Problem, Solution, Taught
from codistill.train import check_rows, dpo_rows, grpo_rows, read_rows, sft_rows, write_rows
from codistill.train.datasets import build_rows

P = Problem(id="q1", question="Write add(a, b).", entry_point="add")
J = Problem(id="j1", language="javascript", question="Write add(a, b).", entry_point="add")


def test_sft_rows_use_the_prompting_format() -> None:
    rows = sft_rows([(P, "def add(a, b):\n    return a + b\n")])
    assert rows == [{
        "id": "q1",
        "prompt": [{"role": "user", "content": solve_prompt(P)}],
        "completion": [{"role": "assistant", "content": "```python\ndef add(a, b):\n    return a + b\n```"}],
    }]


def test_dpo_rows_put_the_correct_code_first_and_fence_by_language() -> None:
    rows = dpo_rows([(J, "const add = (a, b) => a + b;", "const add = (a, b) => a - b;")])
    assert rows[0]["chosen"] == [{"role": "assistant", "content": answer_text("const add = (a, b) => a + b;",
                                                                             "javascript")}]
    assert rows[0]["rejected"][0]["content"].startswith("```javascript\n")
    assert rows[0]["prompt"][0]["content"] == solve_prompt(J)


ASKED = Problem(id="q2", question="Complete the function.", entry_point="count_vowels",
                prompt='def count_vowels(text):\n    """Count the vowels in text.\n\n    >>> count_vowels("ab")\n'
                       '    1\n    """\n')
ANSWER = ('def count_vowels(text):\n    """Count the vowels in text.\n\n      >>> count_vowels("ab")\n'
          '    1\n    """\n    def is_vowel(c):\n        """True for a, e, i, o, u."""\n'
          '        return c in "aeiou"\n    return sum(map(is_vowel, text))\n')


def test_answers_can_drop_the_docstring_that_repeats_the_question() -> None:
    # The restated docstring goes (whitespace aside); the helper's own docstring says something
    # the question does not, so it stays; the default keeps the answer as written.
    rows = sft_rows([(ASKED, ANSWER)], docstrings=False)
    assert rows[0]["completion"][0]["content"] == (
        '```python\ndef count_vowels(text):\n    def is_vowel(c):\n        """True for a, e, i, o, u."""\n'
        '        return c in "aeiou"\n    return sum(map(is_vowel, text))\n```')
    assert sft_rows([(ASKED, ANSWER)])[0]["completion"][0]["content"] == answer_text(ANSWER, "python")
    pair = dpo_rows([(ASKED, ANSWER, ANSWER.replace("sum(map(is_vowel, text))", "len(text)"))], docstrings=False)[0]
    assert '"""Count' not in pair["chosen"][0]["content"] + pair["rejected"][0]["content"]


@pytest.mark.parametrize("code", [
    'def f(x):\n    """Count the vowels in text."""\n',  # only a docstring: the body would be empty
    "def f(x:\n    return x\n",  # does not parse
])
def test_docstrings_stay_where_dropping_them_would_break_the_code(code: str) -> None:
    assert sft_rows([(ASKED, code)], docstrings=False)[0]["completion"][0]["content"] == answer_text(code, "python")
    js = sft_rows([(J, "/** Write add(a, b). */\nconst add = (a, b) => a + b;")], docstrings=False)
    assert "Write add" in js[0]["completion"][0]["content"]


def test_repeated_problems_get_distinct_ids() -> None:
    rows = sft_rows([(P, "a = 1"), (P, "a = 2"), (J, "x"), (P, "a = 3")])
    assert [r["id"] for r in rows] == ["q1", "q1#2", "j1", "q1#3"]


def test_grpo_rows_carry_extra_columns() -> None:
    rows = grpo_rows([P, J], tests=["assert add(1, 2) == 3", "t2"])
    assert rows[1] == {"id": "j1", "prompt": [{"role": "user", "content": solve_prompt(J)}], "tests": "t2"}
    with pytest.raises(ValueError, match="column 'tests' has 1 values for 2 problems"):
        grpo_rows([P, J], tests=["only one"])


@pytest.mark.parametrize(("rows", "kind", "message"), [
    ([], "sft", "no sft training rows"),
    ([{"prompt": [{"role": "user", "content": "q"}]}], "sft", "row 1.*missing 'completion'"),
    ([{"prompt": "q", "completion": []}], "sft", "'prompt' must be a non-empty list"),
    ([{"prompt": [{"role": "user", "content": "q"}], "chosen": [{"role": "assistant", "content": "a"}],
       "rejected": [{"role": "user", "content": "b"}]}], "dpo", "'rejected' must be assistant messages"),
    (["text"], "sft", "must be a JSON object"),
])
def test_bad_rows_are_named(rows: list, kind: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_rows(rows, kind)  # type: ignore[arg-type]


def test_jsonl_round_trip_and_bad_line(tmp_path) -> None:
    rows = dpo_rows([(P, "good", "bad")])
    path = write_rows(rows, tmp_path / "d" / "dpo.jsonl")
    assert read_rows(path, "dpo") == rows
    path.write_text(json.dumps(rows[0]) + "\n{oops\n")
    with pytest.raises(ValueError, match=r"dpo.jsonl:2: not valid JSON"):
        read_rows(path, "dpo")
    with pytest.raises(ValueError, match="no such file"):
        read_rows(tmp_path / "missing.jsonl", "sft")


# -- rows from verified solutions (build_rows) -----------------------------------------------------


def _taught(pid: str, split: str, faulty: int, kept: bool = True) -> Taught:
    problem = Problem(id=pid, question=f"task {pid}", entry_point="f")
    sols = [Solution(problem_id=pid, kind="correct", code="def f():\n    return 1\n", kept=kept)]
    sols += [Solution(problem_id=pid, kind="faulty", code=f"def f():\n    return {i + 2}\n",
                      kept=True, fault_type="logic") for i in range(faulty)]
    sols.append(Solution(problem_id=pid, kind="faulty", code="dropped", kept=False))
    return Taught(problem=problem, split=split, kept=kept, solutions=sols)


def test_rows_follow_the_split() -> None:
    taught = [_taught("a", "sft", 1), _taught("b", "dpo", 2), _taught("c", "dpo", 0),
              _taught("d", "sft", 0, kept=False)]
    sft, dpo = build_rows(taught)
    assert [r["id"].split("#")[0] for r in sft] == ["a", "c"]  # c: DPO share without a fault
    assert len(dpo) == 2 and all(r["chosen"][0]["content"].count("return 1") for r in dpo)
    assert {r["rejected"][0]["content"] for r in dpo} == {
        "```python\ndef f():\n    return 2\n```", "```python\ndef f():\n    return 3\n```"}
    assert all("dropped" not in r["rejected"][0]["content"] for r in dpo)


def test_no_fault_learning_moves_everything_to_sft() -> None:
    sft, dpo = build_rows([_taught("a", "sft", 1), _taught("b", "dpo", 2)], no_fault_learning=True)
    assert len(sft) == 2 and dpo == []


def test_akd_pairs_teacher_against_student() -> None:
    taught = [_taught("a", "sft", 0), _taught("b", "sft", 0)]
    sft, dpo = build_rows(taught, student_answers={"a": "def f():\n    return 0\n"})
    assert len(sft) == 2 and len(dpo) == 1 and dpo[0]["id"].startswith("a")
    assert "return 0" in dpo[0]["rejected"][0]["content"]
    assert build_rows(taught, student_answers={"a": "x"}, no_fault_learning=True)[1] == []


def test_rows_can_leave_out_the_docstring_that_repeats_the_question() -> None:
    t = _taught("a", "dpo", 1)
    t.problem.question = 'def f():\n    """Return one."""\n'
    t.solutions = [s.model_copy(update={"code": s.code.replace("():\n", '():\n    """Return one."""\n', 1)})
                   for s in t.solutions]
    kept = build_rows([t])[1][0]
    dropped = build_rows([t], docstrings=False)[1][0]
    assert '"""Return one."""' in kept["chosen"][0]["content"] + kept["rejected"][0]["content"]
    assert dropped["chosen"][0]["content"] == "```python\ndef f():\n    return 1\n```"
    assert dropped["rejected"][0]["content"] == "```python\ndef f():\n    return 2\n```"
