"""What an evaluation produced: pass@k, per-task results, counts; saved as JSON, shown as a table."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

from codistill.errors import UserError
from codistill.evaluate.passk import mean_pass_at_k
from codistill.jsonl import write_text_atomic
from codistill.records import Sample
from codistill.sandbox.types import Status

RESULTS_FILE = "results.json"


class EvalError(UserError, ValueError):
    """Bad evaluation input (samples, settings, results files); the message says what to change."""


@dataclass
class TaskResult:
    """One task: how many samples, how many passed, each sample's status in index order."""

    task_id: str
    n: int
    correct: int
    statuses: list[Status]
    judge_score: float | None = None

    @property
    def pass_rate(self) -> float:
        """Fraction of this task's samples that passed (its pass@1 estimate)."""
        return self.correct / self.n if self.n else 0.0


@dataclass
class EvalResult:
    """One model (or samples file) on one benchmark."""

    benchmark: str
    model: str
    n: int
    pass_at_k: dict[str, float]
    per_task: list[TaskResult]
    status_counts: dict[str, int]
    language: str = "python"
    mode: str = "chat"
    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 512
    wall_s: float = 0.0  # this invocation, generation and execution (a resumed run: the last leg)
    generation_s: float = 0.0  # model time summed over every sample's generation, across resumes
    generation_tokens: int = 0
    judge: dict[str, Any] | None = None
    unisolated: int = 0  # samples run without namespace isolation (0 under bubblewrap)
    # SODA's protocol: pass@1 above is greedy; pass@k (k > 1) comes from n sampled answers per
    # task, summarised here ({"n", "temperature", "top_p", "pass_at_k", "results"}).
    sampled: dict[str, Any] | None = None
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    version: int = 1

    @property
    def tasks(self) -> int:
        """How many tasks were scored."""
        return len(self.per_task)

    @property
    def pass1(self) -> float:
        """pass@1 (the mean per-task pass rate, defined for every n)."""
        return self.pass_at_k.get("pass@1", 0.0)

    @property
    def passed_tasks(self) -> int:
        """Tasks with at least one passing sample."""
        return sum(t.correct > 0 for t in self.per_task)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (with the derived task count)."""
        data = asdict(self)
        data["tasks"] = self.tasks
        return data

    def to_json(self) -> str:
        """The results JSON text."""
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalResult:
        """Inverse of `to_dict`."""
        data = {k: v for k, v in data.items() if k != "tasks"}
        data["per_task"] = [TaskResult(**{**t, "statuses": [Status(s) for s in t["statuses"]]})
                            for t in data.get("per_task", [])]
        return cls(**data)

    def save(self, path: str | Path) -> Path:
        """Write the JSON atomically; a folder gets results.json inside it."""
        path = Path(path)
        if path.is_dir() or not path.suffix:
            path = path / RESULTS_FILE
        return write_text_atomic(path, self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | Path) -> EvalResult:
        """Read a results JSON (or the results.json in a folder)."""
        path = Path(path)
        if path.is_dir():
            path = path / RESULTS_FILE
        if not path.is_file():
            raise EvalError(f"{path}: no results file",
                            hint="run `codistill eval --output DIR` first, or give the results.json it wrote")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise TypeError(f"a JSON {type(data).__name__}, not an object")
            return cls.from_dict(data)
        except (ValueError, TypeError, KeyError) as exc:  # any file the user names may be wrong
            raise EvalError(f"{path}: not a codistill results file ({exc})",
                            hint="give a results.json written by `codistill eval`") from None

    def table(self) -> Table:
        """A readable summary for the terminal."""
        return results_table([self])


def build_result(benchmark: str, model: str, task_ids: Sequence[str], samples: Iterable[Sample],
                 *, ks: Sequence[int] = (1, 10, 100), **fields: Any) -> EvalResult:
    """Aggregate scored samples into per-task results and pass@k, tasks in `task_ids` order."""
    by_task: dict[str, dict[int, Sample]] = {t: {} for t in task_ids}
    tokens, seconds, unisolated = 0, 0.0, 0
    for sample in samples:
        if sample.task_id in by_task and sample.status is not None:
            by_task[sample.task_id][sample.index] = sample
            unisolated += sample.unisolated
    per_task = []
    for task_id, found in by_task.items():
        if not found:
            continue
        ordered = [found[i] for i in sorted(found)]
        tokens += sum(s.tokens for s in ordered)
        seconds += sum(s.seconds for s in ordered)
        per_task.append(TaskResult(task_id, len(ordered), sum(bool(s.passed) for s in ordered),
                                   [s.status for s in ordered if s.status is not None]))
    counts = Counter(status for t in per_task for status in t.statuses)
    n = max((t.n for t in per_task), default=0)
    return EvalResult(
        benchmark=benchmark, model=model, n=n,
        pass_at_k=mean_pass_at_k([(t.n, t.correct) for t in per_task], ks),
        per_task=per_task, status_counts=dict(sorted(counts.items())),
        generation_tokens=tokens, generation_s=round(seconds, 3), unisolated=unisolated, **fields,
    )


def pool_results(results: Sequence[EvalResult], model: str) -> EvalResult:
    """One evaluation from several of the same benchmark (e.g. training seeds): each task's samples pooled.

    A task's pass rate becomes its mean over the evaluations, so comparing the pool with a
    baseline tests the mean over seeds. Only tasks every evaluation scored are kept.
    """
    if not results:
        raise ValueError("pool_results needs at least one evaluation")
    benchmarks = {r.benchmark for r in results}
    if len(benchmarks) > 1:
        raise ValueError(f"cannot pool different benchmarks: {sorted(benchmarks)}")
    by_task = [{t.task_id: t for t in r.per_task} for r in results]
    shared = [t.task_id for t in results[0].per_task if all(t.task_id in tasks for tasks in by_task)]
    per_task = [TaskResult(task_id, sum(tasks[task_id].n for tasks in by_task),
                           sum(tasks[task_id].correct for tasks in by_task),
                           [s for tasks in by_task for s in tasks[task_id].statuses])
                for task_id in shared]
    counts = Counter(status for t in per_task for status in t.statuses)
    # pass@1 is the mean per-task pass rate; pass@k for k > 1 is not defined across models.
    mean = sum(t.pass_rate for t in per_task) / len(per_task) if per_task else 0.0
    return EvalResult(benchmark=results[0].benchmark, model=model, n=max((t.n for t in per_task), default=0),
                      pass_at_k={"pass@1": mean}, per_task=per_task,
                      status_counts=dict(sorted(counts.items())), language=results[0].language,
                      mode=results[0].mode, temperature=results[0].temperature,
                      max_new_tokens=results[0].max_new_tokens)


SHORT_STATUS = {"passed": "ok", "failed": "fail", "compile_error": "compile", "runtime_error": "crash",
                "timeout": "timeout", "memory_exceeded": "memory", "output_exceeded": "output",
                "environment_error": "env", "sandbox_error": "sandbox"}


def results_table(results: Sequence[EvalResult], title: str = "Evaluation") -> Table:
    """One row per evaluation: benchmark, model, tasks, pass@k, outcomes, time, judge."""
    ks = sorted({k for r in results for k in r.pass_at_k}, key=lambda k: int(k.split("@")[1]))
    table = Table(title=title)
    numeric = {"tasks", "n", *ks}
    for name in ["benchmark", "model", "tasks", "n", *ks, "outcomes", "time", "judge"]:
        table.add_column(name, justify="right" if name in numeric else "left",
                         overflow="fold", no_wrap=name in numeric)
    for r in results:
        outcomes = " ".join(f"{SHORT_STATUS.get(k, k)}:{v}" for k, v in
                            sorted(r.status_counts.items(), key=lambda kv: -kv[1]))
        if r.unisolated:
            outcomes += f" UNISOLATED:{r.unisolated}"
        judge = "-"
        if r.judge:
            mean = r.judge.get("mean")
            judge = (f"{mean:.2f}/6" if mean is not None else "n/a") + (
                f" ({r.judge.get('unparsed', 0)} unparsed)" if r.judge.get("unparsed") else "")
        bench = r.benchmark if r.language in r.benchmark or r.language == "python" \
            else f"{r.benchmark} ({r.language})"
        table.add_row(
            bench, r.model, str(r.tasks), f"1+{r.sampled['n']}" if r.sampled else str(r.n),
            *[f"{100 * r.pass_at_k[k]:.1f}%" if k in r.pass_at_k else "-" for k in ks],
            outcomes, f"{r.wall_s:.0f}s", judge,
        )
    return table
