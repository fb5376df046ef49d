"""Runs a Python candidate and its tests inside the sandbox, then reports how that went.

The supervisor imports this module before any candidate code exists and calls `run` in a
forked child. The report goes to fd 4 as one line `<nonce> <status> <json>`; the nonce is read
from fd 3 only after the tests are over, so a candidate that stops the tests early (os._exit,
sys.exit, SystemExit raised in the function, atexit tricks) has nothing to sign a success with,
and a banner it prints on stdout means nothing. The success path uses only references taken
before the candidate ran, held in local variables, and builtin-type methods, which a candidate
cannot rebind. The tests run in their own namespace with a pristine copy of the builtins, and
every value a candidate function returns is probed for objects that claim to equal anything.
"""

from __future__ import annotations

import builtins
import errno
import itertools
import json
import linecache
import os
import resource
import sys
import traceback
import types

FAILURES = frozenset({"failed", "runtime_error", "memory_exceeded", "missing_module",
                      "output_exceeded", "compile_error", "exit", "bad_program"})
_PLAIN = frozenset({int, float, complex, str, bytes, bool, type(None), bytearray, range})
_DISK_ERRNOS = frozenset({errno.EFBIG, errno.ENOSPC, errno.EDQUOT})
_HERE = __file__
# Taken at import, before any candidate exists: a candidate may rebind the builtins' names.
_isinstance = isinstance
_Assertion, _Memory, _SysExit, _NoModule, _OS = (AssertionError, MemoryError, SystemExit,
                                                 ModuleNotFoundError, OSError)


