"""A real llama.cpp server (llama-cpp-python's) on loopback, started and killed by the tests.

It lives in its own virtualenv, `.venv-llama` (`scripts/setup-llama-server.sh`, run by `make
test`), because its pinned dependencies are not codistill's. CODISTILL_LLAMA_PYTHON names another
interpreter that has `llama_cpp.server`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
ALIAS = "smol"


def llama_python() -> Path | None:
    """The interpreter that runs llama-cpp-python's server, or None when it is not installed."""
    named = os.environ.get("CODISTILL_LLAMA_PYTHON")
    path = Path(named) if named else ROOT / ".venv-llama" / "bin" / "python"
    return path if path.is_file() else None


class LlamaServer:
    """`python -m llama_cpp.server` serving one GGUF file under the alias `smol`."""

    def __init__(self, python: Path, gguf: Path, port: int, log: Path, threads: int = 2) -> None:
        self.python, self.gguf, self.port, self.log, self.threads = python, gguf, port, log, threads
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The OpenAI base URL."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def spec(self) -> str:
        """The model spec codistill takes for this server."""
        return f"openai:{self.url}#{ALIAS}"

    def start(self, timeout: float = 180.0) -> LlamaServer:
        """Start the server and wait until it lists its model."""
        command = [str(self.python), "-m", "llama_cpp.server", "--model", str(self.gguf),
                   "--model_alias", ALIAS, "--host", "127.0.0.1", "--port", str(self.port),
                   "--n_ctx", "2048", "--n_threads", str(self.threads),
                   "--n_threads_batch", str(self.threads)]
        with self.log.open("ab") as sink:
            self.proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.death())
            try:
                if httpx.get(self.url + "/models", timeout=2).status_code == 200:
                    return self._first_token()
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.kill()
        raise RuntimeError(f"llama.cpp server did not answer within {timeout:.0f} s; log: {self.log}")

    def _first_token(self) -> LlamaServer:
        """Generate one token, so a build that cannot run on this CPU fails here, saying why."""
        # A prompt of a few dozen tokens: a one-token prompt skips the batched matmul that crashes.
        prompt = "def add(a, b):\n    return a + b\n\n" * 4
        try:
            httpx.post(self.url + "/completions", json={"model": ALIAS, "prompt": prompt, "max_tokens": 1},
                       timeout=60).raise_for_status()
        except httpx.HTTPError as exc:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
                raise RuntimeError(f"llama.cpp server could not generate a token ({exc}); "
                                   f"log: {self.log}") from exc
            raise RuntimeError(self.death()) from exc
        return self

    def death(self) -> str:
        """Why the server process ended: its exit status (a signal spelled out) and its log's tail."""
        code = self.proc.returncode if self.proc else None
        killed = code is not None and code < 0
        how = f"was killed by {signal.Signals(-code).name}" if killed else f"exited with {code}"
        # Seen on these VMs: a -march=native build's AMX matmul faults (SIGSEGV) on the first token.
        hint = (" A crash on the first token is usually a llama.cpp build using instructions this CPU or "
                "VM does not allow (AMX, AVX-512): `bash scripts/setup-llama-server.sh` rebuilds it for "
                "AVX2.") if killed else ""
        return f"llama.cpp server {how}.{hint} Its log ({self.log}) ends:\n{self.log.read_text()[-1500:]}"

    def kill(self) -> None:
        """SIGKILL the server (what a crash or an OOM kill does) and wait for it."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self.proc is not None and self.proc.poll() is None
