"""MultiPL-E: its published prompts and tests, mapped onto the sandbox's per-language convention.

A MultiPL-E row (`name, language, prompt, doctests, original, prompt_terminology, tests,
stop_tokens`) is built to be run as one file, `prompt + completion + tests`, where the tests
often begin by closing the function the completion left open. The mapping (docs/evaluation.md):

- py, js, ts: `tests` is already a test suffix in our convention; used as published.
- cpp, rs: the leading `}` moves from the tests to the end of the candidate (completion mode
  appends it after the cut at the stop tokens); the rest (`int main` / `fn main`) is the tests.
- java: the leading `    }` closes the method and the final `}` the class in the candidate;
  `main` moves into `public class Main extends Problem` in Main.java (static methods are
  inherited, so the asserts call them unqualified), with the prompt's imports. The unused
  `import org.javatuples.*;` is dropped (javatuples is not installed); tasks that use its
  tuple types are skipped.
- go: MultiPL-E runs `go test`; we rewrite the test function onto a tiny stand-in for
  `testing.T` (Run and Errorf) called from `func main`, and the candidate becomes package main.
Other MultiPL-E languages have no toolchain in the sandbox and are refused with their names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from codistill.evaluate.benchmarks.sources import BenchmarkError, need, read_rows
from codistill.records import Problem

LANGUAGES = {"py": "python", "js": "javascript", "ts": "typescript", "cpp": "cpp",
             "java": "java", "go_test.go": "go", "go": "go", "rs": "rust"}
FIELDS = ("name", "language", "prompt", "tests")

_GO_SHIM = """\
type cdxT struct{ failed bool }

func (t *cdxT) Errorf(format string, args ...interface{}) {
\tfmt.Printf(format+"\\n", args...)
\tt.failed = true
}

func (t *cdxT) Run(name string, f func(t *cdxT)) bool {
\tf(t)
\treturn !t.failed
}
"""


def entry_point_of(row: dict[str, Any], language: str) -> str | None:
    """The function under test, from the tests (or, for Java, the prompt's last method)."""
    if language == "python":
        found = re.search(r"^\s+check\((\w+)\)", row["tests"], re.MULTILINE)
    elif language == "java":
        found = list(re.finditer(r"public static [^(=;]*?\b(\w+)\s*\(", row["prompt"]))
        found = found[-1] if found else None
    else:
        found = re.search(r"candidate\s*:?=\s*(\w+)", row["tests"])
    if found:
        return found.group(1)
    named = re.match(r"^(?:HumanEval|mbpp)_\d+_(.+)$", row["name"])
    return named.group(1) if named else None


def _drop_first_line(text: str, expected: str, where: str) -> str:
    first, _, rest = text.lstrip("\n").partition("\n")
    if first.strip() != expected:
        raise BenchmarkError(f"{where}: expected the tests to start with {expected!r}, "
                             f"found {first!r}; is this a MultiPL-E file?")
    return rest


def _java(row: dict[str, Any], where: str) -> tuple[str, str, str] | None:
    prompt, tests = row["prompt"], row["tests"]
    if re.search(r"\b(Pair|Triplet|Quartet|Unit)\b", prompt + tests):
        return None
    prompt = prompt.replace("import org.javatuples.*;\n", "")
    imports = "".join(line + "\n" for line in prompt.splitlines() if line.startswith("import "))
    cls = re.search(r"\bclass\s+(\w+)", prompt)
    body = _drop_first_line(tests, "}", where)
    tests = f"{imports}\npublic class Main extends {cls.group(1) if cls else 'Problem'} {{\n{body}"
    return prompt, tests, "\n    }\n}\n"


def _go(row: dict[str, Any], entry: str) -> tuple[str, str, str]:
    test = row["tests"].replace("*testing.T", "*cdxT")
    name = re.search(r"func (Test\w+)\(", test)
    runner = name.group(1) if name else f"Test{entry.title()}"
    tests = (f'package main\n\nimport "fmt"\n\n{_GO_SHIM}\n{test.rstrip()}\n\n'
             f"func main() {{\n\tt := &cdxT{{}}\n\t{runner}(t)\n"
             f'\tif t.failed {{\n\t\tpanic("a test failed")\n\t}}\n}}\n')
    return row["prompt"], tests, ""


def multiple_problem(row: dict[str, Any], where: str) -> Problem | None:
    """One MultiPL-E row as a Problem, or None when the task cannot run here (see module doc)."""
    need(row, FIELDS, where)
    language = LANGUAGES.get(row["language"])
    if language is None:
        raise BenchmarkError(
            f"{where}: MultiPL-E language {row['language']!r} has no toolchain in the sandbox; "
            f"supported: {', '.join(sorted(LANGUAGES))}"
        )
    entry = entry_point_of(row, language)
    prompt, tests, suffix = row["prompt"], row["tests"], ""
    if language in ("cpp", "rust"):
        tests, suffix = _drop_first_line(tests, "}", where), "\n}\n"
    elif language == "java":
        mapped = _java(row, where)
        if mapped is None:
            return None
        prompt, tests, suffix = mapped
    elif language == "go":
        prompt, tests, suffix = _go(row, entry or "")
    return Problem(
        id=row["name"], language=language, question=prompt, prompt=prompt, entry_point=entry,
        tests=tests, source=f"multipl-e:{row['language']}",
        meta={"stop": list(row.get("stop_tokens") or []), "completion_suffix": suffix},
    )


def load_multiple(source: str) -> list[Problem]:
    """A MultiPL-E file (JSON/JSONL/parquet) or hub config (`humaneval-cpp` -> nuprl/MultiPL-E)."""
    if not Path(source).expanduser().exists() and re.fullmatch(r"(humaneval|mbpp)-\w+", source):
        source = f"nuprl/MultiPL-E#{source}"
    problems = []
    for i, row in enumerate(read_rows(source)):
        problem = multiple_problem(row, f"{source} row {i + 1}")
        if problem is not None:
            problems.append(problem)
    return problems
