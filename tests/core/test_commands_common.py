"""Every command's error boundary: errors that say what to change end in one line and exit 2."""

from __future__ import annotations

import errno
import re

import pytest

from codistill.cli import COMMANDS, build_parser, main
from codistill.commands._common import friendly
from codistill.config import ConfigError
from codistill.errors import UserError
from codistill.evaluate.benchmarks import BenchmarkError
from codistill.stages.coevolve import CoevolveError
from codistill.train.common import TrainError


def _raise(exc: BaseException):  # noqa: ANN202
    def action() -> None:
        raise exc
    return action


@pytest.mark.parametrize("error", [TrainError("set train.kd.max_length higher"),
                                   BenchmarkError("unknown benchmark 'humaneva'"),
                                   CoevolveError("coevolve needs Python questions"),
                                   FileNotFoundError("no such config")])
def test_user_errors_are_one_line_and_exit_2(error: Exception, capsys: pytest.CaptureFixture) -> None:
    assert friendly(_raise(error)) == 2
    assert capsys.readouterr().err == f"error: {error}\n"


def test_every_error_that_says_what_to_change_is_a_user_error() -> None:
    import inspect
    import pkgutil

    import codistill

    names = {"ConfigError", "EvalError", "BenchmarkError", "GradingError", "CoevolveError", "RecordError",
             "TrainError", "ModelError", "SpecError", "GenerationFailed", "CacheError", "StaleStageError",
             "RunLockedError", "DecontaminationError"}
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(codistill.__path__, "codistill."):
        if info.name.startswith(("codistill.commands", "codistill.train", "codistill.sandbox.guest")):
            continue  # torch-heavy or guest-side; the train errors are imported below
        module = __import__(info.name, fromlist=["_"])
        found |= {n: c for n, c in inspect.getmembers(module, inspect.isclass) if n in names}
    found["TrainError"] = TrainError
    assert set(found) == names
    assert all(issubclass(c, UserError) for c in found.values())
    assert str(UserError("no model 'x'", hint="run `codistill models`")) == "no model 'x'; run `codistill models`"


def test_a_full_disk_names_what_to_do_and_a_bug_still_raises(capsys: pytest.CaptureFixture) -> None:
    full = OSError(errno.ENOSPC, "No space left on device", "/runs/x/cycle-1/teach.jsonl")
    assert friendly(_raise(full)) == 2
    assert "No space left on device" in capsys.readouterr().err
    with pytest.raises(ZeroDivisionError):
        friendly(_raise(ZeroDivisionError("a bug")))
    assert friendly(lambda: 7) == 7


def _listed() -> list[str]:
    """The commands `codistill --help` lists, read from the parser that prints it."""
    [choices] = [a.choices for a in build_parser()._actions if a.dest == "command"]
    assert list(choices) == list(COMMANDS)
    return list(choices)


@pytest.mark.parametrize("argv", [[name] for name in _listed()]
                         + [["models", action] for action in ("list", "prepare", "check", "serve")])
def test_every_listed_command_has_a_working_help(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as done:
        main([*argv, "--help"])
    assert done.value.code == 0
    shown = capsys.readouterr()
    assert shown.out.startswith(f"usage: codistill {' '.join(argv)}") and not shown.err


def test_the_top_level_help_lists_only_built_commands(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    listed = capsys.readouterr().out.split("positional arguments:")[1].split("options:")[0]
    assert re.findall(r"^    (\S+)", listed, flags=re.MULTILINE) == _listed()  # not wrapped help


def test_a_multi_line_message_is_printed_on_one_line(capsys: pytest.CaptureFixture) -> None:
    error = ConfigError("invalid configuration (x.yaml):\n  eval.n: too small\n  eval.ks: empty")
    assert friendly(_raise(error)) == 2
    assert capsys.readouterr().err == ("error: invalid configuration (x.yaml): eval.n: too small; "
                                       "eval.ks: empty\n")
