"""Teacher-written problems: the reply format, reading it forgivingly, and shaping it into a Problem.

Shared by SODA's curriculum and AKD's adversary. The teacher answers with four sections
(question, code prompt, tests, reference solution). `parse_draft` finds them even when headings
are missing or renamed; `to_problem` turns them into a Problem whose prompt ends where the body
starts (HumanEval style) and whose tests call the real function. Small teachers make every
mistake imaginable, so each repair here is one we have seen, and anything we cannot repair is
a `DraftError` whose message says what was missing.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from typing import Any

from codistill.extract import LABELS, assemble_program, fenced_blocks
from codistill.prompting import TEST_CONVENTIONS, language_vars, render, template
from codistill.records import Problem
from codistill.stages import evolve_brace


class DraftError(ValueError):
    """A teacher reply that cannot be read as a problem; the message says what is missing."""


@dataclass(frozen=True)
class Draft:
    """The four sections of a teacher's reply, as written (prompt may be empty)."""

    question: str
    prompt: str
    tests: str
    solution: str


PROMPT_HINTS = {
    "python": "The function's signature line and a docstring that states the task, with examples. "
              "Stop right after the docstring: no body.",
    "java": "class Solution {, a comment that states the task, then the public static method's "
            "signature ending with its opening brace {. No body.",
}
BRACE_PROMPT_HINT = ("A comment that states the task, then the function's signature ending with its "
                     "opening brace {. No body.")


def _example_text(language: str) -> str:
    try:
        return template(f"problem_example_{language}").render()
    except FileNotFoundError:
        return ""


def format_example(language: str) -> Problem | None:
    """The worked example shown to the teacher, as a Problem: a reply copying it is a duplicate."""
    text = _example_text(language)
    if not text:
        return None
    return to_problem(parse_draft(text, language), problem_id=f"format-example/{language}",
                      language=language)


def format_instructions(language: str) -> str:
    """How the teacher must lay out a new problem in `language` (rendered into every prompt)."""
    values = language_vars(language)
    example = _example_text(language)
    tests_hint = "def check(candidate):\n    assert candidate(...) == ..." if language == "python" \
        else "The test code."
    return render("problem_format", prompt_hint=PROMPT_HINTS.get(language, BRACE_PROMPT_HINT),
                  tests_hint=tests_hint, convention=TEST_CONVENTIONS[language], example=example,
                  **values)


# ---------------------------------------------------------------------------------------------
# Finding the sections

_KEYS = {
    "question": "question", "problem statement": "question", "problem": "question",
    "task": "question", "description": "question", "exercise": "question",
    "code prompt": "prompt", "prompt": "prompt", "function signature": "prompt",
    "signature": "prompt", "stub": "prompt", "skeleton": "prompt",
    "unit tests": "tests", "test cases": "tests", "test code": "tests", "tests": "tests",
    "test": "tests",
    "reference solution": "solution", "reference implementation": "solution",
    "reference": "solution", "solution": "solution", "implementation": "solution",
}
_KEY_PATTERN = "|".join(k.replace(" ", r"\s+") for k in sorted(_KEYS, key=len, reverse=True))
_HEADER = re.compile(
    rf"^[ \t]*(?P<mark>#{{1,6}}[ \t]*|\*\*|__)?[ \t]*(?:\d+[.)][ \t]*)?(?P<key>{_KEY_PATTERN})\b"
    r"[ \t]*(?:\([^)\n]*\))?[ \t]*(?:\*\*|__)?[ \t]*(?P<colon>:)?[ \t]*(?:\*\*|__)?[ \t]*"
    r"(?P<rest>.*)$", re.IGNORECASE)
_FENCE_LINE = re.compile(r"^[ \t]*(```+|~~~+)[ \t]*(\S*)")
_PROSE_LABELS = frozenset({"text", "markdown", "md", "plaintext", "txt", "output", "console",
                           "bash", "sh", "shell"})


