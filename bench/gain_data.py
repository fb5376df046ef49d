"""The gain benchmark's teacher data: verified questions (data), more answers to them (answers), the split.

Shared by gain.py's phases and the diagnostics (gain_nll, gain_fit, coevolve_tests): which questions
are kept, which are held out as the dev set, and which sampled answers join the training rows.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from gain_store import TEACHER_DTYPES  # bench/ is first on sys.path
from rich.console import Console

from codistill.config import Data, RunConfig
from codistill.data.synth import dedupe
from codistill.jsonl import Appender, iter_json
from codistill.records import Solution, Taught
from codistill.roles import open_cache, role_generator
from codistill.sandbox import Limits
from codistill.stages.context import StageContext
from codistill.stages.questions import grow_questions, verified, writer_sampling
from codistill.stages.teach import stable_fraction

console = Console(stderr=True)
DTYPE = "bfloat16"  # fixed: bf16 changes some greedy outputs, so compared runs share one dtype
_W = Data.model_fields["synth_generation"].default_factory()  # codistill run's default writer
WRITER = writer_sampling(_W.temperature, _W.top_p, _W.max_new_tokens, seed=0)


def _config(args: argparse.Namespace, batch_size: int = 16, dtype: str = DTYPE) -> RunConfig:
    return RunConfig.model_validate({"name": "gain", "seed": args.seed,
                                     "models": {"dtype": dtype, "batch_size": batch_size,
                                                "device": args.device}})


def teacher_dtype(data_seed: int) -> str:
    """The dtype the teacher wrote (and answers) data seed `data_seed`'s questions in."""
    return TEACHER_DTYPES.get(data_seed, DTYPE)


def data_seed_of(problem_id: str) -> int:
    """The data seed of a question from its slot id (`<prefix>-<seed>-<index>`)."""
    return int(problem_id.rsplit("-", 2)[1])


def _rows(path: Path) -> list[dict]:
    return [row for _, row in iter_json(path, skip_bad=True)] if path.is_file() else []


def is_dev(problem_id: str) -> bool:
    """A fixed tenth of the verified questions is held out as the dev set (never trained on)."""
    return stable_fraction("dev", problem_id) < 0.1


def phase_data(args: argparse.Namespace) -> None:
    """Write, screen, answer and settle questions, a chunk of slots at a time (resumable)."""
    from codistill.data.grounded import DEFAULT_SOURCES
    from codistill.evaluate.decontam import Decontaminator
    from codistill.stages.questions import grounded_writer

    out = Path(args.out)
    # One thread generates about 2.3x the tokens per second at batch 32 as at batch 8 (bf16).
    cfg = _config(args, batch_size=32, dtype=teacher_dtype(args.data_seed))
    cache = open_cache(cfg)
    teacher = role_generator("embedded:teacher", cfg, cache)
    limits = Limits(timeout_s=10)
    decontam = Decontaminator()
    # One file per source and data seed: run them side by side.
    grounded = args.source == "grounded"
    q_path = out / (f"questions-grounded-{args.data_seed}.jsonl" if grounded
                    else f"questions-{args.data_seed}.jsonl")
    writer = grounded_writer(args.grounded_from or DEFAULT_SOURCES, args.data_seed) if grounded else None
    started = time.perf_counter()
    slots = args.slots or 2000
    for end in range(args.chunk, slots + args.chunk, args.chunk):
        end = min(end, slots)
        with Appender(q_path) as q_out:
            ctx = StageContext(limits=limits, seed=args.data_seed, out=q_out, previous=_rows(q_path))
            grow_questions(teacher, end, WRITER, ctx, decontaminator=decontam, batch_size=32, writer=writer)
        rows = _rows(q_path)
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        console.print(f"slots {end}/{slots}: {counts}; {time.perf_counter() - started:.0f}s",
                      highlight=False)


def _verified(out: Path) -> tuple[list[Taught], list[Taught]]:
    """Kept questions from the data phase, split into (train, dev), each in slot order."""
    pairs = [pair for path in sorted(out.glob("questions-*.jsonl")) for pair in verified(_rows(path))]
    unique, _ = dedupe(p for p, _ in pairs)  # different data seeds may write the same question
    answers = {p.id: answer for p, answer in pairs}
    kept = [Taught(problem=p, split="sft", kept=True, solutions=[Solution(
        problem_id=p.id, kind="correct", code=answers[p.id], status="passed", kept=True)])
        for p in unique]
    return [t for t in kept if not is_dev(t.problem.id)], [t for t in kept if is_dev(t.problem.id)]


