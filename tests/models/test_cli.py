"""`codistill models ...`: list, check, prepare and serve, through the real command line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from codistill.cli import main
from codistill.models import Request, Sampling, load_generator


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "teacher.json"
    path.write_text(json.dumps({"rules": [{"match": "square", "reply": "def square(x):\n    return x * x"}],
                                "default": "ok"}))
    return path


def test_list_shows_every_embedded_model(capsys) -> None:
    assert main(["models", "list", "--no-hash"]) == 0
    shown = capsys.readouterr().out
    for name in ("qwen2.5-coder-0", "smollm2-135m", "teacher", "student"):
        assert name in shown
    assert shown.count("unchecked") + shown.count("not-installed") == 2  # --no-hash: nothing hashed


def test_check_a_spec_prints_tokens_per_second(capsys, script: Path) -> None:
    assert main(["models", "check", f"fake:{script}", "--tokens", "8"]) == 0
    shown = capsys.readouterr().out
    assert "fake:teacher-" in shown and "def square" in shown


def test_check_failure_exits_non_zero_with_the_reason(capsys, tmp_path: Path) -> None:
    assert main(["models", "check", "openai:http://127.0.0.1:9/v1#m?max_retries=0"]) == 1
    assert "cannot connect" in capsys.readouterr().out
    assert main(["models", "check", "no/such/model"]) == 1
    assert "write hf:no/such/model" in capsys.readouterr().out


def test_prepare_unknown_name_is_explained(capsys) -> None:
    assert main(["models", "prepare", "gpt5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown embedded model 'gpt5'") and err.count("\n") == 1


def test_serve_bad_failure_spec_is_refused(capsys, script: Path) -> None:
    assert main(["models", "serve", f"fake:{script}", "--inject-failures", "x:y"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --inject-failures") and "e.g. --inject-failures 429:0.1" in err


def test_serve_runs_a_real_server_process(script: Path) -> None:
    env = {**os.environ, "SERVE_KEY": "k"}
    cmd = [sys.executable, "-m", "codistill.cli", "models", "serve", f"fake:{script}", "--port", "0",
           "--name", "teacher", "--api-key-env", "SERVE_KEY"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        match = re.search(r"at (http://\S+/v1) as teacher", line)
        assert match, line + proc.stderr.read() if proc.poll() is not None else line
        url = match.group(1)
        os.environ["SERVE_KEY"] = "k"
        try:
            gen = load_generator(f"openai:{url}#teacher?key_env=SERVE_KEY")
            [out] = gen.generate([Request.user("square a number")], Sampling())
        finally:
            del os.environ["SERVE_KEY"]
        assert out.text == "def square(x):\n    return x * x"
        assert httpx.get(url + "/models").status_code == 401  # no key, no answer
    finally:
        proc.terminate()
        proc.wait(timeout=30)