def _header(line: str) -> tuple[str, str] | None:
    """(section, text after the heading) when `line` is a section heading."""
    m = _HEADER.match(line)
    if not m:
        return None
    key = _KEYS[" ".join(m.group("key").lower().split())]
    rest = m.group("rest").strip()
    if not (m.group("mark") or m.group("colon") or not rest):
        return None
    if rest and not m.group("mark") and key != "question":
        return None  # "Tests should cover ..." is prose, not a heading
    return key, rest if key == "question" else ""


def _sections(text: str) -> dict[str, str]:
    """Section name -> body, reading headings only outside fenced code; the first of each wins."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    in_fence = False
    for line in text.splitlines():
        fence = _FENCE_LINE.match(line)
        if fence:
            # A labelled fence inside a fence is a forgotten close followed by a new block.
            in_fence = not in_fence or bool(fence.group(2))
        elif not in_fence and (head := _header(line)):
            key, rest = head
            current = None if key in found else found.setdefault(key, [rest] if rest else [])
            continue
        if current is not None:
            current.append(line)
    return {key: "\n".join(lines).strip("\n") for key, lines in found.items()}


def _code_blocks(text: str, language: str) -> list[str]:
    """The fenced blocks of `text` that can hold code in `language`, in order."""
    labels = LABELS.get(language, frozenset({language}))
    return [code for label, code, _ in fenced_blocks(text)
            if (label in labels or not label or label not in _PROSE_LABELS) and code.strip()]


def _code_of(body: str, language: str) -> str:
    """The code in one section: its first fitting fenced block, else the bare text."""
    blocks = _code_blocks(body, language)
    if blocks:
        return blocks[0].strip("\n") + "\n"
    if "```" in body or not body.strip():
        return ""
    return body.strip("\n") + "\n"


def _looks_like_tests(code: str, language: str) -> bool:
    if language == "python":
        return re.search(r"^\s*(def\s+(check|test_?\w*)\s*\(|assert\b)|unittest", code, re.M) is not None
    return re.search(r"\bassert|AssertionError|panic\(", code) is not None


def _prose(text: str) -> str:
    """Text outside fenced blocks, without section headings."""
    kept, in_fence = [], False
    for line in text.splitlines():
        if _FENCE_LINE.match(line):
            in_fence = not in_fence
        elif not in_fence and not _header(line):
            kept.append(line)
    return "\n".join(kept).strip()


def parse_draft(text: str, language: str) -> Draft:
    """Read a teacher's reply into its four sections; raise DraftError when that is impossible."""
    sections = _sections(text)
    tests = _code_of(sections.get("tests", ""), language)
    solution = _code_of(sections.get("solution", ""), language)
    prompt = _code_of(sections.get("prompt", ""), language)
    # A question wrapped in a fence is still prose.
    question = "\n".join(line for line in sections.get("question", "").splitlines()
                         if not _FENCE_LINE.match(line)).strip()
    if not (tests and solution):
        # No usable headings: tell the blocks apart by what they contain.
        blocks = _code_blocks(text, language)
        test_blocks = [b for b in blocks if _looks_like_tests(b, language)]
        if len(blocks) >= 3 and _looks_like_tests(blocks[1], language):
            prompt, tests, solution = blocks[0], blocks[1], blocks[2]
        elif test_blocks and len(blocks) >= 2:
            tests = max(test_blocks, key=lambda b: len(re.findall(r"assert|panic", b)))
            others = [b for b in blocks if b is not tests]
            solution = max(others, key=len)
            prompt = others[0] if others[0] is not solution else ""
        else:
            raise DraftError(f"no tests and solution found ({len(blocks)} code block(s), "
                             f"headings: {sorted(sections) or 'none'})")
        question = question or _prose(text.split("```", 1)[0])
    if not question and not prompt:
        raise DraftError("neither a question nor a code prompt")
    return Draft(question, prompt, tests, solution)


# ---------------------------------------------------------------------------------------------
# Python: prompt = imports + signature + docstring; tests that really exercise the function


