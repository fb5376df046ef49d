"""The fixed inputs of the golden run: literal questions and what each scripted fake model answers.

Everything here is frozen on purpose: the golden records are only meaningful while these inputs
stay the same, so this module shares nothing with the other tests' helpers (editing those must
not move the golden files). Each fake keys its reply on the function name in the prompt, so a
change of prompt wording never changes what it answers; the prompts themselves are pinned by
their digests in prompts.jsonl.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from codistill.models.base import Request, Sampling
from codistill.models.fake import FakeGenerator, prompt_text
from codistill.records import Answer, Problem

TWICE_TESTS = "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(-3) == -6\n"
SPIN = "    while True:\n        pass\n"
JS_ASSERT = 'const assert = require("node:assert");\n'


def fence(code: str, label: str = "python") -> str:
    """`code` in one fenced block."""
    return f"```{label}\n{code.rstrip()}\n```"


def named(text: str, names: Iterable[str]) -> str:
    """The name whose definition `def <name>(`, `function <name>(` or `<name>(` the text shows."""
    for pattern in (r"def {}\(", r"function {}\(", r"\b{}\("):
        found = [n for n in names if re.search(pattern.format(re.escape(n)), text)]
        if found:
            return found[0]
    raise KeyError(f"no scripted name in prompt {text[:200]!r}")


def python_problem(pid: str, name: str, doc: str, tests: str, *, reference: str | None = None,
                   arg: str = "x: int", returns: str = " -> int", **fields: object) -> Problem:
    """A one-function Python question whose prompt is its signature and docstring."""
    prompt = f'def {name}({arg}){returns}:\n    """{doc}"""\n'
    return Problem(id=pid, question=f"Write `{name}`: {doc}", prompt=prompt, entry_point=name,
                   tests=tests, reference=reference, **fields)


# --- stage I, teach: correct and faulty solutions, verified in the sandbox ------------------------

TEACH_PROBLEMS = [
    python_problem("teach/double", "double", "Return twice x.", TWICE_TESTS),
    python_problem("teach/square", "square", "Return x squared.",
                   "def check(candidate):\n    assert candidate(3) == 9\n    assert candidate(0) == 0\n",
                   reference="def square(x: int) -> int:\n    return x * x\n"),
    python_problem("teach/increment", "increment", "Return x plus one.", ""),
    python_problem("teach/decrement", "decrement", "Return x minus one.", ""),
    python_problem("teach/spin", "spin", "Return x unchanged.",
                   "def check(candidate):\n    assert candidate(5) == 5\n"),
    python_problem("teach/same", "same", "Return the absolute value of x.",
                   "def check(candidate):\n    assert candidate(-2) == 2\n    assert candidate(3) == 3\n"),
]
TEACH_CORRECT = {  # what the teacher answers when asked to solve
    "double": "Sure!\n" + fence("def double(x: int) -> int:\n    return x * 2") + "\nThis works.",
    "square": fence("def square(x: int) -> int:\n    return x + x"),  # wrong: the reference stands in
    "increment": "    return x + 1\n",  # body only, no fence: continues the prompt
    "decrement": fence("def decrement(x: int) -> int:\n    return x - 1"),
    "spin": fence("def spin(x: int) -> int:\n    return x"),
    "same": fence("def same(x: int) -> int:\n    return abs(x)"),
}
TEACH_FAULTY = {  # what the teacher answers when asked for a plausible mistake
    "double": fence("def double(x: int) -> int:\n    return x + 2"),  # fails: a logic fault
    "square": fence("def square(x: int) -> int:\n    return x ** 2"),  # passes: not a fault
    "increment": fence("def increment(x: int) -> int:\n    return x +"),  # a syntax error
    "decrement": fence("def decrement(x: int) -> int:\n    return x"),
    "spin": fence("def spin(x: int) -> int:\n" + SPIN),  # never returns: a timeout
    "same": fence("def same(x: int) -> int:\n    # the absolute value\n    return abs(x)"),  # a copy
}
TEACH_TESTS = {  # what the teacher answers when asked to write missing tests
    "increment": "Here are tests:\n" + fence(
        "def check(candidate):\n    assert candidate(1) == 2\n    assert candidate(-1) == 0"),
    "decrement": fence("def check(candidate):\n    assert candidate(1) == 5"),  # wrong: question dropped
}


def teacher(correct: dict[str, str], faulty: dict[str, str], tests: dict[str, str],
            name: str = "teacher") -> FakeGenerator:
    """Stage I's teacher: tests, a solution or a faulty solution, by the function in the prompt."""
    def reply(request: Request, sampling: Sampling, index: int) -> str:
        text = prompt_text(request)
        fn = named(text, correct)
        if text.startswith("Write tests"):
            return tests[fn]
        return faulty[fn] if "looks reasonable" in text else correct[fn]

    return FakeGenerator(reply, name=name)


