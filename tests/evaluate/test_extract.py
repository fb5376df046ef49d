"""Code extraction and program assembly on literal model outputs."""

from __future__ import annotations

import pytest

from codistill.extract import (
    answer_code,
    assemble_program,
    extract_code,
    fenced_blocks,
)
from codistill.models.stops import cut_at_stop
from codistill.records import Problem
from codistill.sandbox.languages.go import normalize as normalize_go
from codistill.sandbox.languages.python import python_header

F = "```"

# (model output, language, entry point, expected extracted code)
CASES = [
    # one labelled fence, prose around it
    (f"Here is the solution:\n{F}python\ndef add(a, b):\n    return a + b\n{F}\nIt adds.",
     "python", "add", "def add(a, b):\n    return a + b\n"),
    # unlabelled fence
    (f"{F}\ndef add(a, b):\n    return a + b\n{F}", "python", "add", "def add(a, b):\n    return a + b\n"),
    # the block defining the entry point wins over a longer usage example
    (f"{F}python\ndef add(a, b):\n    return a + b\n{F}\nUsage:\n{F}python\nprint(add(1, 2))\n"
     "print(add(3, 4))\nprint(add(5, 6))\nprint(add(7, 8))\n{F}",
     "python", "add", "def add(a, b):\n    return a + b\n"),
    # usage block first, solution second
    (f"{F}python\n>>> add(1, 2)\n3\n{F}\n{F}python\ndef add(a, b):\n    return a + b\n{F}",
     "python", "add", "def add(a, b):\n    return a + b\n"),
    # unterminated fence (the model ran out of tokens)
    (f"Sure!\n{F}python\ndef add(a, b):\n    return a + b", "python", "add",
     "def add(a, b):\n    return a + b\n"),
    # other-language block ignored in favour of the right one
    (f"{F}bash\npip install nothing\n{F}\n{F}py\ndef add(a, b):\n    return a+b\n{F}",
     "python", "add", "def add(a, b):\n    return a+b\n"),
    # capitalised label and a title after it
    (f"{F}Python title=\"x.py\"\ndef add(a, b):\n    return a + b\n{F}", "python", "add",
     "def add(a, b):\n    return a + b\n"),
    # no fence: prose then code then prose
    ("The answer is below.\ndef add(a, b):\n    return a + b\nThis works for ints.", "python", "add",
     "def add(a, b):\n    return a + b\n"),
    # no fence: imports first
    ("import math\n\ndef root(x):\n    return math.sqrt(x)\n", "python", "root",
     "import math\n\ndef root(x):\n    return math.sqrt(x)\n"),
    # no fence: just an indented body continuing the prompt
    ("    return a + b\n", "python", "add", "    return a + b\n"),
    # tilde fences
    ("~~~python\ndef add(a, b):\n    return a + b\n~~~", "python", "add",
     "def add(a, b):\n    return a + b\n"),
    # JavaScript: const arrow function
    (f"{F}js\nconst add = (a, b) => a + b;\n{F}", "javascript", "add", "const add = (a, b) => a + b;\n"),
    # C++ with a test main in a separate block
    (f"{F}cpp\n#include <vector>\nlong add(long a, long b) {{\n    return a + b;\n}}\n{F}\n"
     f"{F}cpp\nint main() {{ return add(1, 2) == 3 ? 0 : 1; }}\n{F}",
     "cpp", "add", "#include <vector>\nlong add(long a, long b) {\n    return a + b;\n}\n"),
    # Java without a fence label
    (f"{F}\nclass Problem {{\n    public static long add(long a, long b) {{\n        return a + b;\n    }}\n}}\n{F}",
     "java", "add", "class Problem {\n    public static long add(long a, long b) {\n        return a + b;\n    }\n}\n"),
    # Go without a fence: prose then code
    ("Here you go:\nfunc add(a int, b int) int {\n\treturn a + b\n}\nDone.", "go", "add",
     "func add(a int, b int) int {\n\treturn a + b\n}\n"),
    # Rust labelled rs
    (f"{F}rs\nfn add(a: i64, b: i64) -> i64 {{\n    a + b\n}}\n{F}", "rust", "add",
     "fn add(a: i64, b: i64) -> i64 {\n    a + b\n}\n"),
    # empty answer
    ("", "python", "add", ""),
]


@pytest.mark.parametrize(("text", "language", "entry", "expected"), CASES)
def test_extract_code(text: str, language: str, entry: str, expected: str) -> None:
    assert extract_code(text, language, entry_point=entry) == expected


def test_fenced_blocks_reports_unclosed_last_block() -> None:
    blocks = fenced_blocks(f"{F}python\na = 1\n{F}\ntext\n{F}js\nlet b")
    assert blocks == [("python", "a = 1\n", True), ("js", "let b", False)]


def test_cut_at_stop_cuts_at_the_earliest() -> None:
    text = "    return 1\n\ndef other():\n    pass\nif __name__ == '__main__':\n"
    assert cut_at_stop(text, ["\nif", "\ndef"]) == ("    return 1\n", True)
    assert cut_at_stop("    return 1\n", ["\ndef"]) == ("    return 1\n", False)


