"""Evaluation as a stage: pass@k of one model on every configured benchmark, resumable.

`codistill run` evaluates the student before training and after each cycle, `codistill coevolve`
the Code model before and after; both run this one stage body inside their own run folder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from codistill.stages.context import StageContext
from codistill.stages.stats import EvalStats

if TYPE_CHECKING:
    from codistill.cache import RequestCache
    from codistill.config import Eval
    from codistill.models.base import Generator
    from codistill.store import Stage


def evaluation_stage(stage: Stage, generator: Generator, settings: Eval, ctx: StageContext, *,
                     model: str, cache: RequestCache | None = None,
                     say: Callable[[str], None] = lambda _: None, bars: bool = True) -> EvalStats:
    """Evaluate `generator` (named `model`) on `settings.benchmarks`; one record per benchmark.

    pass@1 comes from greedy answers; with `settings.n` > 1 also pass@k from n sampled ones.
    Benchmarks an interrupted attempt finished (`ctx.previous`) are not redone; each finished
    benchmark is written to `ctx.out` at once. Answers land in the stage's folder.
    """
    from codistill.evaluate import evaluate_pass_at_k

    rows: dict[str, dict[str, Any]] = ctx.previous_of("id")
    for bench in [b for b in settings.benchmarks if b not in rows]:
        say(f"evaluating {model} on {bench}")
        result = evaluate_pass_at_k(generator, bench, out_dir=stage.dir / bench.replace(":", "_"),
                                    n=settings.n, temperature=settings.temperature, top_p=settings.top_p,
                                    ks=settings.ks, max_new_tokens=settings.max_new_tokens,
                                    limits=ctx.limits, limit=settings.limit, cache=cache,
                                    workers=ctx.workers, progress=bars)
        rows[bench] = {"id": bench, "pass_at_k": result.pass_at_k, "model": model,
                       "tasks": len(result.per_task), "passed": result.passed_tasks}
        if ctx.out is not None:
            ctx.out.write(rows[bench])
        ctx.advance(1)
    done = [rows[b] for b in settings.benchmarks]
    return EvalStats(pass_at_k={r["id"]: r["pass_at_k"] for r in done}, model=model,
                     tasks={r["id"]: r["tasks"] for r in done if "tasks" in r},
                     passed={r["id"]: r["passed"] for r in done if "passed" in r})