def _sampled_dir(out: Path, answers: int, dtype: str = DTYPE) -> Path:
    return out / "eval" / (f"teacher-sampled-n{answers}" + ("" if dtype == DTYPE else f"-{dtype}"))


def phase_answers(args: argparse.Namespace) -> None:
    """Sample more teacher solutions (T=0.8) to every training question and run its settled tests.

    A new verified question costs the teacher about ten times the tokens of one more answer to a
    question it has (writer, greedy answer, tie-break, and two thirds of slots are dropped).
    """
    from codistill.evaluate import evaluate_model

    out = Path(args.out)
    train, _ = _verified(out)
    by_dtype: dict[str, list[Taught]] = {}
    for t in train:  # each question is answered in the dtype its data seed was written in
        by_dtype.setdefault(teacher_dtype(data_seed_of(t.problem.id)), []).append(t)
    passed = 0.0
    scored = _read_sampled(out, args.answers)
    for dtype, questions in sorted(by_dtype.items()):
        if all((t.problem.id, i) in scored for t in questions for i in range(args.answers)):
            # all answered already: no teacher to load (in bf16 on a CPU without it, minutes)
            passed += sum(scored[t.problem.id, i].passed for t in questions
                          for i in range(args.answers)) / args.answers
            continue
        cfg = _config(args, batch_size=32, dtype=dtype)
        cache = open_cache(cfg)
        teacher = role_generator("embedded:teacher", cfg, cache)
        result = evaluate_model(teacher, [t.problem for t in questions],
                                out_dir=_sampled_dir(out, args.answers, dtype), n=args.answers,
                                temperature=0.8, max_new_tokens=384, ks=(1,),
                                limits=Limits(timeout_s=10), cache=cache, progress=True)
        teacher.close()
        passed += result.pass_at_k.get("pass@1", 0) * len(questions)
    extra = _extra_answers(out, args.answers, train)
    console.print(f"{len(train)} training questions: teacher pass@1 at T=0.8 "
                  f"{passed / max(len(train), 1):.3f}; {sum(map(len, extra.values()))} more distinct "
                  "passing solutions", highlight=False)


def _read_sampled(out: Path, answers: int) -> dict:
    """The answers phase's scored samples, by (question id, index)."""
    from codistill.evaluate.runner import read_scored

    scored: dict = {}
    for dtype in sorted({DTYPE, *TEACHER_DTYPES.values()}):
        scored |= read_scored(_sampled_dir(out, answers, dtype) / "samples.jsonl")
    return scored


def _sampled_ids(scored: dict, train: list[Taught]) -> set[str]:
    """The training questions among those with scored samples."""
    return {tid for tid, _ in scored} & {t.problem.id for t in train}


def _extra_answers(out: Path, answers: int, train: list[Taught], limit: int = 0) -> dict[str, list[str]]:
    """Distinct passing sampled solutions per training question, the greedy one excluded.

    Only the first `limit` training questions contribute (0: all). Says how many training
    questions have been sampled; none at all is an error.
    """
    from codistill.extract import extract_code
    from codistill.stages.teach import same_code

    scored = _read_sampled(out, answers)
    by_id = {t.problem.id: t for t in (train[:limit] if limit else train)}
    sampled = _sampled_ids(scored, list(by_id.values()))
    hint = f"`python bench/gain.py answers --answers {answers}` samples them (or train with --answers 1)"
    if not sampled:
        raise SystemExit(f"--answers {answers}: no training question has sampled answers yet; {hint}")
    if len(sampled) < len(by_id):
        console.print(f"  sampled answers for {len(sampled)} of {len(by_id)} training questions; {hint}",
                      highlight=False)
    found: dict[str, list[str]] = {}
    for (tid, _), sample in sorted(scored.items()):
        if not sample.passed or tid not in sampled:
            continue
        p = by_id[tid].problem
        code = extract_code(sample.raw, "python", prompt=p.prompt, entry_point=p.entry_point)
        kept = [by_id[tid].correct().code, *found.get(tid, [])]
        if not any(same_code(code, k) for k in kept):
            found.setdefault(tid, []).append(code)
    return found