# --- stage II, examine: a student's answers, run and judged ---------------------------------------

EXAMINE_ANSWERS = {  # function name -> the student's answer; each pins one verdict or extraction case
    "twice_ok": fence("def twice_ok(x):\n    return x * 2"),
    "twice_wrong": "Here:\n" + fence("def twice_wrong(x):\n    return x + 1"),
    "twice_crash": fence("def twice_crash(x):\n    return [][x]"),
    "twice_spin": fence("def twice_spin(x):\n" + SPIN),
    "twice_syntax": fence("def twice_syntax(x)\n    return x * 2"),
    "twice_env": fence("import quantumflux_array_lib\n\ndef twice_env(x):\n    return x * 2"),
    "twice_body": "    return x * 2\n",
    "twice_prose": "I am not sure how to solve this one.",
    "twice_demo": fence("def twice_demo(x):\n    return x * 2\n\nprint(twice_demo(3))\nassert twice_demo(1) == 3"),
}
EXAMINE_PROBLEMS = [python_problem(f"examine/{name}", name, f"Return twice x ({name}).", TWICE_TESTS,
                                   arg="x", returns="") for name in EXAMINE_ANSWERS]
FULL = ('{"basic_functionality": 2, "boundary_checks": 1, "requirement_coverage": 1, '
        '"readability": 1, "coding_practice": 0}')
FOOLED = ('{"basic_functionality": 2, "boundary_checks": 1, "requirement_coverage": 1, '
          '"readability": 0, "coding_practice": 0}')
ZERO = ('{"basic_functionality": 0, "boundary_checks": 0, "requirement_coverage": 0, '
        '"readability": 0, "coding_practice": 0}')


def student(answers: dict[str, str], name: str = "student") -> FakeGenerator:
    """A student answering by the function named in the prompt."""
    return FakeGenerator(lambda r, s, i: answers[named(prompt_text(r), answers)], name=name)


FAILED_RUN = re.compile(r"## Result of running the task's tests\n(Tests did not pass|(?!passed)\w+: )")


def judge(name: str = "judge") -> FakeGenerator:
    """A rubric judge: zero when told the tests failed, else fooled by code that looks right;
    unreadable on an unknown import."""
    def reply(request: Request, sampling: Sampling, index: int) -> str:
        text = prompt_text(request)
        if FAILED_RUN.search(text):
            return ZERO
        if "quantumflux" in text:
            return "I cannot grade this."
        return f"Grade:\n{FULL}" if "x * 2" in text or "return sum(xs)" in text else FOOLED

    return FakeGenerator(reply, name=name)


# --- stage III: teacher-written problems (SODA's curriculum and AKD's adversary) ------------------

def draft(name: str, what: str, tests: str, solution: str, *, question: str | None = None) -> str:
    """A well-formed teacher reply with its four sections, for a one-argument function."""
    question = question or f"Write a function `{name}(items)` that {what}."
    return (f"## Question\n{question}\n\n"
            f'## Prompt\n```python\ndef {name}(items):\n    """{what.capitalize()}."""\n```\n\n'
            f"## Tests\n```python\n{tests}```\n\n## Solution\n```python\n{solution}```\n")


