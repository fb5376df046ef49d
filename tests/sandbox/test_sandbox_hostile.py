"""Hostile programs: each must end with the right status within its limits, host unharmed.

One property per test. These run with namespace isolation (bubblewrap); the fallback without
it is covered, with what it loses, in test_sandbox_fallback.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from tests.sandbox.sandbox_helpers import host_processes_with, need, py

from codistill.sandbox import Limits, Program, Status, execute
from codistill.sandbox.isolation import namespaces_problem

pytestmark = pytest.mark.skipif(namespaces_problem() is not None,
                                reason=f"no namespaces here: {namespaces_problem()}")
QUICK = Limits(timeout_s=2.0, isolation="namespaces")


class _Server:
    """A real TCP server on the host that records whether anyone connected."""

    def __init__(self, host: str) -> None:
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connected = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connected.set()
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


def _host_addresses() -> list[str]:
    found = ["127.0.0.1"]
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    except OSError:
        out = []
    return found + [a for a in out if a.count(".") == 3][:1]


@pytest.mark.parametrize("host", _host_addresses())
def test_cannot_connect_to_a_host_port(host: str) -> None:
    """A TCP connection to a port listening on the host fails; the server sees nothing."""
    server = _Server(host)
    try:
        verdict = execute(py(f"import socket\nsocket.create_connection(({host!r}, {server.port}), "
                             "timeout=1)\nprint('connected')\n"), QUICK)
        assert verdict.status is Status.RUNTIME_ERROR, verdict
        assert "connected" not in verdict.stdout
        assert not server.connected.is_set()
    finally:
        server.close()


def test_network_is_opt_in() -> None:
    """Limits(network=True) shares the host's network (the server above would see it)."""
    server = _Server("127.0.0.1")
    try:
        verdict = execute(py(f"import socket\nsocket.create_connection(('127.0.0.1', "
                             f"{server.port}), timeout=2)\n"),
                          Limits(timeout_s=5.0, network=True, isolation="namespaces"))
        assert verdict.passed, verdict
        assert server.connected.wait(2)
    finally:
        server.close()


def test_compiler_cannot_include_home_secrets() -> None:
    """#include of a secret file fails at compile time and its text never reaches the verdict."""
    need("c")
    secret = Path.home() / f".codistill-secret-{uuid.uuid4().hex}.h"
    secret.write_text("int leaked = 1; /* sk-compile-time-secret */\n")
    try:
        verdict = execute(Program("c", f'#include "{secret}"\nint main(void) {{ return leaked; }}\n'),
                          QUICK)
        assert verdict.status in (Status.COMPILE_ERROR, Status.ENVIRONMENT_ERROR), verdict
        assert "sk-compile-time-secret" not in verdict.stderr + verdict.message
    finally:
        secret.unlink()


def test_dns_lookup_fails() -> None:
    """Name resolution has nothing to talk to."""
    verdict = execute(py("import socket\nprint(socket.getaddrinfo('example.com', 80))\n"), QUICK)
    assert verdict.status is Status.RUNTIME_ERROR and verdict.error_type == "socket.gaierror", verdict


def test_writes_outside_the_run_directory_fail(tmp_path: Path) -> None:
    """Host paths (a temp dir, the home directory, /usr, /etc) cannot be written."""
    targets = [tmp_path / "escaped.txt", Path.home() / f".codistill-escape-{uuid.uuid4().hex}",
               Path("/usr/codistill-escape"), Path("/etc/codistill-escape")]
    code = ("import sys\nok = 0\nfor path in sys.argv[1:] or %r:\n    try:\n"
            "        open(path, 'w').write('x')\n        ok += 1\n    except OSError:\n"
            "        pass\nprint('wrote', ok)\n" % [str(t) for t in targets])
    verdict = execute(py(code), QUICK)
    assert verdict.passed and verdict.stdout.strip() == "wrote 0", verdict
    assert not any(t.exists() for t in targets)


