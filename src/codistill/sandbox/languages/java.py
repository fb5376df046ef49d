"""Java: the source in a file named after its public class (else Solution.java), tests in Main.java.

javac compiles both (and, with tests, the harness class that calls `Main.main` and then
reports); `java -ea` runs them. The JVM reserves address space far beyond its heap, so the
memory limit is the heap (`-Xmx`), and the address-space limit gets a fixed headroom.
A `package` line is dropped (the harness compiles everything in the default package), and only
the first public top-level type keeps `public`, so javac's "class X is public, should be
declared in a file named X.java" cannot arise from how the sandbox names files.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from codistill.sandbox import compile_cache, supervisor_pool
from codistill.sandbox.compile_cache import Compiled
from codistill.sandbox.isolation import GUEST_DIR, Sandbox
from codistill.sandbox.languages.base import (
    Build,
    Diagnosis,
    Launch,
    Outcome,
    Where,
    compile_message,
    first_match,
    line_of,
    stamp,
    tool,
)
from codistill.sandbox.languages.fusion import Assembled, Fusion, Reading, join
from codistill.sandbox.languages.text import (
    C_LIKE_FUNCTION,
    Braces,
    Multiple,
    as_written,
    defines_c_like,
    drop_first_line,
    preamble,
)
from codistill.sandbox.types import Limits, Program, Status

NAME = "java"
ALIASES: tuple[str, ...] = ()
EXTENSIONS = (".java",)
# How javac's and the JVM's errors map to SODA's fault classes (codistill.faults.observed_fault).
FAULT_CLASSES = ((r"cannot find symbol", "name"),
                 (r"incompatible types|bad operand types?|cannot be converted|ClassCastException", "type"),
                 (r"expected|illegal start|not a statement|unclosed|reached end of file", "syntax"))
# How models write it, and how prompts ask for it (stops: MultiPL-E's).
DISPLAY_NAME = "Java"
FENCE = "java"
FENCE_LABELS = frozenset({"java"})
STOPS = ("\n    }\n", "\n```")
CLOSER = "\n    }\n}\n"
CODE_START = re.compile(r"^(import |package |public |private |protected |static |class |final )")
TEST_CONVENTION = ("Write `public class Main { public static void main(String[] args) { ... } }` "
                   "that calls the static method on `Solution` and throws "
                   "`new AssertionError(...)` on a wrong result.")
DRAFT_PROMPT_RULE = ("class Solution { with a comment saying what the method does and the public "
                     "static method's signature ending with its opening brace {, with no body")
DRAFT_TESTS_RULE = TEST_CONVENTION
BRACES = Braces(C_LIKE_FUNCTION, 'throw new UnsupportedOperationException("not implemented");',
                in_class=True)
defines = defines_c_like
finish_completion = as_written

JVM_HEADROOM_MB = 768  # code cache, metaspace, thread stacks, GC structures
JVM_FLAGS = ["-XX:+UseSerialGC", "-XX:-UsePerfData", "-Xshare:auto",
             "-XX:ReservedCodeCacheSize=64m", "-XX:CompressedClassSpaceSize=64m",
             "-XX:MaxMetaspaceSize=256m"]
HARNESS = """\
public final class CodistillHarness {
    public static void main(String[] args) throws Throwable {
        Main.main(args);
        System.out.flush();
        System.err.flush();
        byte[] buffer = new byte[256];
        int n;
        try (java.io.FileInputStream in = new java.io.FileInputStream("/proc/self/fd/3")) {
            n = in.read(buffer);
        }
        String nonce = new String(buffer, 0, Math.max(n, 0), "US-ASCII").trim();
        try (java.io.FileOutputStream out = new java.io.FileOutputStream("/proc/self/fd/4")) {
            out.write((nonce + " completed {}\\n").getBytes("US-ASCII"));
        }
        System.exit(0);
    }
}
"""
JAVAC_FLAGS = ["-J-XX:+UseSerialGC", "-J-XX:TieredStopAtLevel=1", "-J-Xshare:auto",
               "-J-Xmx512m", "-proc:none", "-nowarn", "-encoding", "UTF-8", "-d", "classes"]
SERVER = GUEST_DIR / "CodistillJavacServer.java"
_TYPE = re.compile(r"\b((?:(?:public|protected|private|abstract|final|static|strictfp|sealed|"
                   r"non-sealed)\s+)*)(class|interface|enum|record)\s+([A-Za-z_$][\w$]*)")
_PACKAGE = re.compile(r"^\s*package\s+[\w.]+\s*;", re.MULTILINE)


def javac() -> str | None:
    """The javac executable, resolved through /etc/alternatives."""
    return tool("javac")


def java() -> str | None:
    """The java executable, resolved."""
    return tool("java")


def missing() -> str | None:
    """What to install when the JDK is absent."""
    return None if javac() and java() else "a JDK (apt-get install default-jdk-headless)"


def mounts() -> list[str]:
    """The JDK lives under /usr/lib/jvm; its configuration under /etc/java-* (always mounted)."""
    return []


def toolchain_id() -> str:
    """javac's identity."""
    return stamp(javac())


