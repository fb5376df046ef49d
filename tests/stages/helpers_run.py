"""A scripted teacher and literal questions for end-to-end `codistill run` tests (cycle, chaos).

Every question is a one-argument integer function with a correct body, a faulty body and one
assertion; the teacher script answers each with the right body, and with the faulty one when
asked for a plausible-looking mistake. It also judges, evolves one fixed question, and writes one
practice question (`quadruple`) when asked for an exercise.
"""

from __future__ import annotations

import json
from pathlib import Path

FUNCS = {  # name -> (correct body, faulty body, test)
    "double": ("return x * 2", "return x + 2", "assert candidate(3) == 6"),
    "square": ("return x * x", "return x + x", "assert candidate(3) == 9"),
    "negate": ("return -x", "return x", "assert candidate(4) == -4"),
    "halve": ("return x // 2", "return x / 2", "assert candidate(5) == 2"),
    "triple": ("return 3 * x", "return x", "assert candidate(2) == 6"),
}
JUDGE = ('{"basic_functionality": 2, "boundary_checks": 1, "requirement_coverage": 1, '
         '"readability": 1, "coding_practice": 0}')
EVOLVED = """## Question
Write `triple(x: int) -> int` that returns three times x, e.g. triple(2) == 6.

## Prompt
```python
def triple(x: int) -> int:
    \"\"\"Return three times x.\"\"\"
```

## Tests
```python
def check(candidate):
    assert candidate(2) == 6
    assert candidate(0) == 0
    assert candidate(-1) == -3
```

## Solution
```python
def triple(x: int) -> int:
    return 3 * x
```
"""
SYNTH = '''```python
def quadruple(x: int) -> int:
    """Return four times the number x; zero stays zero."""
    return 4 * x

assert quadruple(2) == 8
assert quadruple(0) == 0
assert quadruple(-1) == -4
```'''
SYNTH_RULES = [{"match": "programming exercise about", "reply": SYNTH},
               {"match": "def quadruple(", "reply": "```python\ndef quadruple(x):\n    return x * 4\n```"}]


def scaled_funcs(n: int) -> dict[str, tuple[str, str, str]]:
    """`n` more questions like FUNCS: add_k(x) = x + k, with x - k as the fault."""
    return {f"add_{k}": (f"return x + {k}", f"return x - {k}", f"assert candidate(1) == {1 + k}")
            for k in range(1, n + 1)}


def problem(name: str, funcs: dict[str, tuple[str, str, str]] = FUNCS) -> dict:
    """The seed record of question `name`."""
    body, _, test = funcs[name]
    prompt = f'def {name}(x: int) -> int:\n    """Compute {name} of x."""\n'
    return {"id": f"t/{name}", "question": f"Write {name}(x).", "prompt": prompt,
            "entry_point": name, "tests": f"def check(candidate):\n    {test}\n",
            "reference": prompt + f"    {body}\n", "topic": "math", "difficulty": "easy"}


def write_problems(path: Path, names: list[str], funcs: dict[str, tuple[str, str, str]] = FUNCS) -> Path:
    """A JSONL file of the named questions."""
    path.write_text("".join(json.dumps(problem(n, funcs)) + "\n" for n in names))
    return path


def teacher_script(path: Path, funcs: dict[str, tuple[str, str, str]] = FUNCS,
                   extra: list[dict] | None = None) -> Path:
    """The fake teacher's script file (rules in `extra` are tried first)."""
    rules = [*(extra or []), {"match": "Rubric", "reply": JUDGE}, {"match": "exercise", "reply": EVOLVED}]
    for name, (good, bad, _) in funcs.items():
        rules.append({"regex": f"(?s)def {name}\\(.*looks reasonable",
                      "reply": f"```python\ndef {name}(x: int) -> int:\n    {bad}\n```"})
        rules.append({"match": f"def {name}(",
                      "reply": f"```python\ndef {name}(x: int) -> int:\n    {good}\n```"})
    path.write_text(json.dumps({"name": "teacher", "rules": rules}))
    return path
