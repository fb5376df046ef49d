"""Teacher drafts in Python, read into a problem's parts: the prompt cut to imports + signature +
docstring, tests repaired so they exercise the real function in our harness, and tests pruned to
what the reference agrees with.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections import Counter
from typing import Any

from codistill.errors import DraftError


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


def _drop_broken_asserts(tests: str) -> str:
    """Tests that do not parse, without their one-line asserts that do not parse on their own
    (`assert f(1) == [1], note = 2`): one bad line should not cost the whole problem."""
    try:
        ast.parse(tests)
        return tests
    except SyntaxError:
        pass
    kept = []
    for line in tests.splitlines():
        if line.lstrip().startswith("assert "):
            try:
                ast.parse(line.strip())
            except SyntaxError:
                continue
        kept.append(line)
    return "\n".join(kept) + "\n"


def without_docstrings(code: str) -> str:
    """`code` with the docstrings of its functions removed (kept where one is the whole body)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    lines = code.splitlines()
    cut = []
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) and len(fn.body) > 1:
            first = fn.body[0]
            if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant) \
                    and isinstance(first.value.value, str) and first.lineno > fn.lineno:
                cut.append((first.lineno, first.end_lineno))
    for start, end in sorted(cut, reverse=True):
        del lines[start - 1 : end]
    return "\n".join(lines) + "\n"


def shape_tests(tests: str, entry: str) -> str:
    """Tests that run in our harness: no redefinition or import of the function, no main guard,
    `check` taking the candidate, and test functions or TestCases actually called."""
    tests = _drop_broken_asserts(tests)
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


def fields(prompt: str, solution: str, tests: str, question: str) -> dict[str, Any]:
    """prompt (imports, helpers, signature, docstring), entry_point and repaired tests of a draft."""
    solution_tree = _parse_loose(solution)
    prompt_tree = _parse_loose(prompt) if prompt.strip() else None
    defined = {n.name for n in _functions(solution_tree)}
    if _functions(prompt_tree):
        source, tree, helpers = prompt, prompt_tree, True
    elif _functions(solution_tree):
        source, tree, helpers = solution, solution_tree, False
    else:
        raise DraftError("no Python function in the prompt or the solution")
    functions = _functions(tree)
    entry = _choose_entry([f.name for f in functions], tests, defined)
    node = next(f for f in reversed(functions) if f.name == entry)
    return {"prompt": _python_prompt(source, tree, node, question, helpers), "entry_point": entry,
            "tests": shape_tests(tests, entry)}


def stub(prompt: str, entry: str | None) -> str:
    """The prompt with `return None` for a body: it must fail any test worth the name."""
    node = next((f for f in _functions(_parse_loose(prompt)) if f.name == entry), None)
    indent = " " * (node.body[0].col_offset if node is not None and node.body
                    and node.body[0].lineno > node.lineno else (node.col_offset + 4 if node else 4))
    return prompt.rstrip("\n") + f"\n{indent}return None\n"


def _expected_constants(tests: str, entry: str | None) -> list[str]:
    """Literal expected values of `candidate(...) == X` / `X is candidate(...)`, most common first."""
    try:
        tree = ast.parse(tests)
    except SyntaxError:
        return []
    names = {"candidate", entry}
    found: Counter[str] = Counter()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1
                and isinstance(node.ops[0], ast.Eq | ast.Is)):
            continue
        for call, other in ((node.left, node.comparators[0]), (node.comparators[0], node.left)):
            if isinstance(call, ast.Call) and getattr(call.func, "id", None) in names:
                try:
                    ast.literal_eval(other)
                except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                    continue
                found[ast.unparse(other)] += 1
    return [value for value, _ in found.most_common()]


def stubs(prompt: str, entry: str | None, tests: str, limit: int = 4) -> list[str]:
    """Do-nothing stubs: `return None`, then `return X` for the tests' commonest expected
    literals. Tests that any of them passes check nothing a constant could not fake."""
    base = stub(prompt, entry)
    head, _, _ = base.rpartition("return None\n")
    return [base] + [f"{head}return {value}\n" for value in _expected_constants(tests, entry)
                     if value != "None"][:limit]


# ---------------------------------------------------------------------------------------------
# Pruning: small teachers often get an expected value wrong. The reference is run once with every
# assert guarded; asserts it fails are removed, when enough remain to still mean something.

PROBE_MARK = "@@codistill-assert-failed"


def _asserts(tree: ast.Module) -> list[ast.Assert]:
    """Asserts at the top of the module or of check(), each alone on its lines, in order."""
    bodies = [tree.body] + [fn.body for fn in tree.body
                            if isinstance(fn, ast.FunctionDef) and fn.name == "check"]
    found = []
    for body in bodies:
        # A line shared with a sibling (`a = 1; assert a`) cannot be cut out cleanly.
        cover = Counter(k for n in body for k in range(n.lineno, n.end_lineno + 1))
        found += [n for n in body if isinstance(n, ast.Assert)
                  and all(cover[k] == 1 for k in range(n.lineno, n.end_lineno + 1))]
    return sorted(found, key=lambda n: n.lineno)


def probe(tests: str) -> tuple[str, int] | None:
    """Tests whose asserts report failure on stdout instead of stopping, and how many there are."""
    try:
        tree = ast.parse(tests)
    except SyntaxError:
        return None
    asserts = _asserts(tree)
    if not asserts:
        return None
    lines = tests.splitlines()
    for i, node in reversed(list(enumerate(asserts))):
        pad = " " * node.col_offset
        body = ["    " + line for line in lines[node.lineno - 1 : node.end_lineno]]
        lines[node.lineno - 1 : node.end_lineno] = [
            f"{pad}try:", *body, f"{pad}except Exception:", f"{pad}    print({PROBE_MARK!r}, {i})"]
    return "\n".join(lines) + "\n", len(asserts)


def failed_asserts(stdout: str) -> set[int]:
    """Indices of the asserts a probe run reported as failed."""
    return {int(m) for m in re.findall(rf"{re.escape(PROBE_MARK)} (\d+)", stdout)}


def prune(tests: str, failed: set[int]) -> str:
    """The tests without the asserts numbered in `failed` (numbering as in `probe`)."""
    tree = ast.parse(tests)
    lines = tests.splitlines()
    for i, node in reversed(list(enumerate(_asserts(tree)))):
        if i in failed:
            del lines[node.lineno - 1 : node.end_lineno]
    return "\n".join(lines) + "\n"