def _blank(text: str) -> str:
    """`text` with comments, strings and char literals replaced by spaces (same length)."""
    out, i, n = list(text), 0, len(text)
    while i < n:
        two = text[i:i + 2]
        if two == "//":
            end = text.find("\n", i)
            end = n if end < 0 else end
        elif two == "/*":
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
        elif text.startswith('"""', i):
            end = text.find('"""', i + 3)
            end = n if end < 0 else end + 3
        elif text[i] in "\"'":
            end, quote = i + 1, text[i]
            while end < n and text[end] not in (quote, "\n"):
                end += 2 if text[end] == "\\" else 1
            end = min(end + 1, n)
        else:
            i += 1
            continue
        for j in range(i, end):
            if out[j] != "\n":
                out[j] = " "
        i = end
    return "".join(out)


def top_level_types(text: str) -> list[tuple[int, str, bool, str]]:
    """(offset, name, is_public, body) of each top-level type declaration in `text`."""
    blank, depth, found = _blank(text), 0, []
    depth_at = [0] * (len(blank) + 1)
    for i, ch in enumerate(blank):
        depth_at[i] = depth
        depth += (ch == "{") - (ch == "}")
    for match in _TYPE.finditer(blank):
        if depth_at[match.start()] == 0:
            start = blank.find("{", match.end())
            end, level = start, 0
            while 0 <= end < len(blank):
                level += (blank[end] == "{") - (blank[end] == "}")
                if level == 0:
                    break
                end += 1
            body = blank[start:end + 1] if start >= 0 else ""
            found.append((match.start(), match.group(3), "public" in match.group(1).split(), body))
    return found


def prepare_source(source: str) -> tuple[str, str]:
    """(file name, source): package dropped, `public` kept only on the first public type."""
    text = _PACKAGE.sub("", source)
    types = top_level_types(text)
    public = [t for t in types if t[2]]
    for offset, _, _, _ in reversed(public[1:]):
        head = re.match(r"((?:\w+\s+)*?)public\s+", text[offset:])
        if head:
            text = text[:offset] + head.group(1) + text[offset + head.end():]
    name = public[0][1] if public else "Solution"
    return f"{name}.java", text


def main_class(source: str) -> str:
    """The class `java` should run for a program without tests."""
    types = top_level_types(_PACKAGE.sub("", source))
    with_main = [name for _, name, _, body in types if re.search(r"static\s+void\s+main\s*\(",
                                                                  body)]
    public = [name for _, name, is_public, _ in types if is_public]
    return (with_main or public or ["Main"])[0]


def build(program: Program) -> Build:
    """javac on the source file, Main.java and the harness."""
    name, source = prepare_source(program.source)
    files = {name: source}
    if program.tests:
        files["Main.java"] = _PACKAGE.sub("", program.tests)
        files["CodistillHarness.java"] = HARNESS
    return Build(files=files, argv=[javac() or "javac", *JAVAC_FLAGS, *files],
                 address_space_mb=None, compile=compile_warm)


class _Server(supervisor_pool.LineProcess):
    """guest/CodistillJavacServer.java: javac kept warm in one JVM (javax.tools)."""

    def __init__(self, sandbox: Sandbox, classes: str) -> None:
        argv = [java() or "java", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                "-Xmx768m", "-XX:-UsePerfData", "-cp", classes, "CodistillJavacServer"]
        if sandbox.namespaces:
            argv = sandbox.bwrap_prefix() + argv
        super().__init__(argv, cwd="/")


