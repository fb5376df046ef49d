"""Training rows: literal rows in and out, and clear errors on bad input."""

from __future__ import annotations

import json

import pytest

from codistill.prompting import answer_text, solve_prompt
from codistill.records import Problem
from codistill.train import check_rows, dpo_rows, grpo_rows, read_rows, sft_rows, write_rows

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
