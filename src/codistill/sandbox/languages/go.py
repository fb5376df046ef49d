"""Go: the source as solution.go and the tests as tests.go, both package main, built together.

With tests, the tests' `func main()` becomes `codistillTestsMain` and a harness `main` calls it
and then reports; a `main` the candidate wrote becomes `codistillCandidateMain` (unused, which
Go allows for functions). os.Exit inside the candidate therefore never reaches the report.
Builds share one Go build cache (written only by the compiler, never by programs).
"""

from __future__ import annotations

import re

from codistill.sandbox.languages.base import (
    Build,
    Diagnosis,
    Launch,
    Outcome,
    Rejected,
    Where,
    compile_message,
    first_match,
    line_of,
    stamp,
    tool,
)
from codistill.sandbox.languages.fusion import Assembled, Fusion, Reading, join
from codistill.sandbox.languages.text import BRACE_PROMPT_RULE, Braces, Multiple, preamble
from codistill.sandbox.types import Program, Status

NAME = "go"
ALIASES = ("golang",)
EXTENSIONS = (".go",)
# How the Go compiler's errors map to SODA's fault classes (codistill.faults.observed_fault).
FAULT_CLASSES = ((r"undefined: ", "name"),
                 (r"cannot use|mismatched types|invalid operation", "type"),
                 (r"syntax error", "syntax"))
# How models write it, and how prompts ask for it (stops: MultiPL-E's).
DISPLAY_NAME = "Go"
FENCE = "go"
FENCE_LABELS = frozenset({"go", "golang"})
STOPS = ("\nfunc", "struct", "\n// ", "\n```")
CLOSER = ""
CODE_START = re.compile(r"^(package |import |func |type |var |const )")
TEST_CONVENTION = ("Write `package main`, your imports, and a `func main()` that calls the "
                   'function and calls `panic("...")` on a wrong result.')
DRAFT_PROMPT_RULE = BRACE_PROMPT_RULE
DRAFT_TESTS_RULE = TEST_CONVENTION
BRACES = Braces(r"\bfunc\s+(?:\([^)]*\)\s*)?(\w+)", 'panic("not implemented")',
                main=r"\bfunc\s+main\s*\(")

GO_HEADROOM_MB = 768  # the Go runtime reserves ~700 MB of address space at start
HARNESS = """package main

import "os"

func main() {
	codistillTestsMain()
	buffer := make([]byte, 256)
	n, _ := os.NewFile(3, "nonce").Read(buffer)
	nonce := string(buffer[:n])
	for len(nonce) > 0 && (nonce[len(nonce)-1] == '\\n' || nonce[len(nonce)-1] == ' ') {
		nonce = nonce[:len(nonce)-1]
	}
	os.NewFile(4, "report").Write([]byte(nonce + " completed {}\\n"))
}
"""
_MAIN = re.compile(r"^func\s+main\s*\(\s*\)", re.MULTILINE)
_PACKAGE = re.compile(r"^\s*package\s+\w+", re.MULTILINE)


def go() -> str | None:
    """The go command, resolved."""
    return tool("go")


def missing() -> str | None:
    """What to install when Go is absent."""
    return None if go() else "Go (apt-get install golang-go)"


def mounts() -> list[str]:
    """GOROOT lives under /usr/lib/go-*."""
    return []


def toolchain_id() -> str:
    """The go command's identity."""
    return stamp(go())


def as_main_package(text: str) -> str:
    """`text` as package main (a missing or different package clause is replaced)."""
    if _PACKAGE.search(text):
        return _PACKAGE.sub("package main", text, count=1)
    return "package main\n" + text


def build(program: Program) -> Build:
    """go build -o prog solution.go [tests.go codistill_harness.go] (no -trimpath: it rebuilds std)."""
    source = as_main_package(program.source)
    files = {"solution.go": source}
    if program.tests:
        if "codistill" in program.source.lower():
            raise Rejected("the program uses a name reserved for the sandbox's harness "
                           "(codistill*)")
        files["solution.go"] = _MAIN.sub("func codistillCandidateMain()", source)
        files["tests.go"] = _MAIN.sub("func codistillTestsMain()", as_main_package(program.tests))
        files["codistill_harness.go"] = HARNESS
    env = {"GOPATH": "/tmp/gopath", "GOFLAGS": "-buildvcs=false", "GO111MODULE": "off",
           "CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOTELEMETRY": "off", "HOME": "/tmp"}
    return Build(files=files, argv=[go() or "go", "build", "-o", "prog", *files],
                 env=env, go_cache=True)


