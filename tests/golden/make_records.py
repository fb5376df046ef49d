"""Golden records: a fixed run of the record-producing stages on scripted fake models.

    python -m tests.golden.make_records --update      # rewrite tests/golden/records/
    python -m tests.golden.make_records --out DIR     # write somewhere else, e.g. to compare

Each part runs the stages on the literal inputs of tests/golden/scripts.py with the real sandbox
and writes what they produce, one JSONL file per stage output, normalised (see DROPPED and
`replacements`) so that two runs on one machine give the same bytes. The "python" part always
runs; the "javascript" and "c" parts only where their toolchains are installed, and
manifest.json says which parts ran and with which toolchain versions (compiler messages are kept
verbatim, so records are only comparable between equal versions).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel
from tests.golden import scripts as s

from codistill.cache import RequestCache
from codistill.config import Ablation, Coevolve, Curriculum, Examine, Teach
from codistill.evaluate import evaluate_model, load_benchmark
from codistill.evaluate.decontam import Decontaminator
from codistill.evaluate.results import RESULTS_FILE
from codistill.evaluate.runner import JUDGMENTS_FILE, SAMPLES_FILE, SETTINGS_FILE, Mode
from codistill.jsonl import Appender, iter_json
from codistill.models.base import Request, Sampling
from codistill.models.fake import FakeGenerator, prompt_text
from codistill.sandbox import Limits, languages
from codistill.sandbox.isolation import sandbox_python
from codistill.stages.adversary import adversary_stage
from codistill.stages.coevolve_state import (
    RoundState,
    after_code_phase,
    after_tests_phase,
    code_rows,
    pick_questions,
    tests_rows,
)
from codistill.stages.context import StageContext
from codistill.stages.curriculum import curriculum_stage
from codistill.stages.examine import examine_stage
from codistill.stages.questions import grow_questions, writer_sampling
from codistill.stages.teach import teach_stage
from codistill.train.datasets import build_rows
from codistill.train.rewards import TestRunner, code_reward, test_reward

RECORDS = Path(__file__).resolve().parent / "records"
MANIFEST = "manifest.json"
UPDATE_HINT = ("If the change is intended, regenerate with `python -m tests.golden.make_records --update` "
               "and list the change in the issue note.")
# Fields left out of every record, at any depth, because they are not behaviour: they differ
# between two runs of the same code.
DROPPED = {
    "seconds": "wall time of a stage, or a sample's share of generation time",
    "wall_s": "an evaluation's wall time",
    "generation_s": "model seconds summed over samples (0 for a fake, but a cache hit also gives 0)",
    "created": "the results file's timestamp",
}
# Bounded so a timeout costs little, yet far above what the other programs need under load.
LIMITS = Limits(timeout_s=3.0)
WORKERS = 2  # the sandbox's parallelism; verdicts come back in input order whatever it is
SEED = 0
CTX = StageContext(limits=LIMITS, seed=SEED, workers=WORKERS)


def replacements(scratch: Path) -> dict[str, str]:
    """Machine-specific text in messages and what replaces it: the temporary folder, the path of
    the sandbox's Python (named in every missing-module message)."""
    python = sandbox_python().packages_of or sys.executable
    return {str(scratch): "<scratch>", python: "<python>"}


def normal(value: Any, replace: dict[str, str]) -> Any:
    """`value` as plain JSON data, without the DROPPED fields and with `replace` applied to text."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: normal(v, replace) for k, v in value.items() if k not in DROPPED}
    if isinstance(value, list | tuple):
        return [normal(v, replace) for v in value]
    if isinstance(value, str):
        for old, new in replace.items():
            value = value.replace(old, new)
    return value


@dataclass
class Part:
    """What one part of the run produced: records per file name, and the prompts its fakes saw."""

    name: str
    files: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, file: str, records: list[Any]) -> None:
        """Store the records of one output file (kept in the order given)."""
        self.files[file] = list(records)

    def stat(self, stage: str, stats: Any) -> None:
        """Append one stage's counters to stats.jsonl."""
        data = (stats.model_dump(mode="json") if isinstance(stats, BaseModel) else
                asdict(stats) if is_dataclass(stats) and not isinstance(stats, type) else dict(stats))
        self.files.setdefault("stats", []).append({"stage": stage, **data})

    def prompts(self, stage: str, *models: FakeGenerator) -> None:
        """Pin every request the models saw: sampling in full, the text by digest and first line.

        Fakes answer by function name, so reworded prompts would not change a record; this does.
        """
        rows = self.files.setdefault("prompts", [])
        for model in models:
            requests = [(call.sampling, request) for call in model.calls for request in call.requests]
            for number, (sampling, request) in enumerate(requests):
                text = prompt_text(request)
                digest = hashlib.sha256(json.dumps(request.to_dict(), sort_keys=True).encode()).hexdigest()
                rows.append({"stage": stage, "model": model.name, "request": number,
                             "sampling": sampling.to_dict(), "sha256": digest[:16],
                             "chars": len(text), "first_line": text.splitlines()[0][:100] if text else ""})