class _Quitter:
    """exit() and quit(), which `site` would add; the sandbox's Python runs without site."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Use {self.name}() or Ctrl-D (i.e. EOF) to exit"

    def __call__(self, code: object = None) -> None:
        raise SystemExit(code)


for _name in ("exit", "quit"):
    if not hasattr(builtins, _name):
        setattr(builtins, _name, _Quitter(_name))


class _ClaimsEqual(BaseException):
    """Raised through the tests when a candidate returns an always-equal object."""


def run(spec: dict, path: str) -> None:
    """Execute `spec` (source, tests, entry point, script flag) and report on fd 4; never returns."""
    # Everything the success path needs, taken before any candidate code runs.
    exec_, compile_, read_, write_, exit_ = exec, compile, os.read, os.write, os._exit
    type_, callable_, dict_, function_type = type, callable, dict, types.FunctionType
    failures = FAILURES
    pristine = dict_(builtins.__dict__)
    sentinel = object()
    hacks: list = []
    source, tests = spec["source"], spec.get("tests")
    entry, script = spec.get("entry_point"), bool(spec.get("script"))
    first_test_line = source.count("\n") + 2

    def guard(fn):  # noqa: ANN001, ANN202 - wraps any candidate function
        def guarded(*args, **kwargs):  # noqa: ANN202
            result = fn(*args, **kwargs)
            if _claims_equal(result, sentinel, 0):
                hacks.append(getattr(fn, "__name__", "?"))
                raise _ClaimsEqual(f"{getattr(fn, '__name__', '?')} returned an object that "
                                   "claims to equal anything")
            return result

        guarded.__name__ = getattr(fn, "__name__", "candidate")
        guarded.__doc__ = getattr(fn, "__doc__", None)
        return guarded

    status, payload, code = "runtime_error", {}, 1
    try:
        name = "__main__" if script else "solution"
        module = types.ModuleType(name)
        module.__file__ = path
        sys.modules[name] = module
        sys.argv = [path]
        try:
            source_code = compile_(source, path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            raise _Syntax("source", exc) from None
        tests_code = None
        if tests is not None:
            try:
                tests_code = compile_("\n" * (first_test_line - 1) + tests, path, "exec",
                                      dont_inherit=True)
            except (SyntaxError, ValueError) as exc:
                raise _Syntax("tests", exc) from None
        sys.modules.pop("pyharness", None)
        _block_tracing()
        namespace = module.__dict__
        if script:
            exec_(source_code, namespace)
            status, code = "completed", 0
        else:
            exec_(source_code, namespace)
            tests_ns = {key: value for key, value in namespace.items()
                        if key not in pristine or key == entry or key.startswith("__")}
            tests_ns["__builtins__"] = dict_(pristine)
            for key, value in list(tests_ns.items()):
                if type_(value) is function_type and value.__globals__ is namespace:
                    tests_ns[key] = guard(value)
            exec_(tests_code, tests_ns)
            check = tests_ns.get("check")
            if callable_(check) and type_(check) is function_type and check.__globals__ is tests_ns:
                if entry is None:
                    raise _BadProgram("the tests define check(candidate) but the program "
                                      "has no entry_point")
                if entry not in namespace:
                    raise _Missing(entry)
                check(guard(namespace[entry]))
            if hacks:
                raise _ClaimsEqual(f"{hacks[0]} returned an object that claims to equal anything")
            status, code = "passed", 0
    except _Syntax as exc:
        status, payload = "compile_error", exc.payload()
    except BaseException as exc:  # noqa: BLE001 - every way out of candidate code is data
        if script and type_(exc) is SystemExit:
            status, code = _exit_status(exc)
        else:
            lines = (source + "\n" + (tests or "")).splitlines()
            status, payload = _describe(exc, path, first_test_line, tests is not None, entry,
                                        lines)
            if status not in failures:  # a tampered helper may not turn a failure into a pass
                status = "runtime_error"
            if status == "exit" and not script:
                status = "failed"
    if status in ("passed", "completed") and hacks:
        status, payload, code = "failed", {"error_type": "ClaimsEqual",
                                           "message": "a candidate function returned an "
                                                      "object that claims to equal anything"}, 1
    if status not in ("passed", "completed") and code == 0:
        code = 1
    _flush()
    try:
        spent = resource.getrusage(resource.RUSAGE_SELF)
        # The exit code and CPU time let the supervisor answer without waiting for our exit.
        body = json.dumps({**payload, "exit_code": code,
                           "cpu": spent.ru_utime + spent.ru_stime}, default=str)
    except BaseException:  # noqa: BLE001 - the payload is advisory; the status is what counts
        body = "{}"
    try:
        nonce = read_(3, 256).strip()
        write_(4, nonce + b" " + status.encode() + b" " + body.encode("utf-8", "replace") + b"\n")
    except BaseException:  # noqa: BLE001, S110 - no report simply means "not passed"
        pass
    exit_(code)


class _Syntax(Exception):
    def __init__(self, where: str, exc: BaseException) -> None:
        super().__init__(str(exc))
        self.where, self.exc = where, exc

    def payload(self) -> dict:
        exc = self.exc
        text = "".join(traceback.format_exception_only(type(exc), exc))
        os.write(2, text.encode("utf-8", "replace"))
        return {"error_type": type(exc).__name__, "message": str(exc)[:2000], "where": self.where,
                "line": getattr(exc, "lineno", None)}


class _BadProgram(Exception):
    pass


class _Missing(NameError):
    def __init__(self, entry: str) -> None:
        super().__init__(f"the entry point {entry!r} is not defined by the program")


def _block_tracing() -> None:
    """A trace function can jump over test lines (frame.f_lineno); candidates get none."""

    def blocked(*_args: object) -> None:
        raise RuntimeError("tracing is disabled in the codistill sandbox")

    sys.settrace(None)
    sys.setprofile(None)
    sys.settrace = blocked
    sys.setprofile = blocked


def _claims_equal(value: object, sentinel: object, depth: int) -> bool:
    """True when `value` (or an element of it) says it equals a brand-new object()."""
    kind = type(value)
    if kind in _PLAIN:
        return False
    if kind in (list, tuple, set, frozenset):
        return depth < 3 and any(_claims_equal(item, sentinel, depth + 1)
                                 for item in itertools.islice(value, 64))
    if kind is dict:
        return depth < 3 and any(_claims_equal(item, sentinel, depth + 1)
                                 for item in itertools.islice(value.values(), 64))
    try:
        return (value == sentinel) is True or (value != sentinel) is False
    except BaseException:  # noqa: BLE001 - a comparison that raises claims nothing
        return False


def _exit_status(exc: SystemExit) -> tuple[str, int]:
    code = exc.code
    if code is None or code == 0:
        return "completed", 0
    if isinstance(code, int):
        return "exit", code & 0xFF
    os.write(2, (str(code) + "\n").encode("utf-8", "replace"))
    return "exit", 1


def _describe(exc: BaseException, path: str, first_test_line: int, has_tests: bool,
              entry: str | None, lines: list[str]) -> tuple[str, dict]:
    """Status token and details for an exception that ended the run."""
    frames = [(frame.f_code.co_filename, lineno)
              for frame, lineno in traceback.walk_tb(exc.__traceback__)]
    ours = [line for filename, line in frames if filename == path]
    in_tests = [line for line in ours if line >= first_test_line]
    raised_in_tests = bool(frames) and frames[-1][0] == path and frames[-1][1] >= first_test_line
    payload: dict = {"error_type": _type_name(exc), "message": _safe_str(exc)[:2000]}
    if in_tests:
        payload["test_line"] = in_tests[-1]
    if ours:
        payload["line"] = ours[-1]
    try:
        os.write(2, _format(exc, path, lines).encode("utf-8", "replace"))
    except BaseException:  # noqa: BLE001, S110 - printing is best effort
        pass
    if _isinstance(exc, _ClaimsEqual):
        payload["error_type"] = "ClaimsEqual"
        return "failed", payload
    if _isinstance(exc, _BadProgram):
        return "bad_program", payload
    if _isinstance(exc, _SysExit):
        payload["message"] = "the program exited (SystemExit) before the tests finished"
        return "failed", payload
    if _isinstance(exc, _Memory):
        return "memory_exceeded", payload
    if _isinstance(exc, _NoModule) and exc.name:
        top = exc.name.split(".")[0]
        # An import statement that failed, not a ModuleNotFoundError the candidate raised.
        line = linecache.getline(*frames[-1]).strip() if frames else ""
        genuine = line.startswith(("import ", "from ")) or "import_module(" in line \
            or "__import__(" in line
        payload.update(module=top, stdlib=top in sys.stdlib_module_names, genuine=genuine)
        return "missing_module", payload
    if _isinstance(exc, _OS) and exc.errno in _DISK_ERRNOS:
        return "output_exceeded", payload
    if _isinstance(exc, _Assertion) and (raised_in_tests or not has_tests):
        return ("failed" if has_tests else "runtime_error"), payload
    return "runtime_error", payload


def _format(exc: BaseException, path: str, lines: list[str]) -> str:
    """A traceback like Python's, without the harness's frames (and without the carets, which
    cost a parse of every line: failures are common, and this runs for each)."""
    out = ["Traceback (most recent call last):\n"]
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if filename == _HERE:
            continue
        out.append(f'  File "{filename}", line {lineno}, in {frame.f_code.co_name}\n')
        if filename == path:
            text = lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""
        else:
            text = linecache.getline(filename, lineno).strip()
        if text:
            out.append(f"    {text}\n")
    out.extend(traceback.format_exception_only(type(exc), exc))
    return "".join(out)


def _type_name(exc: BaseException) -> str:
    kind = type(exc)
    module = getattr(kind, "__module__", "builtins")
    return kind.__qualname__ if module in ("builtins", "__main__", "solution") else \
        f"{module}.{kind.__qualname__}"


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except BaseException:  # noqa: BLE001 - a broken __str__ is the candidate's business
        return "<unprintable exception>"


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001, S110 - a broken stream only loses its own output
            pass