GOOD = draft("count_negatives", "returns how many numbers in the list are below zero",
             "def check(candidate):\n    assert candidate([1, -2, -3]) == 2\n    assert candidate([]) == 0\n"
             "    assert candidate([0, 5]) == 0\n",
             "def count_negatives(items):\n    return sum(1 for x in items if x < 0)\n")
LONGEST = draft("longest_word", "returns the longest string in the list, the first one on a tie, or '' "
                "for an empty list",
                "def check(candidate):\n    assert candidate(['a', 'bcd', 'ef']) == 'bcd'\n"
                "    assert candidate([]) == ''\n    assert candidate(['xy', 'zw']) == 'xy'\n",
                "def longest_word(items):\n    best = ''\n    for word in items:\n"
                "        if len(word) > len(best):\n            best = word\n    return best\n")
SUM_EVEN = draft("sum_even", "returns the sum of the even numbers in the list",
                 "def check(candidate):\n    assert candidate([1, 2, 4]) == 6\n    assert candidate([]) == 0\n"
                 "    assert candidate([-2, 3]) == -2\n",
                 "def sum_even(items):\n    return sum(x for x in items if x % 2 == 0)\n")
REFERENCE_FAILS = draft("sum_odd", "returns the sum of the odd numbers in the list",
                        "def check(candidate):\n    assert candidate([1, 2, 3]) == 4\n"
                        "    assert candidate([]) == 0\n",
                        "def sum_odd(items):\n    return sum(x for x in items if x % 2 == 0)\n")
VACUOUS = draft("first_item", "returns the first element of the list, or None when it is empty",
                "def check(candidate):\n    assert candidate([]) is None\n",
                "def first_item(items):\n    return items[0] if items else None\n")
ENVIRONMENT = draft("array_total", "returns the total of the numbers using a fast array library",
                    "def check(candidate):\n    assert candidate([1, 2]) == 3\n",
                    "import quantumflux_array_lib\n\ndef array_total(items):\n    return sum(items)\n")
PRUNED = draft("max_gap", "returns the largest difference between neighbours, or 0 for fewer than two",
               "def check(candidate):\n    assert candidate([1, 4, 6]) == 3\n    assert candidate([]) == 0\n"
               "    assert candidate([5]) == 0\n    assert candidate([9, 1]) == 99\n",  # one wrong value
               "def max_gap(items):\n    return max((abs(a - b) for a, b in zip(items, items[1:])), default=0)\n")
GARBAGE = "Sure! Here is an interesting exercise about lists. Good luck with your studies."
POOL_QUESTION = ("Write a function `count_vowels(text)` that returns how many vowels (a, e, i, o, u, "
                 "in either case) the string contains; y is not a vowel and the empty string has none.")
DUPLICATE = draft("count_vowels", "returns how many vowels the string contains",
                  "def check(candidate):\n    assert candidate('Apple') == 2\n    assert candidate('') == 0\n"
                  "    assert candidate('xyz') == 0\n",
                  "def count_vowels(items):\n    return sum(ch in 'aeiouAEIOU' for ch in items)\n",
                  question=POOL_QUESTION)
# A benchmark task of our own (standing in for HumanEval, so the run needs no download) and a
# reply that copies it: decontamination must catch it.
BENCH_PROMPT = ('def close_pair(numbers: list, threshold: float) -> bool:\n'
                '    """Check if in the given list of numbers any two numbers are closer to each other '
                'than the given threshold."""\n')
BENCHMARK = Problem(id="Bench/0", question=BENCH_PROMPT, prompt=BENCH_PROMPT, entry_point="close_pair",
                    tests="assert close_pair([1.0, 1.1], 0.5)\n", source="bench",
                    reference=BENCH_PROMPT + "    return any(abs(a - b) < threshold for i, a in "
                    "enumerate(numbers) for b in numbers[i + 1:])\n")