def test_home_secrets_are_invisible() -> None:
    """A secret file in the home directory cannot be read."""
    secret = Path.home() / f".codistill-secret-{uuid.uuid4().hex}"
    secret.write_text("sk-very-secret-value")
    try:
        verdict = execute(py(f"print(open({str(secret)!r}).read())\n"), QUICK)
        assert verdict.status is Status.RUNTIME_ERROR, verdict
        assert "sk-very-secret" not in verdict.stdout + verdict.stderr
        home = str(Path.home())
        listing = execute(py(f"import os\nhome = {home!r}\n"
                             "print(os.listdir(home) if os.path.isdir(home) else [], "
                             "os.path.exists(home + '/.bashrc'))\n"), QUICK)
        assert "False" in listing.stdout and secret.name not in listing.stdout, listing
    finally:
        secret.unlink()


def test_environment_secrets_are_not_inherited(monkeypatch: pytest.MonkeyPatch) -> None:
    """API keys and tokens in our environment never reach the program."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-secret-123")
    monkeypatch.setenv("HF_TOKEN", "hf_env_secret_456")
    verdict = execute(py("import os\nprint(dict(os.environ))\n"
                         "print(open('/proc/1/environ', 'rb').read() if os.access("
                         "'/proc/1/environ', os.R_OK) else '')\n"), QUICK)
    assert verdict.passed, verdict
    assert "secret" not in verdict.stdout


def test_python_fork_bomb_is_contained() -> None:
    """A fork bomb hits the process limit, ends within its time limit, and leaves nothing."""
    token = uuid.uuid4().hex
    started = time.monotonic()
    verdict = execute(py(f"import os\n# {token}\nwhile True:\n    os.fork()\n"), QUICK)
    assert verdict.status in (Status.RUNTIME_ERROR, Status.TIMEOUT), verdict
    assert time.monotonic() - started < QUICK.timeout_s + 10
    assert subprocess.run(["true"]).returncode == 0
    assert execute(py("print('ok')"), QUICK).passed


def test_c_fork_bomb_is_contained() -> None:
    """The same in C, where failed forks do not stop the loop: it times out, cleanly."""
    need("c")
    started = time.monotonic()
    verdict = execute(Program("c", "#include <unistd.h>\nint main(void) { for (;;) fork(); }\n"),
                      QUICK)
    assert verdict.status is Status.TIMEOUT, verdict
    assert time.monotonic() - started < QUICK.timeout_s + 10
    assert subprocess.run(["true"]).returncode == 0


MEMORY_BOMBS = {
    "python": "x = []\nwhile True:\n    x.append(bytearray(10 ** 7))\n",
    "cpp": "#include <vector>\nint main() { std::vector<std::vector<char>> v; "
           "for (;;) v.emplace_back(10000000, 1); }\n",
    "javascript": "const a = []; for (;;) { a.push(new Array(1e6).fill(1.5)); }",
    "java": "import java.util.*;\npublic class Main { public static void main(String[] a) { "
            "List<long[]> l = new ArrayList<>(); for (;;) l.add(new long[1 << 20]); } }\n",
    "go": "package main\n\nfunc main() {\n\tvar k [][]byte\n\tfor {\n\t\tb := make([]byte, 1<<24)"
          "\n\t\tfor i := range b {\n\t\t\tb[i] = 1\n\t\t}\n\t\tk = append(k, b)\n\t}\n}\n",
}


@pytest.mark.parametrize("language", list(MEMORY_BOMBS))
def test_memory_bomb_is_memory_exceeded(language: str) -> None:
    """Allocating without end is `memory_exceeded`, not a generic crash."""
    need(language)
    verdict = execute(Program(language, MEMORY_BOMBS[language]),
                      Limits(timeout_s=10.0, memory_mb=256, isolation="namespaces"))
    assert verdict.status is Status.MEMORY_EXCEEDED, (verdict.status, verdict.message,
                                                      verdict.stderr[-500:])


def test_python_large_file_is_stopped() -> None:
    """Writing past the file-size limit fails the run as output_exceeded; nothing leaks out."""
    verdict = execute(py("with open('big', 'wb') as f:\n    while True:\n"
                         "        f.write(b'x' * 1048576)\n"), Limits(timeout_s=5.0, max_file_mb=4))
    assert verdict.status is Status.OUTPUT_EXCEEDED, verdict


def test_c_large_file_is_stopped() -> None:
    """In C the kernel's SIGXFSZ ends it: output_exceeded."""
    need("c")
    verdict = execute(Program("c", '#include <stdio.h>\nint main(void) { FILE *f = fopen("big", "w");'
                              ' char b[65536] = {1}; for (;;) fwrite(b, 1, sizeof b, f); }\n'),
                      Limits(timeout_s=5.0, max_file_mb=4))
    assert verdict.status is Status.OUTPUT_EXCEEDED, verdict