def compile_warm(build: Build, work: Path, limits: Limits, sandbox: Sandbox,
                 compile_cached: Callable[[str, str, Build], Compiled]) -> Compiled | None:
    """Compile through a warm javac (same options, same errors); None if the server cannot
    be used, so the caller runs the javac command instead."""
    server_build = Build(files={"CodistillJavacServer.java": SERVER.read_text()},
                         argv=[javac() or "javac", *JAVAC_FLAGS, "CodistillJavacServer.java"],
                         address_space_mb=None)
    built = compile_cached("java-server", toolchain_id(), server_build)
    if not built.ok:
        return None
    where = replace(sandbox, cache=str(compile_cache.ensure_root()))
    classes = where.guest_path(built.directory / "classes")
    line = " ".join(f"{_b64(name)}:{_b64(text)}" for name, text in build.files.items())
    started = time.monotonic()
    try:
        with supervisor_pool.POOL.lease(("javac", where), lambda: _Server(where, classes)) as server:
            answer = server.exchange(line.encode(), limits.compile_timeout_s)
    except supervisor_pool.SupervisorDied as exc:
        if not exc.timed_out:
            return None
        return Compiled(False, work, "javac: compile timed out", time.monotonic() - started,
                        cached=False, timed_out=True)
    if answer.get("crashed"):
        return None
    out = work / "classes"
    for name, data in answer.get("classes", {}).items():
        target = (out / name).resolve()
        if target.is_relative_to(out.resolve()):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(base64.b64decode(data))
    return Compiled(bool(answer.get("ok")), work, answer.get("diagnostics", ""),
                    time.monotonic() - started, cached=False)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def launch(program: Program, where: Where) -> Launch:
    """java -ea with the heap capped at the memory limit."""
    target = "CodistillHarness" if program.tests else main_class(program.source)
    argv = [java() or "java", "-ea", f"-Xmx{where.limits.memory_mb}m", *JVM_FLAGS,
            "-Djava.io.tmpdir=.", "-cp", f"{where.artifacts}/classes", target]
    return Launch(argv=argv, address_space_mb=where.limits.memory_mb + JVM_HEADROOM_MB,
                  harness=bool(program.tests), env={"MALLOC_ARENA_MAX": "2"})


def diagnose(program: Program, outcome: Outcome) -> Diagnosis | None:
    """Read the JVM's uncaught-exception report."""
    found = re.search(r'Exception in thread "[^"]*" ([\w.$]+)(?:: (.*))?', outcome.stderr)
    if not found:
        if "OutOfMemoryError" in outcome.stderr:
            return Diagnosis(Status.MEMORY_EXCEEDED, "OutOfMemoryError", None,
                             "java.lang.OutOfMemoryError")
        return None
    qualified, message = found.group(1), (found.group(2) or "").strip()
    kind = qualified.rsplit(".", 1)[-1]
    if kind == "OutOfMemoryError":
        return Diagnosis(Status.MEMORY_EXCEEDED, kind, None, f"{qualified}: {message}")
    own_file = prepare_source(program.source)[0]
    frames = re.findall(r"\tat [\w.$/<>]+\((\w+\.java):(\d+)\)", outcome.stderr)
    user = [(file, int(line)) for file, line in frames if file in ("Main.java", own_file)]
    in_tests = bool(user) and user[0][0] == "Main.java"
    failed = None
    if program.tests and in_tests:
        failed = message or line_of(program.tests, user[0][1])
    status = Status.FAILED if program.tests and in_tests and kind != "StackOverflowError" \
        else Status.RUNTIME_ERROR
    return Diagnosis(status, kind, failed, f"{qualified}: {message}".rstrip(": ")[:2000])


ENVIRONMENT = [
    (r"error: package ((?!java\.|javax\.|jdk\.)[\w.]+) does not exist", Status.ENVIRONMENT_ERROR,
     "package {} is not available in the sandbox (no third-party jars there)"),
    (r"class (\w+) is public, should be declared in a file named", Status.ENVIRONMENT_ERROR,
     "javac wants public class {} in its own file (the sandbox's file naming, not the program)"),
]


