"""The SandboxFusion backend against a real local server that speaks its /run_code API.

The server (codistill.sandbox.backends.fusion_server) executes through codistill's own sandbox,
so the same programs can be judged locally and remotely and the statuses compared.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from tests.sandbox.sandbox_helpers import py, usable

from codistill.sandbox import Limits, LocalBackend, Program, Status, execute_many, run_all
from codistill.sandbox.backends import backend_from_spec
from codistill.sandbox.backends.fusion_server import FusionHandler, FusionServer
from codistill.sandbox.backends.sandboxfusion import SandboxFusionBackend

LIMITS = Limits(timeout_s=2.0)
CHECK = "def check(candidate):\n    assert candidate(1) == 2\n    assert candidate(5) == 6\n"
JS_TESTS = 'const assert = require("node:assert");\nassert.deepStrictEqual(f(1), 2);\n'
CPP_TESTS = "#include <cassert>\nint main() { assert(f(1) == 2); }\n"
JAVA_TESTS = ("public class Main { public static void main(String[] a) {\n"
              "    if (Solution.f(1) != 2) throw new AssertionError(\"f(1)\");\n} }\n")
GO_TESTS = 'package main\n\nfunc main() {\n\tif f(1) != 2 {\n\t\tpanic("f(1)")\n\t}\n}\n'
RUST_TESTS = "fn main() {\n    assert_eq!(f(1), 2);\n}\n"

CASES = {
    "py-pass": (py("def f(x):\n    return x + 1\n", CHECK, "f"),),
    "py-fail": (py("def f(x):\n    return x\n", CHECK, "f"),),
    "py-crash": (py("def f(x):\n    return x // 0\n", CHECK, "f"),),
    "py-timeout": (py("def f(x):\n    while True:\n        pass\n", CHECK, "f"),),
    "py-syntax": (py("def f(x:\n    return x\n", CHECK, "f"),),
    "py-early-exit": (py("import sys\ndef f(x):\n    return x\nsys.exit(0)\n", CHECK, "f"),),
    "py-main-block": (py("def f(x):\n    return x + 1\nif __name__ == '__main__':\n"
                         "    print(f(int(input())))\n", CHECK, "f"),),
    "py-segfault": (py("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n"),),
    "py-stdio": (py("print(int(input()) * 2)\n", stdin="21\n", expected_stdout="42\n"),),
    "py-stdio-wrong": (py("print(int(input()) * 3)\n", stdin="21\n", expected_stdout="42\n"),),
    "js-pass": (Program("javascript", "function f(x) { return x + 1; }\n", tests=JS_TESTS),),
    "js-fail": (Program("javascript", "function f(x) { return x; }\n", tests=JS_TESTS),),
    "js-early-exit": (Program("javascript", "function f(x) { process.exit(0); }\n",
                              tests=JS_TESTS),),
    "cpp-fail": (Program("cpp", "int f(int x) { return x; }\n", tests=CPP_TESTS),),
    "cpp-compile": (Program("cpp", "int f(int x) { return x }\n", tests=CPP_TESTS),),
    "java-pass": (Program("java", "import java.util.*;\npublic class Solution {\n  public static "
                          "int f(int x) { return new ArrayList<>(List.of(x + 1)).get(0); }\n}\n",
                          tests=JAVA_TESTS),),
    "java-stdio": (Program("java", "import java.util.Scanner;\npublic class Solution {\n  public "
                           "static void main(String[] a) {\n    System.out.println(new Scanner("
                           "System.in).nextInt() * 2);\n  }\n}\n", stdin="21\n",
                           expected_stdout="42\n"),),
    "go-fail": (Program("go", "package main\n\nfunc f(x int) int { return x }\n",
                        tests=GO_TESTS),),
    "go-early-exit": (Program("go", "package main\n\nimport \"os\"\n\nfunc f(x int) int {\n"
                              "\tos.Exit(0)\n\treturn x\n}\n", tests=GO_TESTS),),
    "rust-crash": (Program("rust", "fn f(x: i32) -> i32 { let v: Vec<i32> = vec![]; "
                           "v[x as usize] }\n", tests=RUST_TESTS),),
}


class Counting(FusionHandler):
    """Counts POSTs; the first `fail` of them are answered 500, every one with `force` if set."""

    posts = 0
    fail = 0
    force: int | None = None
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        with self.lock:
            type(self).posts += 1
            failing = type(self).posts <= type(self).fail
        if self.force is not None or failing:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            code = self.force if self.force is not None else 500
            self.send_json(code, {"detail": "injected failure"})
            return
        super().do_POST()


def counting(**attrs: object) -> type[Counting]:
    """A fresh handler class (its own counter) with `attrs` set."""
    return type("Handler", (Counting,), {"posts": 0, "lock": threading.Lock(), **attrs})


@pytest.fixture(scope="module")
def server() -> Iterator[FusionServer]:
    """One real server for the module, on a free port."""
    with FusionServer() as running:
        yield running


def test_mixed_batch_matches_the_local_backend(server: FusionServer) -> None:
    cases = usable(CASES)
    programs = [case[0].with_(id=key) for key, case in cases.items()]
    local = run_all(programs, LIMITS, backend=LocalBackend(2))
    remote = run_all(programs, LIMITS, backend=SandboxFusionBackend(server.url, concurrency=2))
    assert [v.id for v in remote] == list(cases)
    assert {v.id: v.status for v in remote} == {v.id: v.status for v in local}
    by_id = {v.id: v for v in remote}
    assert by_id["py-pass"].passed and by_id["py-stdio"].passed
    assert by_id["py-fail"].failed_test == "assert candidate(1) == 2"
    assert by_id["py-crash"].error_type == "ZeroDivisionError"
    assert by_id["py-timeout"].status is Status.TIMEOUT
    assert by_id["py-syntax"].status is Status.COMPILE_ERROR
    assert by_id["py-early-exit"].error_type == "EarlyExit"  # exit 0 alone is not a pass
    assert by_id["py-segfault"].error_type == "SIGSEGV"
    assert all(v.details["remote"] == server.url + "/run_code" for v in remote)
    assert "codistill-tests-done" not in by_id["py-main-block"].stdout
    if "cpp-compile" in by_id:
        assert "expected" in by_id["cpp-compile"].message


def test_verdicts_stream_and_keep_ids(server: FusionServer) -> None:
    programs = [py("import time\ntime.sleep(1.5)\n", id="slow")] + \
        [py(f"print({n})\n", expected_stdout=f"{n}\n", id=f"quick-{n}") for n in range(4)]
    started = time.monotonic()
    seen = []
    for verdict in execute_many(programs, LIMITS,
                                backend=SandboxFusionBackend(server.url, concurrency=2)):
        seen.append((verdict.id, verdict.status, time.monotonic() - started))
    assert sorted(v[0] for v in seen) == sorted(p.id for p in programs)
    assert all(status is Status.PASSED for _, status, _ in seen)
    assert seen[-1][0] == "slow"  # the quick ones came back while it was still sleeping
    assert seen[0][2] < 1.5


def test_server_errors_are_retried_with_backoff() -> None:
    handler = counting(fail=2)
    with FusionServer(handler=handler) as flaky:
        backend = SandboxFusionBackend(flaky.url, retries=3, backoff_s=0.01)
        [verdict] = run_all([py("def f(x):\n    return x + 1\n", CHECK, "f")], LIMITS,
                            backend=backend)
    assert verdict.status is Status.PASSED, verdict.message
    assert handler.posts == 3


def test_a_server_that_keeps_failing_is_a_sandbox_error_naming_it() -> None:
    handler = counting(force=500)
    with FusionServer(handler=handler) as broken:
        [verdict] = run_all([py("print(1)\n")], LIMITS,
                            backend=SandboxFusionBackend(broken.url, retries=2, backoff_s=0.01))
    assert verdict.status is Status.SANDBOX_ERROR
    assert broken.url in verdict.message and "HTTP 500" in verdict.message
    assert handler.posts == 3


def test_a_refused_request_is_not_retried() -> None:
    handler = counting(force=422)
    with FusionServer(handler=handler) as strict:
        [verdict] = run_all([py("print(1)\n")], LIMITS,
                            backend=SandboxFusionBackend(strict.url, retries=3, backoff_s=0.01))
    assert verdict.status is Status.SANDBOX_ERROR
    assert "HTTP 422" in verdict.message and "injected failure" in verdict.message
    assert handler.posts == 1


def test_dead_endpoint_gives_sandbox_errors_quickly() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    backend = SandboxFusionBackend(url, concurrency=1, retries=2, backoff_s=0.05)
    started = time.monotonic()
    verdicts = run_all([py(f"print({n})\n") for n in range(20)], LIMITS, backend=backend)
    assert all(v.status is Status.SANDBOX_ERROR for v in verdicts)
    assert all(url in v.message and "did not answer" in v.message for v in verdicts)
    assert "3 attempts" in verdicts[0].message and "ConnectError" in verdicts[0].message
    assert time.monotonic() - started < 10  # once it is down, one try per program, no backoff


def test_languages_it_cannot_run_are_refused_without_a_request() -> None:
    handler = counting()
    with FusionServer(handler=handler) as quiet:
        backend = SandboxFusionBackend(quiet.url)
        c, unknown, malformed = run_all(
            [Program("c", "int main(void) { return 0; }\n"), Program("cobol", "DISPLAY 'X'."),
             py("def f(x):\n    return x\n", CHECK)], LIMITS, backend=backend)
    assert c.status is Status.ENVIRONMENT_ERROR and "no c runner" in c.message
    assert unknown.status is Status.ENVIRONMENT_ERROR and "unknown language" in unknown.message
    assert malformed.status is Status.SANDBOX_ERROR and "entry_point" in malformed.message
    assert handler.posts == 0


def test_server_speaks_the_api(server: FusionServer) -> None:
    assert httpx.get(server.url + "/v1/ping").json() == "pong"
    bad = httpx.post(server.url + "/run_code", json={"code": "x", "language": "cobol"})
    assert bad.status_code == 422 and "language" in bad.json()["detail"]
    answer = httpx.post(server.url + "/run_code", json={
        "code": "import sys\nprint(sys.stdin.read().upper())\nsys.exit(3)\n",
        "language": "python", "stdin": "hi", "run_timeout": 5}).json()
    assert answer["status"] == "Failed" and answer["compile_result"] is None
    assert answer["run_result"]["return_code"] == 3
    assert answer["run_result"]["stdout"] == "HI\n"
    slow = httpx.post(server.url + "/run_code", json={
        "code": "while True:\n    pass\n", "language": "python", "run_timeout": 1}).json()
    assert slow["run_result"]["status"] == "TimeLimitExceeded"
    json.dumps(slow)  # plain JSON all the way


def test_spec_strings_pick_the_backend(server: FusionServer) -> None:
    backend = backend_from_spec(f"sandboxfusion:{server.url}", 3)
    assert isinstance(backend, SandboxFusionBackend) and backend.concurrency == 3
    assert isinstance(backend_from_spec("local", 2), LocalBackend)
    [verdict] = run_all([py("print(2)\n", expected_stdout="2\n")], LIMITS,
                        backend=f"sandboxfusion:{server.url}")
    assert verdict.passed
    with pytest.raises(ValueError, match="sandbox.backend"):
        backend_from_spec("sandboxfusion:", None)
    with pytest.raises(ValueError, match="'local', 'ray'"):
        backend_from_spec("kubernetes", None)
