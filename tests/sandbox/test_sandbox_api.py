"""The public API: execute, execute_many (streaming), run_all (ordered), backends, languages."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

import pytest
from tests.sandbox.sandbox_helpers import py

from codistill.sandbox import (
    Backend,
    Limits,
    LocalBackend,
    Program,
    Status,
    Verdict,
    execute,
    execute_many,
    languages,
    run_all,
)
from codistill.sandbox.languages import python as python_language

SLEEP = "import time\ntime.sleep({})\nprint('{}')\n"


def test_execute_returns_a_verdict_with_timings() -> None:
    """One call, one verdict, with the run's duration and the program's id."""
    verdict = execute(py("print('hi')", id="p1"))
    assert verdict.status is Status.PASSED and verdict.stdout == "hi\n"
    assert verdict.id == "p1" and 0 < verdict.run_s < 5 and verdict.exit_code == 0


def test_execute_many_streams_in_completion_order() -> None:
    """A slow program started first does not hold back fast ones."""
    programs = [py(SLEEP.format(1.5, "slow"), id="slow")] + [
        py(SLEEP.format(0, i), id=f"fast{i}") for i in range(3)]
    order = [verdict.id for verdict in execute_many(programs, workers=2)]
    assert sorted(order) == sorted(p.id for p in programs)
    assert order[0].startswith("fast") and order[-1] == "slow"


def test_execute_many_reads_its_input_lazily() -> None:
    """A generator of programs is consumed as capacity frees up."""
    pulled = []

    def programs() -> Iterator[Program]:
        for i in range(12):
            pulled.append(i)
            yield py(f"print({i})", id=str(i))

    stream = execute_many(programs(), workers=2)
    first = next(stream)
    assert first.passed and len(pulled) < 12
    assert len(list(stream)) == 11


def test_run_all_keeps_input_order_and_ids() -> None:
    """Results come back in input order, with the callers' ids (even repeated or empty)."""
    programs = [py(SLEEP.format(0.4, "a"), id="same"), py("print('b')", id="same"),
                py("print('c')"), py("raise SystemExit(4)", id="x")]
    verdicts = run_all(programs, workers=3)
    assert [v.id for v in verdicts] == ["same", "same", "", "x"]
    assert [v.stdout for v in verdicts[:3]] == ["a\n", "b\n", "c\n"]
    assert verdicts[3].status is Status.RUNTIME_ERROR


def test_workers_run_concurrently() -> None:
    """Six one-second sleeps on six workers take about a second, not six."""
    started = time.monotonic()
    verdicts = run_all([py(SLEEP.format(1.0, i)) for i in range(6)], workers=6)
    assert all(v.passed for v in verdicts)
    assert time.monotonic() - started < 4.0


def test_progress_bar_runs(capsys: pytest.CaptureFixture) -> None:
    """progress=True (or a label) shows a bar and still yields every verdict."""
    verdicts = run_all([py(f"print({i})") for i in range(5)], progress="checking", workers=2)
    assert len(verdicts) == 5 and all(v.passed for v in verdicts)
    assert "checking" in capsys.readouterr().out


class _Recording:
    """A backend that delegates to the local one and records what it was given."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def run_many(self, programs: Iterable[Program], limits: Limits) -> Iterator[Verdict]:
        listed = list(programs)
        self.seen += [p.id for p in listed]
        yield from LocalBackend(1).run_many(listed, limits)


def test_a_backend_plugs_in() -> None:
    """Any object with run_many(programs, limits) serves execute_many and run_all."""
    backend = _Recording()
    assert isinstance(backend, Backend)
    verdicts = run_all([py("print(1)", id="a"), py("print(2)", id="b")], backend=backend)
    assert [v.id for v in verdicts] == ["a", "b"] and len(backend.seen) == 2


def test_bad_limits_name_the_field() -> None:
    """Nonsense limits are refused before anything runs."""
    with pytest.raises(ValueError, match="timeout_s"):
        execute(py("print(1)"), Limits(timeout_s=0))
    with pytest.raises(ValueError, match="memory_mb"):
        list(execute_many([py("print(1)")], Limits(memory_mb=-1)))


def test_unknown_language_is_an_environment_error() -> None:
    """An unknown language is reported, naming the known ones."""
    verdict = execute(Program("cobol", "DISPLAY 'HI'."))
    assert verdict.status is Status.ENVIRONMENT_ERROR and "python" in verdict.message


def test_missing_toolchain_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """A language whose toolchain is absent gives environment_error with the install hint."""
    monkeypatch.setattr(python_language, "missing", lambda: "python3 (apt-get install python3)")
    verdict = execute(py("print(1)"))
    assert verdict.status is Status.ENVIRONMENT_ERROR
    assert "apt-get install python3" in verdict.message
    assert languages.available()["python"] == "python3 (apt-get install python3)"


def test_available_lists_every_language() -> None:
    """available() covers the eight languages; each value is None or an install hint."""
    found = languages.available()
    assert set(found) == {"python", "javascript", "typescript", "java", "c", "cpp", "go", "rust"}
    assert all(v is None or isinstance(v, str) for v in found.values())
    assert languages.canonical("C++") == "cpp" and languages.by_extension("x.rs") == "rust"


def test_stdin_and_expected_stdout() -> None:
    """stdin reaches the program; stdout is compared up to trailing whitespace."""
    ok = execute(py("import sys\nfor line in sys.stdin:\n    print(line.strip()[::-1], '  ')\n",
                    stdin="abc\nxy\n", expected_stdout="cba\nyx\n\n"))
    assert ok.status is Status.PASSED, ok


def test_output_is_capped_without_failing_small_programs() -> None:
    """Output under the cap is kept whole; over it, the run stops as output_exceeded."""
    limits = Limits(max_output_bytes=1000)
    assert execute(py("print('x' * 900)"), limits).passed
    over = execute(py("print('x' * 5000)"), limits)
    assert over.status is Status.OUTPUT_EXCEEDED and len(over.stdout) == 1000


def test_verdict_round_trips_through_json() -> None:
    """to_dict/from_dict preserve a verdict."""
    verdict = execute(py("raise ValueError('boom')"))
    again = Verdict.from_dict(verdict.to_dict())
    assert again == verdict and again.error_type == "ValueError"
