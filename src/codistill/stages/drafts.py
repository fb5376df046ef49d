"""Teacher-written problems: the reply format, reading it forgivingly, and shaping it into a Problem.

Shared by SODA's curriculum and AKD's adversary. The teacher answers with four sections
(question, code prompt, tests, reference solution). `parse_draft` finds them even when headings
are missing or renamed; `to_problem` turns them into a Problem whose prompt ends where the body
starts (HumanEval style) and whose tests call the real function. Small teachers make every
mistake imaginable, so each repair here is one we have seen, and anything we cannot repair is
a `DraftError` whose message says what was missing. The per-language work (cutting the prompt,
repairing the tests, stubs) is in `drafts_python` and `drafts_brace`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from codistill.errors import DraftError
from codistill.extract import assemble_program, fence_labels, fenced_blocks
from codistill.prompting import language_vars, render
from codistill.records import Problem
from codistill.sandbox import languages
from codistill.stages import drafts_brace, drafts_python


@dataclass(frozen=True)
class Draft:
    """The four sections of a teacher's reply, as written (prompt may be empty)."""

    question: str
    prompt: str
    tests: str
    solution: str


def layout(problem: Problem) -> str:
    """A problem written in the reply layout: the teacher's model of what to answer with.

    Showing the parent itself (rather than an unrelated worked example) keeps small teachers
    from copying the example's content into every reply; a copy of the parent is a duplicate.
    """
    solution = problem.reference or ""
    if problem.language == "python":
        # Seed references repeat the docstring; a teacher that copies that runs out of tokens.
        solution = drafts_python.without_docstrings(solution) if solution.strip() else ""
    return render("problem_layout", question=problem.question, prompt=problem.prompt,
                  tests=problem.tests, solution=solution, **language_vars(problem.language))


def reply_rules(language: str) -> str:
    """What the teacher's reply must hold, in `language`, as prose.

    What goes under "## Prompt" and "## Tests" is the language module's DRAFT_PROMPT_RULE and
    DRAFT_TESTS_RULE: prose a small model will not echo back as code (a concrete example assert
    gets copied into the tests verbatim).
    """
    module = languages.REGISTRY[language]
    return render("problem_rules", prompt_rule=module.DRAFT_PROMPT_RULE,
                  tests_rule=module.DRAFT_TESTS_RULE, **language_vars(language))


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
    labels = fence_labels(language)
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


def to_problem(draft: Draft, *, problem_id: str, language: str, **fields: Any) -> Problem:
    """A Problem from a draft: prompt ending where the body starts, tests fixed up, reference
    assembled with the prompt's imports; raise DraftError when a piece is missing."""
    if language == "python":
        parts = drafts_python.fields(draft.prompt, draft.solution, draft.tests, draft.question)
    else:
        parts = drafts_brace.fields(draft.prompt, draft.solution, draft.tests, draft.question, language)
        if parts is None:
            raise DraftError(f"no {language} function with a body in the prompt or the solution")
    question = draft.question.strip() or parts["prompt"]
    problem = Problem(id=problem_id, language=language, question=question, **parts, **fields)
    solution = draft.solution
    if language != "python":
        solution = drafts_brace.drop_main(solution, language) if drafts_brace.defines_main(
            problem.tests, language) else solution
    # Fenced by hand: answer_text would strip the indentation of a body-only solution.
    fenced = f"```{language_vars(language)['fence']}\n{solution.strip(chr(10)).rstrip()}\n```"
    reference = assemble_program(problem, fenced, "chat")
    return problem.model_copy(update={"reference": reference})


def stub_source(problem: Problem) -> str:
    """The prompt with a body that does nothing: it must fail any test worth the name."""
    if problem.language == "python":
        return drafts_python.stub(problem.prompt, problem.entry_point)
    return drafts_brace.stub(problem.prompt, problem.entry_point or "", problem.language)
