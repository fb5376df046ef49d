"""The text side of a language, shared by its modules: how models write it and how drafts are cut.

A language module says how its code looks (fences, stop sequences, where definitions start)
and how an answer becomes a program; the pieces several brace languages share are here, and
so are the records `Braces` (drafts in a brace language, stages/drafts_brace.py) and
`Multiple` (MultiPL-E's files, evaluate/benchmarks/multiple.py). Nothing here runs code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# Where code starts in an answer without fences, for languages that say nothing more precise.
BRACE_CODE_START = re.compile(
    r"^(#include|#define|using |typedef |struct |template|static |const |let |var |function |"
    r"export |import |class |interface |type |enum |async function |long |int |bool |void |"
    r"double |float |char |unsigned |std::|auto |string |vector)"
)
# A function's name before its parameter list, in C-like syntax (C, C++, Java).
C_LIKE_FUNCTION = r"\b([A-Za-z_]\w*)\s*(?=\()"
BRACE_PROMPT_RULE = ("a comment saying what the function does and the function's signature ending "
                     "with its opening brace {, with no body")
# The top of a prompt ends at its doc comment or function (or class, for Java).
_BODY_START = re.compile(r"^\s*(//|/\*|\*|#\s*\[|(public |private |static |final )*class |"
                         r"(export )?(async )?function |func |(pub )?fn )")


def preamble(prompt: str, entry_point: str | None = None) -> str:
    """The top of a non-Python prompt before its doc comment or function: includes, imports,
    package clause, `using` lines and declarations the function relies on."""
    lines = []
    for line in prompt.splitlines():
        if _BODY_START.match(line) or (
                entry_point and re.search(rf"\b{re.escape(entry_point)}\s*\(", line)):
            break
        lines.append(line + "\n")
    return "".join(lines)


def join_preamble(prompt: str, code: str, entry_point: str | None) -> str:
    """The prompt's preamble lines that the answer does not repeat, then the answer."""
    header = preamble(prompt, entry_point)
    kept = "".join(line for line in header.splitlines(keepends=True)
                   if not line.strip() or line.strip() not in code)
    return (kept.rstrip("\n") + "\n\n" if kept.strip() else "") + code


def defines_c_like(code: str, name: str) -> bool:
    """True when `name` is followed by a parameter list and, later, an opening brace."""
    n = re.escape(name)
    found = re.search(rf"\b{n}\s*\([^;{{}}]*\)\s*(const\s*)?(throws [\w., ]+)?\s*\{{", code)
    return found is not None


def as_written(source: str) -> str:
    """`source` unchanged: the language needs no tidying after a completion."""
    return source


@dataclass(frozen=True)
class Braces:
    """How a brace language's drafts are cut at a function's opening brace and stubbed."""

    function: str  # a function definition; its name is the first group that matched
    stub: str  # a body that compiles and returns nothing useful
    main: str | None = None  # the program's own entry, dropped when the tests bring theirs
    signature_end: str = r"[^;{}=]*?\{"  # from the parameter list's `)` to the body's `{`
    in_class: bool = False  # functions are methods: a draft keeps its class's opening line
    void_stub_empty: bool = False  # a void function's stub is empty (`return 0;` would not compile)


def candidate_entry(prompt: str, tests: str) -> str | None:
    """The function MultiPL-E's tests bind to `candidate`."""
    found = re.search(r"candidate\s*:?=\s*(\w+)", tests)
    return found.group(1) if found else None


def as_published(prompt: str, tests: str, entry: str) -> tuple[str, str, str] | None:
    """MultiPL-E's prompt and tests used as they are, with nothing to append to a completion."""
    return prompt, tests, ""


def drop_first_line(text: str, expected: str) -> str:
    """`text` without its first line, which must be `expected`; ValueError when it is not."""
    first, _, rest = text.lstrip("\n").partition("\n")
    if first.strip() != expected:
        raise ValueError(f"expected the tests to start with {expected!r}, found {first!r}; is "
                         "this a MultiPL-E file?")
    return rest


def closing_brace_moved(prompt: str, tests: str, entry: str) -> tuple[str, str, str] | None:
    """The tests' leading `}` moved to the end of the candidate (C++, Rust)."""
    return prompt, drop_first_line(tests, "}"), "\n}\n"


@dataclass(frozen=True)
class Multiple:
    """How MultiPL-E's published files in a language map onto the sandbox's test convention."""

    names: tuple[str, ...]  # MultiPL-E's `language` values for it
    # (prompt, tests) -> the function under test, when the row says it
    entry: Callable[[str, str], str | None] = candidate_entry
    # (prompt, tests, entry) -> (prompt, tests, what closes a completion); None: cannot run here;
    # ValueError: not laid out as MultiPL-E lays out this language
    convert: Callable[[str, str, str], tuple[str, str, str] | None] = as_published
