"""The stage context: one way every stage gets its limits, seed, output and what to resume."""

from __future__ import annotations

from pathlib import Path

from codistill.sandbox import Limits
from codistill.stages.context import StageContext
from codistill.store import RunStore


def test_resuming_hands_a_stage_its_earlier_rows_and_their_keys(tmp_path: Path) -> None:
    with RunStore(tmp_path) as store:
        stage = store.stage("teach", 1)
        with stage.appender() as out:
            out.write({"problem": {"id": "a"}, "kept": True})
            out.write({"problem": {"id": "b"}, "kept": False})
        seen: list[int] = []
        ctx = StageContext.resuming(stage, "problem.id", limits=Limits(timeout_s=2), seed=4,
                                    progress=seen.append)
    assert ctx.done == {"a", "b"} and ctx.seed == 4 and len(ctx.previous) == 2
    assert ctx.previous_of("problem.id")["b"]["kept"] is False
    ctx.advance(3)
    ctx.advance(0)  # nothing finished: nothing to report
    assert seen == [3]
    # A copy for one cycle keeps the resume set; a set handed over is frozen.
    again = ctx.replace(seed=5, done={"c"})
    assert again.seed == 5 and again.done == frozenset({"c"}) and again.previous == ctx.previous


def test_a_fresh_stage_resumes_nothing(tmp_path: Path) -> None:
    with RunStore(tmp_path) as store:
        ctx = StageContext.resuming(store.stage("examine", 1), "problem_id", limits=Limits())
    assert ctx.done == frozenset() and ctx.previous == () and ctx.out is None
