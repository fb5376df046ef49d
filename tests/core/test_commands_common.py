"""Every command's error boundary: errors that say what to change end in one line and exit 2."""

from __future__ import annotations

import errno

import pytest

from codistill.cli import COMMANDS
from codistill.commands._common import friendly
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


def test_every_listed_command_exists() -> None:
    import importlib

    for name, (module, _) in COMMANDS.items():
        loaded = importlib.import_module(f"codistill.commands.{module}")
        assert callable(loaded.add_arguments) and callable(loaded.run), name