def launch(program: Program, where: Where) -> Launch:
    """Run the binary; GOMEMLIMIT makes the collector work to stay under the memory limit."""
    return Launch(argv=[f"{where.artifacts}/prog"], harness=bool(program.tests),
                  address_space_mb=where.limits.memory_mb + GO_HEADROOM_MB,
                  env={"GOMEMLIMIT": f"{where.limits.memory_mb}MiB", "GOTRACEBACK": "single"})


RUNTIME = [
    (r"(?:fatal error: )?runtime: out of memory|out of memory allocating", Status.MEMORY_EXCEEDED,
     "out of memory"),
    (r"goroutine stack exceeds", Status.RUNTIME_ERROR, "stack overflow"),
    (r"fatal error: (all goroutines are asleep - deadlock!)", Status.RUNTIME_ERROR, "{}"),
    (r"fatal error: (.*)", Status.RUNTIME_ERROR, "fatal error: {}"),
]


def diagnose(program: Program, outcome: Outcome) -> Diagnosis | None:
    """A panic raised in tests.go is a failed test; one raised in solution.go is a crash."""
    fatal = first_match(RUNTIME, outcome.stderr)
    if fatal:
        fatal.error_type = "out of memory" if fatal.status is Status.MEMORY_EXCEEDED else "fatal"
        return fatal
    found = re.search(r"^panic: (.*)", outcome.stderr, re.MULTILINE)
    if not found:
        return None
    message = found.group(1).strip()
    frames = re.findall(r"^\s+\S*?(solution|tests)\.go:(\d+)", outcome.stderr, re.MULTILINE)
    in_tests = bool(frames) and frames[0][0] == "tests"
    error_type = "runtime error" if message.startswith("runtime error") else "panic"
    if program.tests and in_tests:
        failed = line_of(program.tests, int(frames[0][1]) - _offset(program))
        return Diagnosis(Status.FAILED, error_type, message or failed, f"panic: {message}")
    return Diagnosis(Status.RUNTIME_ERROR, error_type, None, f"panic: {message}")


def _offset(program: Program) -> int:
    """Lines added in front of the tests by `as_main_package`."""
    return 0 if _PACKAGE.search(program.tests or "") else 1


ENVIRONMENT = [
    (r"(?:cannot find package|package) \"?([\w./-]+\.[\w./-]+)\"? (?:is not in (?:GOROOT|std)|"
     r"in any of)", Status.ENVIRONMENT_ERROR,
     "package {} is not available in the sandbox (no third-party modules there)"),
    (r"no required module provides package ([\w./-]+)", Status.ENVIRONMENT_ERROR,
     "package {} is not available in the sandbox (no third-party modules there)"),
]


def diagnose_compile(program: Program, stderr: str) -> Diagnosis:
    """Compile errors are the program's, except third-party packages."""
    found = first_match(ENVIRONMENT, stderr)
    if found:
        found.error_type = "missing_package"
        return found
    return Diagnosis(Status.COMPILE_ERROR, "go build", None, compile_message(stderr))


# ---------------------------------------------------------------------------------------------
# Answers as programs (codistill.extract)

_IMPORT_BLOCK = re.compile(r"^import\s*\((.*?)\)\s*$", re.MULTILINE | re.DOTALL)
_IMPORT_LINE = re.compile(r"^import\s+((?:\w+\s+)?\"[^\"]+\")\s*$", re.MULTILINE)
_PACKAGE_LINE = re.compile(r"^package\s+\w+\s*$", re.MULTILINE)


def defines(code: str, name: str) -> bool:
    """True when `code` defines `name` as a function or method."""
    n = re.escape(name)
    return re.search(rf"^func\s+(\([^)]*\)\s*)?{n}\s*[(\[]", code, re.MULTILINE) is not None