HE = Problem(
    id="T/1", question="q", entry_point="decode",
    prompt='import math\n\n\ndef encode(s: str) -> str:\n    """helper"""\n    return s[::-1]\n\n\n'
           'def decode(s: str) -> str:\n    """Undo encode."""\n',
    tests="def check(candidate):\n    assert candidate('ab') == 'ba'\n",
)


def test_python_header_keeps_imports_and_helpers_but_not_the_entry_point() -> None:
    header = python_header(HE.prompt, "decode")
    assert "import math" in header and "def encode" in header
    assert "def decode" not in header


def test_chat_answer_with_the_function_alone_gets_the_prompt_helpers() -> None:
    answer = f"{F}python\ndef decode(s):\n    return encode(s)\n{F}"
    program = assemble_program(HE, answer, "chat")
    assert program.index("def encode") < program.index("def decode(s)")
    assert "import math" in program
    namespace: dict = {}
    exec(program, namespace)  # noqa: S102 - our own literal code
    assert namespace["decode"]("ab") == "ba"


def test_chat_answer_with_a_body_only_continues_the_prompt() -> None:
    program = assemble_program(HE, "    return encode(s)\n", "chat")
    assert program.startswith(HE.prompt)
    namespace: dict = {}
    exec(program, namespace)  # noqa: S102
    assert namespace["decode"]("xy") == "yx"


def test_completion_mode_truncates_at_stops() -> None:
    completion = "    return encode(s)\n\n\ndef main():\n    print(decode('x'))\n"
    program = assemble_program(HE, completion, "completion")
    assert program == HE.prompt + "    return encode(s)\n\n"
    whole = assemble_program(HE, completion, "completion", truncate=False)
    assert whole == HE.prompt + completion


def test_completion_mode_closes_brace_languages() -> None:
    cpp = Problem(id="c", language="cpp", question="q", entry_point="f",
                  prompt="#include<bits/stdc++.h>\nlong f(long x) {\n", tests="int main(){}")
    program = assemble_program(cpp, "    return x;\n}\nint main() { return 0; }", "completion")
    assert program == cpp.prompt + "    return x;" + "\n}\n"


def test_chat_java_method_only_is_wrapped_in_the_prompt_class() -> None:
    java = Problem(id="j", language="java", question="q", entry_point="f",
                   prompt="import java.util.*;\nclass Problem {\n    public static long f(long x) {\n",
                   tests="")
    program = assemble_program(java, f"{F}java\npublic static long f(long x) {{ return x; }}\n{F}", "chat")
    assert program.startswith("import java.util.*;\nclass Problem {\n")
    assert program.rstrip().endswith("}")


def test_chat_cpp_keeps_prompt_includes_once() -> None:
    cpp = Problem(id="c", language="cpp", question="q", entry_point="f",
                  prompt="#include<assert.h>\n#include<bits/stdc++.h>\n// doc\nlong f(long x) {\n",
                  tests="")
    answer = f"{F}cpp\n#include<bits/stdc++.h>\nlong f(long x) {{ return x; }}\n{F}"
    program = assemble_program(cpp, answer, "chat")
    assert program.count("#include<bits/stdc++.h>") == 1
    assert program.startswith("#include<assert.h>\n")


def test_normalize_go_merges_and_prunes_imports() -> None:
    source = ('package x_test\n\nimport (\n    "testing"\n    "fmt"\n)\n\nimport "strings"\n'
              'func f(s string) string {\n\treturn strings.ToUpper(s)\n}\n')
    out = normalize_go(source)
    assert out.startswith("package main\n")
    assert '"strings"' in out and '"testing"' not in out and '"fmt"' not in out
    assert out.count("import") == 1


def test_python_answers_lose_their_own_demo_and_test_code() -> None:
    from codistill.extract import python_definitions

    answer = '''```python
import math
LIMIT = 10
cache = {}

def area(r: float) -> float:
    return math.pi * r * r

class Shape:
    pass

print(area(2))
result = area(3)
assert area(1) == 4  # wrong expectation the harness must not run
for r in range(3):
    print(area(r))
if __name__ == "__main__":
    check(area)
```'''
    code = extract_code(answer, "python", entry_point="area")
    assert "def area" in code and "import math" in code and "LIMIT = 10" in code and "cache = {}" in code
    assert "class Shape" in code
    for demo in ("print(", "result =", "assert", "for r", "__main__"):
        assert demo not in code
    # Unparseable code is left for the sandbox to report; without an entry point nothing is cut.
    assert python_definitions("def f(:\n") == "def f(:\n"
    tests_only = "def check(candidate):\n    assert candidate(1) == 1\nassert True\n"
    assert extract_code(f"```python\n{tests_only}```", "python") == tests_only


def test_a_body_only_answer_is_stored_as_the_function_that_ran() -> None:
    problem = Problem(id="p", question="Add one.", entry_point="inc",
                      prompt='def inc(x: int) -> int:\n    """Add one."""\n')
    body = "```python\n    return x + 1\n```"
    whole = "```python\ndef inc(x: int) -> int:\n    return x + 1\n```"
    assert answer_code(problem, body) == problem.prompt + "    return x + 1\n"
    assert answer_code(problem, body) == assemble_program(problem, body, "chat")
    assert answer_code(problem, whole) == "def inc(x: int) -> int:\n    return x + 1\n"