def _examine(part: Part) -> None:
    """Stage II three ways: independent views, a judge told the verdict, execution ablated."""
    variants = [("examine", Examine(), Ablation(), s.EXAMINE_PROBLEMS),
                ("examine_judge_sees_verdict", Examine(judge_sees_verdict=True), Ablation(),
                 s.EXAMINE_PROBLEMS[:2]),
                ("examine_no_execution", Examine(), Ablation(no_execution=True), s.EXAMINE_PROBLEMS[:2])]
    for name, settings, ablation, problems in variants:
        student, judge = s.student(s.EXAMINE_ANSWERS), s.judge()
        answers, stats = examine_stage(problems, student, judge, settings, ablation, CTX)
        part.add(name, answers)
        part.stat(name, stats)
        part.prompts(name, student, judge)


def _evolved(part: Part, name: str, out: Path) -> None:
    """The Evolved records a stage III stage appended to `out`, in the order it wrote them."""
    part.add(name, [json.loads(line) for line in out.read_text().splitlines()])


def _summary(result: Any) -> dict[str, Any]:
    """A CurriculumResult's numbers (its problems are in the records already)."""
    return {"counts": result.counts, "bucket_sizes": result.bucket_sizes, "plan": result.plan,
            "notes": result.notes, "tokens": result.tokens, "kept": [p.id for p in result.problems]}


def _stage_three(part: Part, scratch: Path) -> None:
    """SODA's curriculum (evolve_slots and its screening) and AKD's adversary."""
    bench = Decontaminator(problems=[s.BENCHMARK])
    parents = {p.id: p for p in (s.parent(i) for i in range(11))}
    teacher = s.by_parent(s.CURRICULUM_REPLIES)
    with Appender(scratch / "curriculum.jsonl") as out:
        result = curriculum_stage(parents, list(s.CURRICULUM_ANSWERS), teacher,
                                  Curriculum(new_questions=10, ratio=(1.0, 1.0, 8.0)), Ablation(),
                                  CTX.replace(seed=3, out=out), cycle=2,
                                  pool=[*parents.values(), s.POOL_EXTRA], decontaminator=bench, chunk=4)
    _evolved(part, "curriculum", scratch / "curriculum.jsonl")
    part.stat("curriculum", _summary(result))
    part.prompts("curriculum", teacher)

    parents = {p.id: p for p in (s.parent(i) for i in range(5))}
    teacher, student = s.by_parent(s.ADVERSARY_REPLIES), s.student(s.ADVERSARY_STUDENT)
    with Appender(scratch / "adversary.jsonl") as out:
        result = adversary_stage(parents, list(s.ADVERSARY_ANSWERS), teacher, student,
                                 Curriculum(new_questions=4), CTX.replace(seed=1, out=out), cycle=1,
                                 pool=list(parents.values()), decontaminator=bench)
    _evolved(part, "adversary", scratch / "adversary.jsonl")
    part.stat("adversary", _summary(result))
    part.prompts("adversary", teacher, student)


def _questions(part: Part, scratch: Path) -> None:
    """Teacher-written practice questions, screened and settled by agreement."""
    writer = s.question_writer(s.QUESTIONS, s.QUESTION_ANSWERS)
    with Appender(scratch / "questions.jsonl") as out:
        _, stats = grow_questions(writer, len(s.QUESTIONS), writer_sampling(0.8, 0.95, 512, SEED),
                                  CTX.replace(out=out), decontaminator=Decontaminator(problems=[s.BENCHMARK]),
                                  batch_size=4)
    part.add("questions", [row for _, row in iter_json(scratch / "questions.jsonl")])
    part.stat("questions", stats)
    part.prompts("questions", writer)