def diagnose_compile(program: Program, stderr: str) -> Diagnosis:
    """javac errors are the program's, except missing third-party packages and file naming."""
    found = first_match(ENVIRONMENT, stderr)
    if found:
        found.error_type = "javac"
        return found
    return Diagnosis(Status.COMPILE_ERROR, "javac", None, compile_message(stderr))


# ---------------------------------------------------------------------------------------------
# Answers as programs (codistill.extract), SandboxFusion and MultiPL-E


def assemble_answer(prompt: str, code: str, entry_point: str | None) -> str:
    """The prompt's imports the answer lacks, then the answer, inside the prompt's class when
    it declares no type of its own."""
    header = "".join(line for line in preamble(prompt, entry_point).splitlines(keepends=True)
                     if line.startswith("import ") and line.strip() not in code)
    if not re.search(r"\b(class|interface|record|enum)\s+\w+", code):
        name = re.search(r"\bclass\s+(\w+)", prompt)
        code = f"class {name.group(1) if name else 'Solution'} {{\n{code}}}\n"
    return header + code


_IMPORT = re.compile(r"^\s*import\s+(?:static\s+)?[\w.]+(?:\.\*)?\s*;[ \t]*$", re.MULTILINE)


def _private(text: str) -> str:
    """`text` with `public` dropped from its top-level types (only Main may be public)."""
    for offset, _, is_public, _ in reversed(top_level_types(text)):
        head = re.match(r"((?:\w+\s+)*?)public\s+", text[offset:]) if is_public else None
        if head:
            text = text[:offset] + head.group(1) + text[offset + head.end():]
    return text


def _fusion_alone(program: Program) -> str:
    """SandboxFusion runs `java Main`: a public Main calls the class that has the main method."""
    source = _PACKAGE.sub("", program.source)
    runs = main_class(source)
    if runs == "Main":
        return source
    return (_private(source) + "\npublic class Main { public static void main("
            f"String[] args) throws Throwable {{ {runs}.main(args); }} }}\n")


def _fusion_file(program: Program, marker: str | None) -> Assembled:
    """One Main.java: imports first, then a public Main that runs the tests' Main (renamed) and
    prints the marker, then the source and tests with their types made non-public."""
    source = _PACKAGE.sub("", program.source)
    tests = re.sub(r"\bMain\b", "CodistillTestsMain", _PACKAGE.sub("", program.tests or ""))
    imports = list(dict.fromkeys(line.strip() for text in (source, tests)
                                 for line in _IMPORT.findall(text)))
    source, tests = (_private(_IMPORT.sub("", text)) for text in (source, tests))
    wrapper = ("public class Main { public static void main(String[] args) throws Throwable { "
               f"CodistillTestsMain.main(args); System.out.println(\"{marker}\"); }} }}")
    code, span = join([*imports, wrapper, source], tests, [])
    return code, span, marker


FUSION = Fusion(names=("java",), compiled=True, assemble=_fusion_file, alone=_fusion_alone,
                reading=Reading(r"OutOfMemoryError",
                                r'Exception in thread "[^"]*" ([\w.$]+)(?:: (.*))?',
                                r"\((\w+\.java):(\d+)\)", tell=True))


def _multiple_entry(prompt: str, tests: str) -> str | None:
    """The prompt's last public static method."""
    found = list(re.finditer(r"public static [^(=;]*?\b(\w+)\s*\(", prompt))
    return found[-1].group(1) if found else None


def _from_multiple(prompt: str, tests: str, entry: str) -> tuple[str, str, str] | None:
    """MultiPL-E's `main` as `public class Main extends Problem` (static methods are inherited,
    so its asserts call them unqualified); None for tasks on javatuples (not installed)."""
    if re.search(r"\b(Pair|Triplet|Quartet|Unit)\b", prompt + tests):
        return None
    prompt = prompt.replace("import org.javatuples.*;\n", "")
    imports = "".join(line + "\n" for line in prompt.splitlines() if line.startswith("import "))
    cls = re.search(r"\bclass\s+(\w+)", prompt)
    body = drop_first_line(tests, "}")
    tests = f"{imports}\npublic class Main extends {cls.group(1) if cls else 'Problem'} {{\n{body}"
    return prompt, tests, "\n    }\n}\n"


MULTIPLE = Multiple(names=("java",), entry=_multiple_entry, convert=_from_multiple)