def _parse_loose(code: str) -> ast.Module | None:
    """Parse code that may stop where a body should start."""
    for suffix in ("", "\n    pass\n", '\n    """"""\n'):
        try:
            return ast.parse(code + suffix)
        except SyntaxError:
            continue
    return None


def _functions(tree: ast.Module | None) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    if tree is None:
        return []
    return [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _choose_entry(names: list[str], tests: str, preferred: set[str]) -> str | None:
    """The function under test: one the tests call by name, else one the solution defines, else the last."""
    called = [n for n in names if re.search(rf"\b{re.escape(n)}\s*\(", tests)]
    chosen = [n for n in names if n in preferred]
    return (called or chosen or names or [None])[-1]


def _docstring_for(question: str, indent: str = "    ") -> str:
    """The question as a docstring body, indented like one (the quotes go around it)."""
    text = question.strip().replace("\\", "\\\\").replace('"""', "'''")
    lines = [w for p in text.splitlines() for w in (textwrap.wrap(p, 88) or [""])]
    if len(lines) <= 1:
        return text
    return "\n".join(lines[:1] + [(indent + line).rstrip() for line in lines[1:]]) + "\n" + indent


def _python_prompt(source: str, tree: ast.Module, node: ast.AST, question: str, keep_helpers: bool) -> str:
    """Everything before the entry function, its signature and its docstring; nothing of its body."""
    lines = source.splitlines()
    start = min([node.lineno] + [d.lineno for d in node.decorator_list])
    if keep_helpers:
        head = "".join(line + "\n" for line in lines[: start - 1])
    else:
        imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom) and n.lineno < start]
        head = "".join("\n".join(lines[n.lineno - 1 : n.end_lineno]) + "\n" for n in imports)
        head += "\n\n" if head else ""
    body = node.body
    has_doc = bool(body) and isinstance(body[0], ast.Expr) and isinstance(
        getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str)
    if has_doc and body[0].lineno > node.lineno:
        return head + "\n".join(lines[start - 1 : body[0].end_lineno]) + "\n"
    doc = ast.get_docstring(node, clean=False) if has_doc else _docstring_for(question)
    kind = ast.AsyncFunctionDef if isinstance(node, ast.AsyncFunctionDef) else ast.FunctionDef
    signature = kind(name=node.name, args=node.args, body=[ast.Expr(ast.Constant(doc))],
                     decorator_list=node.decorator_list, returns=node.returns,
                     type_params=getattr(node, "type_params", []), lineno=node.lineno)
    return head + ast.unparse(ast.fix_missing_locations(signature)) + "\n"


def _is_main_guard(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "__name__" in ast.unparse(node.test) and "__main__" in ast.unparse(node.test)


def _python_tests(tests: str, entry: str) -> str:
    """Tests that run in our harness: no redefinition or import of the function, no main guard,
    `check` taking the candidate, and test functions or TestCases actually called."""
    try:
        tree = ast.parse(tests)
    except SyntaxError as exc:
        raise DraftError(f"the tests are not valid Python ({exc.msg}, line {exc.lineno})") from None
    lines = tests.splitlines()
    out: list[str] = []
    cursor = 0
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        out += lines[cursor:start]
        segment = lines[start : node.end_lineno]
        cursor = node.end_lineno
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == entry:
            continue  # a copy of the solution would shadow the code under test
        if isinstance(node, ast.ImportFrom) and (
                node.module in ("solution", "main", entry) or any(a.name == entry for a in node.names)):
            continue
        if isinstance(node, ast.Import) and any(a.name in ("solution", "main", entry) for a in node.names):
            continue
        if _is_main_guard(node):
            # The harness loads the tests as module "solution", so the guard would skip them.
            segment = textwrap.dedent("\n".join(lines[node.body[0].lineno - 1 : node.end_lineno])).splitlines()
        out += segment
    text = "\n".join(out + lines[cursor:]) + "\n"
    text = re.sub(r"^def\s+check\s*\(\s*\)", "def check(candidate=None)", text, flags=re.M)
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    params = {a.arg for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) for a in n.args.args}
    if "check" not in names and "candidate" not in params and re.search(r"\bcandidate\b", text):
        text = f"candidate = {entry}\n" + text  # top-level asserts written for check(candidate)
    if "check" not in names:
        called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        text += "".join(f"\n{name}()\n" for name in sorted(names)
                        if name.startswith("test") and name not in called)
    if re.search(r"unittest\.TestCase|\bTestCase\)", text):
        text = re.sub(r"\bunittest\.main\([^)\n]*\)", "pass", text)
        # The harness loads tests apart from any module, so collect the cases from globals().
        text += ("\nimport io as _io\nimport unittest as _unittest\n"
                 "_suite = _unittest.TestSuite(_unittest.defaultTestLoader.loadTestsFromTestCase(_c)\n"
                 "    for _c in list(globals().values())\n"
                 "    if isinstance(_c, type) and issubclass(_c, _unittest.TestCase))\n"
                 "_result = _unittest.TextTestRunner(stream=_io.StringIO(), verbosity=0).run(_suite)\n"
                 "assert _result.testsRun and _result.wasSuccessful(), "
                 "(_result.failures + _result.errors)[0][1] if _result.failures + _result.errors "
                 "else 'no unit tests ran'\n")
    return text


