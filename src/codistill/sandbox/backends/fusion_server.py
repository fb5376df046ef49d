"""A SandboxFusion-compatible HTTP server that runs code through codistill's own sandbox.

    python -m codistill.sandbox.backends.fusion_server --host 127.0.0.1 --port 8080

It serves the part of SandboxFusion's API that `SandboxFusionBackend` uses: `POST /run_code`
(code, language, compile_timeout, run_timeout, memory_limit_MB, stdin) and `GET /v1/ping`.
Anything that reaches it runs as code, and there is no authentication: bind it to localhost or
a private network only. Extra `files` are refused (codistill's programs are single files).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import signal
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from codistill.sandbox import execute, isolation, languages
from codistill.sandbox.types import Limits, Program, Status, Verdict

log = logging.getLogger("codistill.sandbox.fusion_server")

# SandboxFusion `language` -> codistill's (each language module's FUSION.names)
LANGUAGES = {served: name for name, module in languages.REGISTRY.items() if module.FUSION
             for served in module.FUSION.names}


class BadRequest(ValueError):
    """The request does not follow the API (answered with HTTP 422 and the reason)."""


def run_code(body: object, base: Limits) -> dict:
    """SandboxFusion's answer to one /run_code request body, run through `execute`."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    code, language = body.get("code"), body.get("language")
    if not isinstance(code, str):
        raise BadRequest("'code' (a string) is required")
    if language not in LANGUAGES:
        raise BadRequest(f"'language' must be one of {sorted(LANGUAGES)}, got {language!r}")
    if body.get("files"):
        raise BadRequest("'files' is not supported by this server (send one file of code)")
    stdin = body.get("stdin")
    if stdin is not None and not isinstance(stdin, str):
        raise BadRequest("'stdin' must be a string or null")
    limits = replace(base, timeout_s=_seconds(body, "run_timeout", base.timeout_s),
                     compile_timeout_s=_seconds(body, "compile_timeout", base.compile_timeout_s))
    memory = body.get("memory_limit_MB")
    if isinstance(memory, int) and memory > 0:
        limits = replace(limits, memory_mb=memory)
    name = LANGUAGES[language]
    verdict = execute(Program(name, code, stdin=stdin or None), limits)
    return to_answer(verdict, languages.REGISTRY[name].FUSION.compiles_when_served)


def _seconds(body: dict, key: str, default: float) -> float:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 86400 \
            or math.isnan(value):
        raise BadRequest(f"{key!r} must be a positive number of seconds, got {value!r}")
    return float(value)


def to_answer(verdict: Verdict, compiled: bool) -> dict:
    """Our verdict in SandboxFusion's terms: a compile result, a run result, an overall status."""
    signum = _signal_number(verdict.details.get("signal"))
    ran_at_all = verdict.exit_code is not None or signum is not None
    if verdict.status is Status.SANDBOX_ERROR or (verdict.status is Status.ENVIRONMENT_ERROR
                                                  and not ran_at_all):
        return {"status": "SandboxError", "message": verdict.message, "compile_result": None,
                "run_result": None, "files": {}}
    built = {"status": "Finished", "execution_time": verdict.compile_s, "return_code": 0,
             "stdout": "", "stderr": ""} if compiled else None
    error_text = verdict.stderr or verdict.message
    if verdict.status is Status.COMPILE_ERROR or verdict.error_type == "CompileTimeout":
        timed_out = verdict.status is Status.TIMEOUT
        result = {"status": "TimeLimitExceeded" if timed_out else "Finished",
                  "execution_time": verdict.compile_s, "return_code": None if timed_out else 1,
                  "stdout": "", "stderr": error_text}
        if compiled:
            return _answer("Failed", result, None)
        return _answer("Failed", None, result)  # a Python or JavaScript syntax error
    if verdict.status is Status.TIMEOUT:
        return _answer("Failed", built, {"status": "TimeLimitExceeded", "return_code": None,
                                         "execution_time": verdict.run_s,
                                         "stdout": verdict.stdout, "stderr": verdict.stderr})
    code = verdict.exit_code if verdict.exit_code is not None else -(signum or signal.SIGKILL)
    stderr = verdict.stderr if verdict.stderr or code == 0 else verdict.message
    return _answer("Success" if code == 0 else "Failed", built,
                   {"status": "Finished", "execution_time": verdict.run_s, "return_code": code,
                    "stdout": verdict.stdout, "stderr": stderr})


def _answer(status: str, compiled: dict | None, ran: dict | None) -> dict:
    return {"status": status, "message": "", "compile_result": compiled, "run_result": ran,
            "files": {}}


def _signal_number(name: object) -> int | None:
    try:
        return int(signal.Signals[name]) if isinstance(name, str) else None
    except KeyError:
        return None


class FusionHandler(BaseHTTPRequestHandler):
    """POST /run_code and GET /v1/ping; everything else is 404."""

    server: FusionServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms ACK stalls

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        """Liveness, as SandboxFusion answers it."""
        if self.path.rstrip("/") == "/v1/ping":
            self.send_json(200, "pong")
        else:
            self.send_json(404, {"detail": "Not Found"})

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        """Run one program."""
        if self.path.rstrip("/") != "/run_code":
            self.send_json(404, {"detail": "Not Found"})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            self.send_json(200, run_code(body, self.server.limits))
        except (BadRequest, ValueError) as exc:
            self.send_json(422, {"detail": str(exc)})
        except Exception as exc:  # noqa: BLE001 - the client must get an answer, not a reset
            log.exception("run_code failed")
            self.send_json(500, {"detail": f"{exc.__class__.__name__}: {exc}"})

    def send_json(self, code: int, payload: object) -> None:
        """Answer with `payload` as JSON."""
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
        """Access log at debug level (not on stderr)."""
        log.debug("%s %s", self.address_string(), format % args)


class FusionServer(ThreadingHTTPServer):
    """The server, on a background thread when used as a context manager (port 0: any free)."""

    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, limits: Limits | None = None,
                 handler: type[FusionHandler] = FusionHandler) -> None:
        super().__init__((host, port), handler)
        self.limits = limits or Limits()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL of the server."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FusionServer:
        self._thread = threading.Thread(target=self.serve_forever, name="fusion-server",
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: localhost)")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--isolation", choices=["auto", "namespaces", "none"], default="auto")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    server = FusionServer(args.host, args.port, limits=Limits(isolation=args.isolation))
    isolation.requested_mode(server.limits)
    print(f"SandboxFusion-compatible server on {server.url}/run_code", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