def test_filling_the_scratch_disk_is_stopped() -> None:
    """Many small files fill the capped scratch space, not the host's disk."""
    verdict = execute(py("i = 0\nwhile True:\n    open(f'f{i}', 'wb').write(b'x' * 1000000)\n"
                         "    i += 1\n"), Limits(timeout_s=10.0, max_disk_mb=16))
    assert verdict.status is Status.OUTPUT_EXCEEDED, verdict


def test_daemon_does_not_survive() -> None:
    """A double-forked, session-leading daemon is killed when the run ends."""
    token = f"1000.{uuid.uuid4().int % 10 ** 9}"
    verdict = execute(py("import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                         f"        os.execv('/bin/sleep', ['sleep', '{token}'])\n"
                         "    os._exit(0)\nprint('parent done')\n"), QUICK)
    assert verdict.passed, verdict
    time.sleep(0.2)
    assert host_processes_with(token) == []


def test_killing_the_parent_fails_harmlessly() -> None:
    """Signals to the supervisor are refused; the next run works."""
    verdict = execute(py("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
                         "os.kill(1, signal.SIGKILL)\nos.kill(-1, signal.SIGKILL)\n"), QUICK)
    assert verdict.status is Status.RUNTIME_ERROR and verdict.error_type == "PermissionError", \
        verdict
    assert execute(py("print('still here')"), QUICK).stdout == "still here\n"


def test_stdout_flood_is_cut() -> None:
    """Flooding stdout ends quickly as output_exceeded, with the output capped."""
    limits = Limits(timeout_s=10.0, max_output_bytes=10_000)
    started = time.monotonic()
    verdict = execute(py("while True:\n    print('x' * 1000)\n"), limits)
    assert verdict.status is Status.OUTPUT_EXCEEDED, verdict
    assert len(verdict.stdout) <= 10_000 and time.monotonic() - started < 5


@pytest.mark.parametrize("language", ["python", "c"])
def test_ignoring_sigterm_does_not_help(language: str) -> None:
    """A program that ignores SIGTERM still ends at the time limit."""
    need(language)
    source = ("import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n"
              "    pass\n") if language == "python" else (
        "#include <signal.h>\nint main(void) { signal(SIGTERM, SIG_IGN); for (;;) {} }\n")
    verdict = execute(Program(language, source), QUICK)
    assert verdict.status is Status.TIMEOUT, verdict
    assert verdict.run_s < QUICK.timeout_s + 1.0


def test_sleeping_forever_times_out_on_the_wall_clock() -> None:
    """A program that uses no CPU is still stopped by the wall-clock limit."""
    verdict = execute(py("import time\ntime.sleep(3600)\n"), QUICK)
    assert verdict.status is Status.TIMEOUT and verdict.run_s < QUICK.timeout_s + 1.0, verdict


def test_runs_do_not_see_each_other(tmp_path: Path) -> None:
    """Each run starts in an empty directory of its own."""
    first = execute(py("import os\nopen('left-behind', 'w').write('x')\nprint(os.getcwd())\n"))
    second = execute(py("import os\nprint(os.listdir('.'), os.getcwd())\n"))
    assert first.passed and second.passed
    assert "left-behind" not in second.stdout
    assert os.getpid() > 0
