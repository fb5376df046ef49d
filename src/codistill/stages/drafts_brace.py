"""Teacher drafts in brace languages (those whose language module has `BRACES`: C, Go, Java, ...).

The prompt is cut right after the opening brace of the function under test, so a model continues
it and a stub closes it; a demo `main` in the solution is removed when the tests bring their own.
Code is scanned with comments and string literals blanked out, so braces inside them never count.
"""

from __future__ import annotations

import re
from typing import Any

from codistill.sandbox import languages
from codistill.sandbox.languages.text import C_LIKE_FUNCTION, Braces, preamble

_UNKNOWN = Braces(C_LIKE_FUNCTION, "")  # a language without a module: read as C-like
_KEYWORDS = frozenset({"if", "for", "while", "switch", "catch", "return", "sizeof", "else", "do",
                       "synchronized", "function", "new", "throw", "typeof", "await", "defined"})
_LITERALS = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|`(?:\\.|[^`\\])*`',
                       re.DOTALL)


def braces(language: str) -> Braces:
    """How drafts in `language` are cut and stubbed (its module's BRACES)."""
    module = languages.REGISTRY.get(language)
    return module.BRACES if module and module.BRACES else _UNKNOWN


def mask(code: str) -> str:
    """`code` with comments and string literals replaced by spaces (newlines kept)."""
    return _LITERALS.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), code)


def _closing(text: str, start: int, open_: str, close: str) -> int:
    """Index of the bracket closing the one at `start`, or -1."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == open_:
            depth += 1
        elif text[i] == close:
            depth -= 1
            if depth == 0:
                return i
    return -1


def definitions(code: str, language: str) -> list[tuple[str, int, int]]:
    """Functions defined with a body: (name, start of the signature's line, index of the body's `{`)."""
    masked, shape = mask(code), braces(language)
    found = []
    for m in re.finditer(shape.function, masked):
        name = next(g for g in m.groups() if g)
        if name in _KEYWORDS:
            continue
        paren = masked.find("(", m.end())
        close = _closing(masked, paren, "(", ")") if paren >= 0 else -1
        if close < 0:
            continue
        tail = re.match(shape.signature_end, masked[close + 1 :])
        if tail is None or "\n\n" in tail.group(0):
            continue
        found.append((name, masked.rfind("\n", 0, m.start()) + 1, close + tail.end()))
    return found


def _choose(defs: list[tuple[str, int, int]], tests: str, solution: str,
            language: str) -> tuple[str, int, int] | None:
    usable = [d for d in defs if d[0] != "main"]
    called = [d for d in usable if re.search(rf"\b{re.escape(d[0])}\s*\(", mask(tests))]
    solved = [d for d in usable if any(name == d[0] for name, _, _ in definitions(solution, language))]
    return (called or solved or usable or [None])[-1]


def _comment(question: str, indent: str) -> str:
    return "".join(f"{indent}// {line}".rstrip() + "\n" for line in question.strip().splitlines())


def fields(prompt: str, solution: str, tests: str, question: str, language: str) -> dict[str, Any] | None:
    """prompt (ending at the body's brace, with the task as a comment when it has none),
    entry_point and tests for a draft in a brace language; None when no function is found."""
    chosen = _choose(definitions(prompt, language), tests, solution, language) if prompt.strip() else None
    if chosen is not None:
        name, line_start, brace = chosen
        head, signature = prompt[:line_start], prompt[line_start : brace + 1]
    else:
        chosen = _choose(definitions(solution, language), tests, solution, language)
        if chosen is None:
            return None
        name, line_start, brace = chosen
        head = preamble(solution, name)
        owner = re.search(r"^[^\n]*\bclass\s+\w+[^{\n]*\{", mask(solution[:line_start]), re.M)
        if braces(language).in_class and owner:
            head += solution[owner.start() : owner.end()] + "\n"
        signature = solution[line_start : brace + 1]
    if not re.search(r"//|/\*", head + signature):
        indent = re.match(r"[ \t]*", signature).group(0)
        signature = _comment(question, indent) + signature
    return {"prompt": head + signature + "\n", "entry_point": name, "tests": _local_tests(tests)}


def _local_tests(tests: str) -> str:
    """Tests without imports of a separate solution file: the sandbox puts both in one program."""
    drop = re.compile(r"^\s*(?:(?:const|let|var)\s+[^=\n]+=\s*require\(\s*['\"]\.{1,2}/[^)]*\)\s*;?"
                      r"|import\s+[^\n]*from\s+['\"]\.{1,2}/[^\n]*)\s*$", re.M)
    return drop.sub("", tests)


def stub(prompt: str, entry: str, language: str) -> str:
    """The prompt closed with a body that does nothing useful, and every open brace closed."""
    masked = mask(prompt)
    depth = masked.count("{") - masked.count("}")
    last = prompt.rstrip().splitlines()[-1] if prompt.strip() else ""
    indent = re.match(r"[ \t]*", last).group(0)
    shape = braces(language)
    body = shape.stub
    if shape.void_stub_empty and re.search(rf"\bvoid\s+{re.escape(entry)}\s*\(", masked):
        body = ""
    closers = "".join(f"{' ' * max(0, len(indent) - 4 * k)}}}\n" for k in range(max(depth, 0)))
    return prompt.rstrip("\n") + f"\n{indent}    {body}\n" + closers


def defines_main(code: str, language: str) -> bool:
    """True when `code` has its own program entry (C, C++, Go, Rust)."""
    pattern = braces(language).main
    return pattern is not None and re.search(pattern, mask(code)) is not None


def drop_main(code: str, language: str) -> str:
    """`code` without its `main` function (a demo that would clash with the tests' own)."""
    masked = mask(code)
    m = re.search(braces(language).main or r"$^", masked)
    if m is None:
        return code
    brace = masked.find("{", m.end())
    end = _closing(masked, brace, "{", "}") if brace >= 0 else -1
    if end < 0:
        return code
    start = masked.rfind("\n", 0, m.start()) + 1
    return code[:start] + code[end + 1 :].lstrip("\n")