def _python_fields(draft: Draft) -> dict[str, Any]:
    solution_tree = _parse_loose(draft.solution)
    prompt_tree = _parse_loose(draft.prompt) if draft.prompt.strip() else None
    defined = {n.name for n in _functions(solution_tree)}
    if _functions(prompt_tree):
        source, tree, helpers = draft.prompt, prompt_tree, True
    elif _functions(solution_tree):
        source, tree, helpers = draft.solution, solution_tree, False
    else:
        raise DraftError("no Python function in the prompt or the solution")
    functions = _functions(tree)
    entry = _choose_entry([f.name for f in functions], draft.tests, defined)
    node = next(f for f in reversed(functions) if f.name == entry)
    prompt = _python_prompt(source, tree, node, draft.question, helpers)
    return {"prompt": prompt, "entry_point": entry, "tests": _python_tests(draft.tests, entry)}


def to_problem(draft: Draft, *, problem_id: str, language: str, **fields: Any) -> Problem:
    """A Problem from a draft: prompt ending where the body starts, tests fixed up, reference
    assembled with the prompt's imports; raise DraftError when a piece is missing."""
    if language == "python":
        parts = _python_fields(draft)
    else:
        parts = evolve_brace.fields(draft.prompt, draft.solution, draft.tests, draft.question, language)
        if parts is None:
            raise DraftError(f"no {language} function with a body in the prompt or the solution")
    question = draft.question.strip() or parts["prompt"]
    problem = Problem(id=problem_id, language=language, question=question, **parts, **fields)
    solution = draft.solution
    if language != "python":
        solution = evolve_brace.drop_main(solution, language) if evolve_brace.defines_main(
            problem.tests, language) else solution
    # Fenced by hand: answer_text would strip the indentation of a body-only solution.
    fenced = f"```{language_vars(language)['fence']}\n{solution.strip(chr(10)).rstrip()}\n```"
    reference = assemble_program(problem, fenced, "chat")
    return problem.model_copy(update={"reference": reference})


def stub_source(problem: Problem) -> str:
    """The prompt with a body that does nothing: it must fail any test worth the name."""
    if problem.language != "python":
        return evolve_brace.stub(problem.prompt, problem.entry_point or "", problem.language)
    tree = _parse_loose(problem.prompt)
    node = next((f for f in _functions(tree) if f.name == problem.entry_point), None)
    indent = " " * (node.body[0].col_offset if node is not None and node.body
                    and node.body[0].lineno > node.lineno else (node.col_offset + 4 if node else 4))
    return problem.prompt.rstrip("\n") + f"\n{indent}return None\n"