def normalize(source: str) -> str:
    """One `package main`, and one import block with the packages the code uses (Go rejects
    duplicate and unused imports, and a prompt's imports often overlap the answer's)."""
    specs: list[str] = []
    for block in _IMPORT_BLOCK.findall(source):
        specs += [s.strip() for s in block.splitlines()
                  if s.strip() and not s.strip().startswith("//")]
    specs += _IMPORT_LINE.findall(source)
    body = _IMPORT_LINE.sub("", _IMPORT_BLOCK.sub("", _PACKAGE_LINE.sub("", source)))
    kept: dict[str, str] = {}
    for spec in specs:
        alias, _, path = spec.rpartition(" ")
        name = alias.strip() or path.strip('"').rsplit("/", 1)[-1]
        if name == "_" or re.search(rf"\b{re.escape(name)}\.", body):
            kept.setdefault(spec.strip(), spec.strip())
    imports = "import (\n" + "".join(f"\t{s}\n" for s in kept) + ")\n\n" if kept else ""
    return "package main\n\n" + imports + body.strip("\n") + "\n"


def assemble_answer(prompt: str, code: str, entry_point: str | None) -> str:
    """The prompt's preamble and the answer as one package main with one import block."""
    return normalize(preamble(prompt, entry_point) + code)


finish_completion = normalize


# ---------------------------------------------------------------------------------------------
# SandboxFusion and MultiPL-E

_FUSION_PACKAGE = re.compile(r"^\s*package\s+\w+[ \t]*;?[ \t]*$", re.MULTILINE)
_FUSION_IMPORT_BLOCK = re.compile(r"^import\s*\(([^)]*)\)", re.MULTILINE)
_FUSION_IMPORT_ONE = re.compile(r"^import\s+((?:[\w.]+\s+)?\"[^\"]+\")[ \t]*;?[ \t]*$",
                                re.MULTILINE)


def _fusion_alone(program: Program) -> str:
    """A program without tests, with its package clause made `package main`."""
    text = program.source
    return _FUSION_PACKAGE.sub("package main", text, count=1) if _FUSION_PACKAGE.search(text) \
        else "package main\n" + text


def _fusion_file(program: Program, marker: str | None) -> Assembled:
    """One package main: merged imports, the candidate (its main renamed), the tests (their
    main renamed) and a main that runs the tests, then prints the marker (to stderr)."""
    imports: list[str] = []
    bodies = []
    for text in (program.source, program.tests or ""):
        text = _FUSION_PACKAGE.sub("", text, count=1)
        for block in _FUSION_IMPORT_BLOCK.findall(text):
            imports += [line.split("//")[0].strip() for line in block.splitlines()]
        imports += _FUSION_IMPORT_ONE.findall(text)
        bodies.append(_FUSION_IMPORT_ONE.sub("", _FUSION_IMPORT_BLOCK.sub("", text)))
    specs = [spec for spec in dict.fromkeys(imports) if spec]
    block = "import (\n" + "".join(f"\t{s}\n" for s in specs) + ")" if specs else ""
    head = ["package main", block, _MAIN.sub("func codistillCandidateMain()", bodies[0])]
    tests = _MAIN.sub("func codistillTestsMain()", bodies[1])
    done = f"\nfunc main() {{\n\tcodistillTestsMain()\n\tprintln(\"{marker}\")\n}}\n"
    code, span = join(head, tests, [done])
    return code, span, marker


FUSION = Fusion(names=("go",), compiled=True, assemble=_fusion_file, alone=_fusion_alone,
                reading=Reading(r"out of memory", r"^(panic): (.*)$", r"(\S+\.go):(\d+)",
                                assertion="^$", tell=True))

# MultiPL-E runs `go test`: its test function runs on this stand-in for testing.T instead
_MULTIPLE_SHIM = """\
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


def _from_multiple(prompt: str, tests: str, entry: str) -> tuple[str, str, str]:
    """The prompt as published; the tests' function run on the stand-in from a `func main`."""
    test = tests.replace("*testing.T", "*cdxT")
    name = re.search(r"func (Test\w+)\(", test)
    runner = name.group(1) if name else f"Test{entry.title()}"
    tests = (f'package main\n\nimport "fmt"\n\n{_MULTIPLE_SHIM}\n{test.rstrip()}\n\n'
             f"func main() {{\n\tt := &cdxT{{}}\n\t{runner}(t)\n"
             f'\tif t.failed {{\n\t\tpanic("a test failed")\n\t}}\n}}\n')
    return prompt, tests, ""


MULTIPLE = Multiple(names=("go_test.go", "go"), convert=_from_multiple)