def _evaluate(part: Part, scratch: Path, name: str, rows: list[dict[str, Any]], model: FakeGenerator, *,
              mode: Mode = "chat", judge: FakeGenerator | None = None) -> None:
    """evaluate_model on a JSONL benchmark written from `rows`: samples, judgments and results."""
    bench = scratch / f"{name}.jsonl"
    bench.write_text("".join(json.dumps(row) + "\n" for row in rows))
    problems = load_benchmark(f"jsonl:{bench}")
    out = scratch / name
    evaluate_model(model, problems, out_dir=out, mode=mode, limits=LIMITS, ks=(1,), progress=False,
                   judge=judge, cache=RequestCache(scratch / f"{name}.sqlite"), workers=WORKERS)
    samples = [json.loads(line) for line in (out / SAMPLES_FILE).read_text().splitlines()]
    # samples.jsonl is appended chunk by chunk as execution finishes: its order is no contract.
    part.add(f"{name}_samples", sorted(samples, key=lambda r: (r["task_id"], r["index"])))
    if judge is not None:
        part.add(f"{name}_judgments", [json.loads(line) for line in (out / JUDGMENTS_FILE).read_text().splitlines()])
    part.add(f"{name}_results", [{"file": f, **json.loads((out / f).read_text())}
                                 for f in (SETTINGS_FILE, RESULTS_FILE)])
    part.prompts(name, model, *([judge] if judge else []))


def snapshot(state: RoundState) -> dict[str, Any]:
    """A copy of the state as it is now (to_dict shares the live dicts, which later phases change)."""
    return json.loads(json.dumps(state.to_dict()))


def _coevolve(part: Part) -> None:
    """Code-A1 without training: two rounds of rewards on scripted samples, folded into the state."""
    settings = Coevolve(group_size=2, tests_per_question=2, mistake_book_k=2, blacklist_after=1)
    problems = {p.id: p for p in s.COEVOLVE_PROBLEMS}
    runner = TestRunner(LIMITS, workers=WORKERS)
    state = RoundState(code_model="code-0", test_model="tests-0")
    code_records: list[dict[str, Any]] = []
    test_records: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    tester = s.test_model()
    coders = []
    for round_ in (1, 2):
        step = SimpleNamespace(global_step=round_)
        active = [p for p in s.COEVOLVE_PROBLEMS if not state.book.banned(p.id)]
        questions = pick_questions(active, state, settings.questions_per_step, seed=SEED)
        rows = code_rows(questions, state, settings)
        coder = s.code_model(round_)
        coders.append(coder)
        gens = coder.generate([Request.chat(*row["prompt"]) for row in rows],
                              Sampling(n=settings.group_size, temperature=1.0,
                                       max_new_tokens=settings.max_new_tokens, seed=SEED))
        group = [(row, text) for row, gen in zip(rows, gens, strict=True) for text in gen.texts]
        records: list[dict[str, Any]] = []
        code_reward([text for _, text in group], question_id=[r["question_id"] for r, _ in group],
                    tests=[r["tests"] for r, _ in group], problems=problems, runner=runner,
                    record=records.append, trainer_state=step)
        code_records += [{"round": round_, **r} for r in records]
        banned = after_code_phase(state, records, questions, settings)
        states.append({"round": round_, "phase": "code", "banned": banned, "state": snapshot(state)})

        rows = tests_rows(questions, state, settings)
        gens = tester.generate([Request.chat(*row["prompt"]) for row in rows],
                               Sampling(max_new_tokens=settings.max_new_tokens, seed=SEED))
        records, metrics = [], {}
        test_reward([g.text for g in gens], question_id=[r["question_id"] for r in rows],
                    code_samples=[r["code_samples"] for r in rows], problems=problems, runner=runner,
                    alpha=settings.alpha, record=records.append, log_metric=metrics.__setitem__,
                    trainer_state=step)
        test_records += [{"round": round_, **r} for r in records]
        after_tests_phase(state, records, settings)
        states.append({"round": round_, "phase": "tests", "metrics": metrics, "state": snapshot(state)})
    part.add("code_rewards", code_records)
    part.add("test_rewards", test_records)
    part.add("coevolve_state", states)
    part.prompts("coevolve", *coders, tester)


def python_part(part: Part, scratch: Path) -> None:
    """Every stage on Python questions."""
    teacher = s.teacher(s.TEACH_CORRECT, s.TEACH_FAULTY, s.TEACH_TESTS)
    taught, stats = teach_stage(s.TEACH_PROBLEMS, teacher, Teach(mutation_share=1.0), CTX, batch_size=4,
                                fallback_to_reference=True)
    part.add("teach", taught)  # in the stage's seeded order, which training rows follow
    part.stat("teach", stats)
    part.prompts("teach", teacher)
    sft, dpo = build_rows(taught)  # what training would be given: the stored code, not the run one
    part.add("train_rows", [{"kind": "sft", **row} for row in sft] + [{"kind": "dpo", **row} for row in dpo])
    _examine(part)
    _stage_three(part, scratch)
    _questions(part, scratch)
    _evaluate(part, scratch, "evaluate", s.EVAL_ROWS, s.student(s.EVAL_CHAT), judge=s.judge())
    _evaluate(part, scratch, "evaluate_completion", s.EVAL_ROWS[:2], s.completion_model(s.EVAL_COMPLETION),
              mode="completion")
    _coevolve(part)