CONTAMINATED = (
    "## Question\nCheck if in the given list of numbers any two numbers are closer to each other than "
    "the given threshold.\n\n## Prompt\n```python\n" + BENCH_PROMPT + "```\n\n## Tests\n```python\n"
    "def check(candidate):\n    assert candidate([1.0, 2.0, 3.9], 0.3) is False\n"
    "    assert candidate([1.0, 2.0, 2.1], 0.3) is True\n```\n\n## Solution\n```python\n"
    "def close_pair(numbers, threshold):\n    return any(abs(a - b) < threshold for i, a in "
    "enumerate(numbers) for b in numbers[i + 1:])\n```\n")


def parent(i: int) -> Problem:
    """A seed-like parent question whose text is unique to `i` (the teachers key on PARENT-<i>)."""
    return Problem(id=f"seed/p{i}", question=f"PARENT-{i}: write `f{i}(x)` returning x + {i}.",
                   prompt=f'def f{i}(x):\n    """PARENT-{i}: return x + {i}."""\n', entry_point=f"f{i}",
                   tests=f"def check(candidate):\n    assert candidate(1) == {1 + i}\n", topic="lists",
                   difficulty="easy", source="seed")


POOL_EXTRA = Problem(id="seed/vowels", question=POOL_QUESTION,
                     prompt='def count_vowels(items):\n    """Returns how many vowels the string contains."""\n',
                     entry_point="count_vowels", tests="assert count_vowels('a') == 1\n")


def answer(problem_id: str, *, passed: bool, score: float | None = None, status: str | None = None,
           code: str = "", message: str = "", failed_test: str | None = None) -> Answer:
    """An examined answer (the stage III stages' input), status implied by `passed` unless given."""
    status = status or ("passed" if passed else "failed")
    return Answer(problem_id=problem_id, code=code, passed=passed, judge_score=score, status=status,
                  environment_error=status == "environment_error", message=message,
                  failed_test=failed_test)


# SODA's curriculum: parent i is answered with CURRICULUM_REPLIES[i]; one of each drop reason.
CURRICULUM_REPLIES = [GOOD, REFERENCE_FAILS, VACUOUS, DUPLICATE, CONTAMINATED, GARBAGE, ENVIRONMENT,
                      PRUNED, LONGEST, SUM_EVEN]
CURRICULUM_ANSWERS = [
    *(answer(f"seed/p{i}", passed=False) for i in range(8)),  # hard
    answer("seed/p8", passed=True, score=6.0),  # easy: asks for a harder question
    answer("seed/p9", passed=True, score=3.0),  # medium
    answer("seed/p10", passed=False, status="environment_error"),  # excluded
]

# AKD's adversary: the teacher aims at the failures; the student answers what it writes.
ADVERSARY_REPLIES = {1: GOOD, 2: LONGEST, 3: SUM_EVEN, 4: GARBAGE}
ADVERSARY_ANSWERS = [
    answer("seed/p0", passed=True, score=6.0),  # solved well: no target
    answer("seed/p1", passed=False, code="def f1(x):\n    return x - 1\n",
           failed_test="assert candidate(1) == 2", message="AssertionError: assert 0 == 2"),
    answer("seed/p2", passed=False, status="runtime_error", code="def f2(x):\n    return y\n",
           message="NameError: name 'y' is not defined"),
    answer("seed/p3", passed=True, score=1.0, code="def f3(x):\n    return x+3\n"),  # passes, scored low
    answer("seed/p4", passed=False, status="timeout", code="def f4(x):\n" + SPIN),
]
WRONG_LONGEST = "def longest_word(items):\n    return items[-1] if items else ''\n"
ADVERSARY_STUDENT = {
    "count_negatives": fence("def count_negatives(items):\n    return len([x for x in items if x < 0])"),
    "longest_word": "Here you go:\n" + fence(WRONG_LONGEST),
    "sum_even": fence("import quantumflux_array_lib\n\ndef sum_even(items):\n    return 0"),
}


