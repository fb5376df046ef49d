"""Node's output reaches the supervisor as it is written, so its verdicts do not depend on timing.

Node writes to pipes asynchronously: past the pipe's 64 KiB, output waited in memory for the
event loop. bench/soak.py found a stdout flood in a loop that never yields judged
`output_exceeded`, `timeout` or `runtime_error` (SIGSEGV) from one run to the next, and a
program's output past 64 KiB was lost when it called process.exit().
"""

from __future__ import annotations

import pytest
from tests.sandbox.sandbox_helpers import need

from codistill.sandbox import Limits, Program, Status, execute

RUNS = 5  # the old behaviour got about one run in three wrong


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_flood_in_a_busy_loop_is_output_exceeded_every_time(stream: str) -> None:
    """Megabytes printed in a loop that never yields end at the output cap, on every run."""
    need("javascript")
    program = Program("javascript", 'const s = "x".repeat(1 << 20);\n'
                                    f"for (;;) process.{stream}.write(s);\n")
    # A cap above the pipe's 64 KiB: below it, the first partial write alone went past it.
    limits = Limits(timeout_s=3.0, max_output_bytes=256 * 1024)
    verdicts = [execute(program, limits) for _ in range(RUNS)]
    assert [v.status for v in verdicts] == [Status.OUTPUT_EXCEEDED] * RUNS, \
        [(v.status.value, v.message) for v in verdicts]


def test_output_before_process_exit_is_kept() -> None:
    """A stdio program's output past 64 KiB is all there when it ends with process.exit(0)."""
    need("javascript")
    text = "x" * 200_000
    program = Program("javascript", f'process.stdout.write("x".repeat({len(text)}) + "\\n");\n'
                                    "process.exit(0);\n", expected_stdout=text)
    limits = Limits(timeout_s=5.0, max_output_bytes=1 << 20)
    verdicts = [execute(program, limits) for _ in range(RUNS)]
    assert [len(v.stdout) for v in verdicts] == [len(text) + 1] * RUNS
    assert all(v.passed for v in verdicts), [v.message for v in verdicts]
