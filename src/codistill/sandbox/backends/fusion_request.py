"""Our Program as one SandboxFusion /run_code request: source and tests assembled into one file.

SandboxFusion runs a single file per request (Java always as Main.java, run by `java -ea Main`),
so each language's source and tests are put together the way docs/sandbox.md describes, and,
where the language allows a wrapper, the tests are followed by a random marker printed only
when they ran to completion: a run that exits 0 early (sys.exit, os.Exit, process.exit) then
still fails. C has no SandboxFusion runner, and C and C++ get no marker (see docs/sandbox.md).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from codistill.sandbox import languages
from codistill.sandbox.languages import java as java_lang
from codistill.sandbox.languages import rust as rust_lang
from codistill.sandbox.types import Limits, Program, Status

# codistill language -> SandboxFusion `language`
LANGUAGES = {"python": "python", "javascript": "nodejs", "typescript": "typescript",
             "java": "java", "cpp": "cpp", "go": "go", "rust": "rust"}
COMPILED = {"java", "cpp", "go", "rust"}  # SandboxFusion answers with a compile_result


@dataclass(frozen=True)
class Request:
    """The JSON body for /run_code and what is needed to read its answer."""

    body: dict
    language: str  # codistill's name
    tests: tuple[int, int] | None  # first and last line of the tests in body["code"]
    marker: str | None  # printed once the tests finished; None where none is added


class Unsupported(ValueError):
    """The program cannot be expressed as a SandboxFusion request (the message says why)."""

    def __init__(self, message: str, status: Status = Status.ENVIRONMENT_ERROR) -> None:
        super().__init__(message)
        self.status = status


def to_request(program: Program, limits: Limits) -> Request:
    """The request for `program`; Unsupported when SandboxFusion cannot run it."""
    name = languages.canonical(program.language)
    if name is None:
        raise Unsupported(f"unknown language {program.language!r}; known: "
                          f"{', '.join(languages.REGISTRY)}")
    if name not in LANGUAGES:
        raise Unsupported(f"SandboxFusion has no {name} runner (it runs "
                          f"{', '.join(sorted(LANGUAGES))}); run {name} programs on the local or "
                          "Ray backend")
    marker = f"codistill-tests-done-{secrets.token_hex(12)}" if program.tests else None
    parts = _ASSEMBLE[name](program, marker) if program.tests else _alone(name, program)
    code, tests, marker = parts
    body = {"code": code, "language": LANGUAGES[name], "compile_timeout": limits.compile_timeout_s,
            "run_timeout": limits.timeout_s, "memory_limit_MB": limits.memory_mb,
            "stdin": program.stdin or "", "files": {}, "fetch_files": []}
    return Request(body, name, tests, marker)


def _alone(name: str, program: Program) -> tuple[str, None, None]:
    """A program without tests runs as written (Go gets its package clause, Java a Main)."""
    source = program.source
    if name == "go":
        source = _as_main_package(source)
    elif name == "java":
        source = _JAVA_PACKAGE.sub("", source)
        runs = java_lang.main_class(source)
        if runs != "Main":  # SandboxFusion runs `java Main`: a public Main calls the real one
            source = (_private(source) + "\npublic class Main { public static void main("
                      f"String[] args) throws Throwable {{ {runs}.main(args); }} }}\n")
    return source, None, None


def _lines(text: str) -> int:
    return text.count("\n") + (not text.endswith("\n"))


def _join(head: list[str], tests: str, tail: list[str]) -> tuple[str, tuple[int, int]]:
    """Concatenate blocks; the tests' line span in the result."""
    before = "".join(block if block.endswith("\n") else block + "\n" for block in head)
    first = before.count("\n") + 1
    body = tests if tests.endswith("\n") else tests + "\n"
    return before + body + "".join(tail), (first, first + _lines(tests) - 1)


_FUTURE = re.compile(r"^from\s+__future__\s+import[^\n]*$", re.MULTILINE)
_CHECK = re.compile(r"^def\s+check\s*\(", re.MULTILINE)


def _python(program: Program, marker: str | None) -> tuple[str, tuple[int, int], str | None]:
    """Source, tests, `check(entry_point)` when the tests define check, then the marker.

    As in the local harness, the candidate module is named `solution` so its `__main__` block
    does not run; `from __future__` lines move to the front.
    """
    tests = program.tests or ""
    if _CHECK.search(tests) and not program.entry_point:
        raise Unsupported("the tests define check(candidate) but the program has no "
                          "entry_point", Status.SANDBOX_ERROR)
    futures = _FUTURE.findall(program.source)
    source = _FUTURE.sub("", program.source)
    rename = ("import sys as _codistill_sys; _codistill_sys.modules['solution'] = "
              "_codistill_sys.modules[__name__]; __name__ = 'solution'")
    tail = [f"check({program.entry_point})\n"] if _CHECK.search(tests) else []
    tail.append(f"__import__('os').write(1, b'\\n{marker}\\n')\n")
    code, span = _join([*futures, rename, source], tests, tail)
    return code, span, marker