def by_parent(replies: dict[int, str] | list[str], name: str = "teacher") -> FakeGenerator:
    """A stage III teacher: the prompt quoting PARENT-<i> gets replies[i]."""
    def reply(request: Request, sampling: Sampling, index: int) -> str:
        found = re.search(r"PARENT-(\d+)", prompt_text(request))
        if found is None:
            raise KeyError("no PARENT-<i> in the prompt")
        return replies[int(found.group(1))]

    return FakeGenerator(reply, name=name)


# --- teacher-written practice questions, settled by agreement -------------------------------------

SQUARES = "sum(x * x for x in xs)"
WRITE = '''```python
def {name}(xs: list[int]) -> int:
    """Return the sum of the squares of the {what}; an empty list gives 0."""
    return {body}

assert {name}([1, 2]) == 5
assert {name}([]) == 0
assert {name}([3]) == 99
```'''
BENCH_WRITE = fence(BENCHMARK.reference or "").replace(
    '"""\n', '\n    >>> close_pair([1.0, 2.0], 0.5)\n    False\n    >>> close_pair([1.0, 1.2], 0.5)\n'
    '    True\n    >>> close_pair([], 0.5)\n    False\n    """\n', 1)
QUESTIONS = [
    WRITE.format(name="sum_squares", what="numbers", body=SQUARES),  # claims 99; the runs agree: kept
    WRITE.format(name="sum_sq2", what="values", body=SQUARES),  # greedy answer wrong, sampled one right
    WRITE.format(name="sum_sq3", what="items", body="0"),  # nobody agrees
    WRITE.format(name="sum_squares", what="entries", body=SQUARES),  # a repeated name
    "no code",
    BENCH_WRITE,  # a benchmark task reproduced
    WRITE.format(name="sum_sq4", what="elements", body=SQUARES),  # both answers never finish
]
QUESTION_ANSWERS = {  # function -> (greedy answer's body, sampled answer's body)
    "sum_squares": (f"return {SQUARES}", f"return {SQUARES}"),
    "sum_sq2": ("return len(xs)", f"return {SQUARES}"),
    "sum_sq3": ("return max(xs)", "return min(xs + [7])"),
    "sum_sq4": (SPIN.strip(), SPIN.strip()),
}


def question_writer(questions: list[str], answers: dict[str, tuple[str, str]]) -> FakeGenerator:
    """Writes the questions in order when asked for an exercise; answers each, greedy or sampled."""
    writes = iter(questions)

    def reply(request: Request, sampling: Sampling, index: int) -> str:
        text = prompt_text(request)
        if "programming exercise" in text:
            return next(writes)
        fn = named(text, answers)
        greedy, sampled = answers[fn]
        body = (greedy if sampling.temperature == 0 else sampled).replace("\n", "\n    ")
        return fence(f"def {fn}(xs):\n    {body}")

    return FakeGenerator(reply, name="writer")


# --- evaluation on a small benchmark ---------------------------------------------------------------

def eval_problem(pid: str, name: str, doc: str, tests: str, *, prompt_head: str = "") -> dict[str, object]:
    """One benchmark row (the JSONL a user would write), source fixed so no path leaks into it."""
    prompt = f'{prompt_head}def {name}(xs: list) -> int:\n    """{doc}"""\n'
    return {"id": pid, "question": doc, "prompt": prompt, "entry_point": name, "tests": tests,
            "source": "golden"}