def javascript_part(part: Part, scratch: Path) -> None:
    """Stage I and an evaluation in JavaScript."""
    teacher = s.teacher(s.JS_TEACH_CORRECT, s.JS_TEACH_FAULTY, {})
    taught, stats = teach_stage([s.JS_TEACH], teacher, Teach(), CTX)
    part.add("teach", taught)
    part.stat("teach", stats)
    part.prompts("teach", teacher)
    _evaluate(part, scratch, "evaluate", s.JS_ROWS, s.student(s.JS_ANSWERS))


def c_part(part: Part, scratch: Path) -> None:
    """An evaluation in C: a pass, a compile error and a failed assertion."""
    _evaluate(part, scratch, "evaluate", s.C_ROWS, s.student(s.C_ANSWERS))


PARTS: dict[str, Callable[[Part, Path], None]] = {"python": python_part, "javascript": javascript_part,
                                                  "c": c_part}
VERSION_COMMANDS = {"javascript": ["node", "--version"], "c": ["gcc", "-dumpfullversion"]}


def toolchain(language: str) -> str:
    """The version of the toolchain whose messages end up in a part's records."""
    if language == "python":
        return sandbox_python().version
    command = VERSION_COMMANDS[language]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


def ready(language: str) -> str | None:
    """None when the language's toolchain is usable here, else what to install (as the sandbox
    tests decide: tests/sandbox/sandbox_helpers.py `usable`)."""
    return languages.available().get(language)


@contextmanager
def isolated_home(folder: Path) -> Iterator[None]:
    """Run with codistill's caches in `folder` (no reuse of the user's request or compile caches)."""
    old = os.environ.get("CODISTILL_HOME")
    os.environ["CODISTILL_HOME"] = str(folder)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("CODISTILL_HOME", None)
        else:
            os.environ["CODISTILL_HOME"] = old


def write_records(folder: Path) -> dict[str, Path]:
    """Run every part whose toolchain is here; write <part>/<file>.jsonl and manifest.json into
    `folder`. Returns {relative name: path} of everything written."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    manifest: dict[str, Any] = {"about": __doc__.strip().splitlines()[0], "dropped_fields": DROPPED,
                                "parts": {}, "files": {}}
    with tempfile.TemporaryDirectory(prefix="codistill-golden-") as tmp:
        scratch = Path(tmp).resolve()
        replace = replacements(scratch)
        with isolated_home(scratch / "home"):
            for name, run in PARTS.items():
                missing = ready(name)
                if missing is not None:
                    manifest["parts"][name] = {"ran": False, "why": f"toolchain missing: install {missing}"}
                    continue
                part = Part(name)
                (scratch / name).mkdir()
                run(part, scratch / name)
                manifest["parts"][name] = {"ran": True, "toolchain": toolchain(name)}
                for file, records in part.files.items():
                    rel = f"{name}/{file}.jsonl"
                    path = folder / rel
                    path.parent.mkdir(parents=True, exist_ok=True)
                    # Keys sorted: field order is no behaviour, and a reordered model must not churn.
                    lines = [json.dumps(normal(r, replace), sort_keys=True, ensure_ascii=False)
                             for r in records]
                    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
                    written[rel] = path
                    manifest["files"][rel] = len(lines)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    written[MANIFEST] = folder / MANIFEST
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: --update rewrites the committed records, --out writes them elsewhere."""
    parser = argparse.ArgumentParser(prog="python -m tests.golden.make_records", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--update", action="store_true", help=f"rewrite {RECORDS}")
    target.add_argument("--out", type=Path, help="write the records into this folder instead")
    args = parser.parse_args(argv)
    folder = RECORDS if args.update else args.out
    if args.update and folder.exists():
        shutil.rmtree(folder)  # a file no part writes any more must not linger
    written = write_records(folder)
    manifest = json.loads(written[MANIFEST].read_text())
    for name, info in manifest["parts"].items():
        print(f"{name}: {'ran' if info['ran'] else info['why']}")
    print(f"{len(written)} files in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