def _javascript(program: Program, marker: str | None,
                typed: bool = False) -> tuple[str, tuple[int, int], str | None]:
    """Source then tests in one script; the marker is written when node is about to exit by
    emptying its event loop (not on process.exit or an uncaught error), as runner.js reports."""
    process = "(globalThis as any).process" if typed else "globalThis.process"
    done = (f"{process}.once('beforeExit', () => {{ {process}.stdout.write("
            f"'\\n{marker}\\n'); }});\n")
    code, span = _join([program.source], program.tests or "", [done])
    return code, span, marker


def _typescript(program: Program, marker: str | None) -> tuple[str, tuple[int, int], str | None]:
    return _javascript(program, marker, typed=True)


def _cpp(program: Program, marker: str | None) -> tuple[str, tuple[int, int], None]:
    """Source then tests; no marker (a C++ main may fall off its end, so it cannot be wrapped)."""
    code, span = _join([program.source], program.tests or "", [])
    return code, span, None


_JAVA_PACKAGE = re.compile(r"^\s*package\s+[\w.]+\s*;", re.MULTILINE)
_JAVA_IMPORT = re.compile(r"^\s*import\s+(?:static\s+)?[\w.]+(?:\.\*)?\s*;[ \t]*$", re.MULTILINE)


def _java(program: Program, marker: str | None) -> tuple[str, tuple[int, int], str | None]:
    """One Main.java: imports first, then a public Main that runs the tests' Main (renamed) and
    prints the marker, then the source and tests with their types made non-public."""
    source = _JAVA_PACKAGE.sub("", program.source)
    tests = re.sub(r"\bMain\b", "CodistillTestsMain", _JAVA_PACKAGE.sub("", program.tests or ""))
    imports = list(dict.fromkeys(line.strip() for text in (source, tests)
                                 for line in _JAVA_IMPORT.findall(text)))
    source, tests = (_private(_JAVA_IMPORT.sub("", text)) for text in (source, tests))
    wrapper = ("public class Main { public static void main(String[] args) throws Throwable { "
               f"CodistillTestsMain.main(args); System.out.println(\"{marker}\"); }} }}")
    code, span = _join([*imports, wrapper, source], tests, [])
    return code, span, marker


def _private(text: str) -> str:
    """`text` with `public` dropped from its top-level types (only Main may be public)."""
    for offset, _, is_public, _ in reversed(java_lang.top_level_types(text)):
        head = re.match(r"((?:\w+\s+)*?)public\s+", text[offset:]) if is_public else None
        if head:
            text = text[:offset] + head.group(1) + text[offset + head.end():]
    return text


_GO_PACKAGE = re.compile(r"^\s*package\s+\w+[ \t]*;?[ \t]*$", re.MULTILINE)
_GO_IMPORT_BLOCK = re.compile(r"^import\s*\(([^)]*)\)", re.MULTILINE)
_GO_IMPORT_ONE = re.compile(r"^import\s+((?:[\w.]+\s+)?\"[^\"]+\")[ \t]*;?[ \t]*$", re.MULTILINE)
_GO_MAIN = re.compile(r"^func\s+main\s*\(\s*\)", re.MULTILINE)


def _as_main_package(text: str) -> str:
    return _GO_PACKAGE.sub("package main", text, count=1) if _GO_PACKAGE.search(text) \
        else "package main\n" + text


def _go(program: Program, marker: str | None) -> tuple[str, tuple[int, int], str | None]:
    """One package main: merged imports, the candidate (its main renamed), the tests (their
    main renamed) and a main that runs the tests, then prints the marker (to stderr)."""
    imports: list[str] = []
    bodies = []
    for text in (program.source, program.tests or ""):
        text = _GO_PACKAGE.sub("", text, count=1)
        for block in _GO_IMPORT_BLOCK.findall(text):
            imports += [line.split("//")[0].strip() for line in block.splitlines()]
        imports += _GO_IMPORT_ONE.findall(text)
        bodies.append(_GO_IMPORT_ONE.sub("", _GO_IMPORT_BLOCK.sub("", text)))
    specs = [spec for spec in dict.fromkeys(imports) if spec]
    head = ["package main", "import (\n" + "".join(f"\t{s}\n" for s in specs) + ")" if specs else "",
            _GO_MAIN.sub("func codistillCandidateMain()", bodies[0])]
    tests = _GO_MAIN.sub("func codistillTestsMain()", bodies[1])
    done = f"\nfunc main() {{\n\tcodistillTestsMain()\n\tprintln(\"{marker}\")\n}}\n"
    code, span = _join(head, tests, [done])
    return code, span, marker


_RUST_MAIN = re.compile(r"\bfn\s+main\s*\(")
_RUST_DONE = rust_lang.OUTCOME_TRAIT + """fn main() {
    if !codistill_tests_main().codistill_ok() { std::process::exit(1); }
    println!("MARKER");
}
"""


def _rust(program: Program, marker: str | None) -> tuple[str, tuple[int, int], str | None]:
    """Source then tests, both mains renamed, and a main that runs the tests, then the marker."""
    source = _RUST_MAIN.sub("fn codistill_candidate_main(", program.source)
    tests = _RUST_MAIN.sub("fn codistill_tests_main(", program.tests or "")
    code, span = _join([source], tests, [_RUST_DONE.replace("MARKER", marker or "")])
    return code, span, marker


_ASSEMBLE = {"python": _python, "javascript": _javascript, "typescript": _typescript,
             "java": _java, "cpp": _cpp, "go": _go, "rust": _rust}