TOTAL_TESTS = "def check(candidate):\n    assert candidate([1, 2, 3]) == 6\n    assert candidate([]) == 0\n"
EVAL_ROWS = [
    eval_problem("golden/pass", "total_a", "Return the sum of xs.", TOTAL_TESTS),
    eval_problem("golden/fail", "total_b", "Return the sum of xs.", TOTAL_TESTS),
    eval_problem("golden/body", "total_c", "Return the sum of xs.", TOTAL_TESTS),
    eval_problem("golden/timeout", "total_d", "Return the sum of xs.", TOTAL_TESTS),
    eval_problem("golden/syntax", "total_e", "Return the sum of xs.", TOTAL_TESTS),
    eval_problem("golden/crash", "total_f", "Return the sum of xs.", TOTAL_TESTS),
    eval_problem("golden/demo", "total_g", "Return the sum of xs.", TOTAL_TESTS),
    eval_problem("golden/header", "total_h", "Return the sum of xs, via the helper.", TOTAL_TESTS,
                 prompt_head="from functools import reduce\n\nZERO = 0\n\n\n"),
]
EVAL_CHAT = {  # what the chat student answers per function
    "total_a": "Here you go:\n" + fence("def total_a(xs: list) -> int:\n    return sum(xs)") + "\nHope it helps.",
    "total_b": fence("def total_b(xs: list) -> int:\n    return len(xs)"),
    "total_c": "    return sum(xs)\n",
    "total_d": fence("def total_d(xs: list) -> int:\n" + SPIN),
    "total_e": fence("def total_e(xs: list) -> int\n    return sum(xs)"),
    "total_f": fence("def total_f(xs: list) -> int:\n    return xs[0] + None"),
    "total_g": fence("def total_g(xs: list) -> int:\n    return sum(xs)\n\nprint(total_g([1]))\n"
                     "assert total_g([1]) == 2"),  # a wrong demo assert, dropped by extraction
    "total_h": fence("def total_h(xs: list) -> int:\n    return reduce(lambda a, b: a + b, xs, ZERO)"),
}
EVAL_COMPLETION = {  # what the base model continues each prompt with (cut at the stop sequences)
    "total_a": "    return sum(xs)\n\n\ndef unrelated():\n    raise RuntimeError('cut')\n",
    "total_b": "    return len(xs)\nprint(total_b([1]))\n",
}


def completion_model(bodies: dict[str, str]) -> FakeGenerator:
    """A base model continuing a code prompt (plain completion requests only)."""
    def reply(request: Request, sampling: Sampling, index: int) -> str:
        if request.prompt is None:
            raise ValueError("the base model takes completion requests only")
        return bodies[named(request.prompt, bodies)]

    return FakeGenerator(reply, name="base")


# --- Code-A1: rewards and the Mistake Book -----------------------------------------------------------

CLAMP_REF = "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n"
COEVOLVE_PROBLEMS = [
    Problem(id="clamp", question="Write clamp(x, lo, hi) that limits x to [lo, hi].", entry_point="clamp",
            reference=CLAMP_REF,
            tests="def check(candidate):\n    assert candidate(5, 0, 3) == 3\n    assert candidate(-1, 0, 3) == 0\n"),
    Problem(id="halve", question="Write halve(x) returning x // 2.", entry_point="halve",
            reference="def halve(x):\n    return x // 2\n",
            tests="def check(candidate):\n    assert candidate(4) == 2\n    assert candidate(5) == 2\n"),
]
NO_UPPER = fence("def clamp(x, lo, hi):\n    return max(lo, x)")
# (round, question) -> the Code model's group of samples
CODE_SAMPLES = {
    (1, "clamp"): [fence(CLAMP_REF), NO_UPPER],
    (1, "halve"): ["I cannot help with that.", fence("def halve(x)\n    return x // 2")],
    (2, "clamp"): [NO_UPPER, "    return max(lo, min(x, hi))\n"],
    (2, "halve"): [fence("def halve(x):\n    return x / 2")],
}
TEST_ANSWERS = {  # question -> the Test model's answer
    "clamp": fence("assert clamp(9, 0, 3) == 3\nassert clamp(1, 0, 3) == 1\nassert clamp(5, 0, 3) == 5\n"
                   "assert clamp(-4, 0, 3) == 0"),
    "halve": "Tests:\n" + fence("assert halve(7) == 3\nassert halve(0) == 0"),
}


