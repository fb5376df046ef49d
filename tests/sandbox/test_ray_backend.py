"""The Ray backend against a real local Ray instance (2 CPUs), compared with the local backend."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from tests.sandbox.sandbox_helpers import host_processes_with, py, usable

from codistill.sandbox import Limits, LocalBackend, Program, Status, execute_many, run_all

LIMITS = Limits(timeout_s=2.0)
CHECK = "def check(candidate):\n    assert candidate(1) == 2\n"
JS_TESTS = 'const assert = require("node:assert");\nassert.deepStrictEqual(f(1), 2);\n'
MIXED = {
    "py-pass": (py("def f(x):\n    return x + 1\n", CHECK, "f"),),
    "py-fail": (py("def f(x):\n    return x\n", CHECK, "f"),),
    "py-timeout": (py("def f(x):\n    while True:\n        pass\n", CHECK, "f"),),
    "py-syntax": (py("def f(x:\n    return x\n", CHECK, "f"),),
    "py-stdio": (py("print(input()[::-1])\n", stdin="abc\n", expected_stdout="cba\n"),),
    "js-pass": (Program("javascript", "function f(x) { return x + 1; }\n", tests=JS_TESTS),),
    "js-fail": (Program("javascript", "function f(x) { return x; }\n", tests=JS_TESTS),),
    "c-compile": (Program("c", "int f(int x) { return x }\n",
                          tests="int main(void) { return f(1) != 2; }\n"),),
}


@pytest.fixture(scope="module")
def local_ray() -> Iterator[object]:
    """A local Ray instance for this module (a few seconds to start)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=100 * 1024 * 1024,
             log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.ray
def test_mixed_batch_same_verdicts_as_local(local_ray: object) -> None:
    from codistill.sandbox.backends.ray import RayBackend

    cases = usable(MIXED)
    programs = [case[0].with_(id=key) for key, case in cases.items()]
    local = run_all(programs, LIMITS, backend=LocalBackend(2))
    remote = run_all(programs, LIMITS, backend=RayBackend(chunk_size=3))
    assert [v.id for v in remote] == list(cases)
    assert [(v.id, v.status) for v in remote] == [(v.id, v.status) for v in local]
    assert [v.failed_test for v in remote] == [v.failed_test for v in local]
    assert {v.status for v in remote} >= {Status.PASSED, Status.FAILED, Status.TIMEOUT,
                                          Status.COMPILE_ERROR}


@pytest.mark.ray
def test_verdicts_stream_as_tasks_finish_and_keep_ids(local_ray: object) -> None:
    from codistill.sandbox.backends.ray import RayBackend

    backend = RayBackend(chunk_size=1, max_in_flight=2)
    # Start both of Ray's workers first: on a loaded machine starting one takes seconds (2 s in
    # CI, 50 s beside two training processes), which says nothing about streaming.
    warm = run_all([py("print(1)\n", expected_stdout="1\n", id=f"warm-{n}") for n in range(2)],
                   Limits(timeout_s=60.0), backend=backend)
    assert all(v.passed for v in warm)
    sleep_s = 8.0
    programs = [py(f"import time\ntime.sleep({sleep_s})\n", id="slow")] + \
        [py(f"print({n})\n", expected_stdout=f"{n}\n", id=f"quick-{n}") for n in range(5)]
    programs.append(py("print(0)\n", expected_stdout="0\n", id="quick-0"))  # a repeated id
    started = time.monotonic()
    seen = [(v.id, v.status, time.monotonic() - started)
            for v in execute_many(programs, Limits(timeout_s=sleep_s + 20.0), backend=backend)]
    assert sorted(v[0] for v in seen) == sorted(p.id for p in programs)
    assert all(status is Status.PASSED for _, status, _ in seen)
    assert seen[-1][0] == "slow" and seen[-1][2] >= sleep_s
    # Returned as a batch, every verdict would come after the sleep; streamed, the quick ones
    # come back while it sleeps.
    assert seen[0][2] < seen[-1][2] - sleep_s / 2


@pytest.mark.ray
def test_a_dead_worker_is_a_sandbox_error_not_a_crash(local_ray: object) -> None:
    from codistill.sandbox.backends.ray import RayBackend

    token = f"codistill-ray-victim-{os.getpid()}"
    victim = py(f"import time\n# {token}\ntime.sleep(30)\n", id="victim")
    result: list = []
    batch = threading.Thread(target=lambda: result.extend(run_all(
        [victim], Limits(timeout_s=40.0), backend=RayBackend(max_retries=0))))
    started = time.monotonic()
    batch.start()
    workers: list[int] = []
    while not workers and time.monotonic() - started < 20:
        time.sleep(0.2)
        # a worker executing a task is titled after it; idle ones are "ray::IDLE"
        workers = host_processes_with("ray::run_chunk")
    assert workers, "the Ray task never started"
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    batch.join(timeout=30)
    [verdict] = result
    assert verdict.id == "victim" and verdict.status is Status.SANDBOX_ERROR
    assert "Ray task" in verdict.message and "Error" in verdict.message
    assert time.monotonic() - started < 25  # not the 30 s the program wanted to sleep
    [after] = run_all([py("print(7)\n", expected_stdout="7\n")], LIMITS, backend=RayBackend())
    assert after.passed  # the cluster goes on


@pytest.mark.ray
def test_spec_strings_name_ray(local_ray: object) -> None:
    from codistill.sandbox.backends import backend_from_spec
    from codistill.sandbox.backends.ray import RayBackend

    assert backend_from_spec("ray", 6).max_in_flight == 6
    cluster = backend_from_spec("ray:ray://head:10001", None)
    assert isinstance(cluster, RayBackend) and cluster.address == "ray://head:10001"
    [verdict] = run_all([py("print(1)\n", expected_stdout="1\n")], LIMITS, backend="ray")
    assert verdict.passed


def test_importing_the_sandbox_does_not_import_ray() -> None:
    code = ("import sys, codistill.sandbox, codistill.sandbox.backends as b\n"
            "b.RayBackend, b.SandboxFusionBackend\n"
            "assert 'ray' not in sys.modules, 'ray imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