def code_model(round_: int) -> FakeGenerator:
    """The Code model of round `round_`: sample i of a question is CODE_SAMPLES[...][i]."""
    def reply(request: Request, sampling: Sampling, index: int) -> str:
        fn = named(prompt_text(request), ("clamp", "halve"))
        group = CODE_SAMPLES[(round_, fn)]
        return group[index % len(group)]

    return FakeGenerator(reply, name=f"code-{round_}")


def test_model() -> FakeGenerator:
    """The Test model: the same tests for a question whatever sample it is shown."""
    return FakeGenerator(lambda r, s, i: TEST_ANSWERS[named(prompt_text(r), TEST_ANSWERS)], name="tests")


# --- other languages: each runs only where its toolchain is installed --------------------------------

JS_TEACH = Problem(id="teach/js_clamp", language="javascript", question="Limit x to the range [lo, hi].",
                   prompt="// Limit x to the range [lo, hi].\nfunction clampJs(x, lo, hi) {\n",
                   entry_point="clampJs",
                   tests=JS_ASSERT + "assert.deepStrictEqual(clampJs(5, 0, 3), 3);\n"
                         "assert.deepStrictEqual(clampJs(-1, 0, 3), 0);\n")
JS_TEACH_CORRECT = {"clampJs": "```javascript\nfunction clampJs(x, lo, hi) {\n  return Math.min(hi, Math.max(lo, x));\n}\n```"}
JS_TEACH_FAULTY = {"clampJs": "```javascript\nfunction clampJs(x, lo, hi) {\n  return Math.max(lo, x);\n}\n```"}


def js_row(pid: str, name: str) -> dict[str, object]:
    """A JavaScript benchmark row: sum an array."""
    return {"id": pid, "language": "javascript", "question": "Return the sum of the array xs.",
            "prompt": f"// Return the sum of the array xs.\nfunction {name}(xs) {{\n", "entry_point": name,
            "tests": JS_ASSERT + f"assert.deepStrictEqual({name}([1, 2, 3]), 6);\n"
                     f"assert.deepStrictEqual({name}([]), 0);\n", "source": "golden"}


JS_ROWS = [js_row("golden/js_pass", "sumJsA"), js_row("golden/js_fail", "sumJsB"),
           js_row("golden/js_syntax", "sumJsC")]
JS_ANSWERS = {
    "sumJsA": "```js\nfunction sumJsA(xs) {\n  return xs.reduce((a, b) => a + b, 0);\n}\n```",
    "sumJsB": "```javascript\nfunction sumJsB(xs) {\n  return xs.length;\n}\n```",
    "sumJsC": "```javascript\nfunction sumJsC(xs) {\n  return xs.reduce((a, b) => a + , 0);\n}\n```",
}
C_TESTS = "#include <assert.h>\nint main(void) {{\n    int xs[] = {{1, 2, 3}};\n    assert({name}(xs, 3) == 6);\n" \
          "    assert({name}(xs, 0) == 0);\n    return 0;\n}}\n"


def c_row(pid: str, name: str) -> dict[str, object]:
    """A C benchmark row: sum an int array."""
    return {"id": pid, "language": "c", "question": "Return the sum of the n ints in xs.",
            "prompt": f"/* Return the sum of the n ints in xs. */\nint {name}(const int *xs, int n) {{\n",
            "entry_point": name, "tests": C_TESTS.format(name=name), "source": "golden"}


C_ROWS = [c_row("golden/c_pass", "sum_c_a"), c_row("golden/c_compile", "sum_c_b"),
          c_row("golden/c_fail", "sum_c_c")]
C_ANSWERS = {
    "sum_c_a": "```c\nint sum_c_a(const int *xs, int n) {\n    int s = 0;\n    for (int i = 0; i < n; i++) s += xs[i];\n"
               "    return s;\n}\n```",
    "sum_c_b": "```c\nint sum_c_b(const int *xs, int n) {\n    return n * 2\n}\n```",
    "sum_c_c": "```c\nint sum_c_c(const int *xs, int n) {\n    return n;\n}\n```",
}
