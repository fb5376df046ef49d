"""Training rows in TRL's conversational format, built from problems and code (or a run's verified
solutions: `build_rows`), checked before training.

The user message is always `solve_prompt(problem)` and the assistant message `answer_text(code,
language)`: the student is trained on exactly the request it is later asked.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from codistill.jsonl import RecordError, iter_json, write_text_atomic
from codistill.prompting import answer_text, solve_prompt
from codistill.records import Problem, Taught

Kind = Literal["sft", "dpo", "grpo"]
COLUMNS: dict[str, tuple[str, ...]] = {
    "sft": ("prompt", "completion"),
    "dpo": ("prompt", "chosen", "rejected"),
    "grpo": ("prompt",),
}


def _user(problem: Problem) -> list[dict[str, str]]:
    return [{"role": "user", "content": solve_prompt(problem)}]


def _assistant(code: str, language: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": answer_text(code, language)}]


class _Ids:
    """Row ids: the problem id, with '#2', '#3' ... when a problem gives several rows."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, problem_id: str) -> str:
        count = self.seen[problem_id] = self.seen.get(problem_id, 0) + 1
        return problem_id if count == 1 else f"{problem_id}#{count}"


def _words(text: str) -> str:
    return " ".join(text.split())


def drop_restated_docstrings(code: str, problem: Problem) -> str:
    """Python code without the docstrings that repeat the question (the prompt's own docstring).

    Teacher answers to "complete this function" copy the prompt's docstring: on the gain
    benchmark's rows that was 55% of the answer tokens, so most of the loss went to copying the
    question rather than to the code that answers it. Other languages, code that does not parse
    and docstrings the question does not contain are returned unchanged.
    """
    if problem.language != "python":
        return code
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    asked = _words(problem.prompt + "\n" + problem.question)
    drop: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or len(node.body) < 2:
            continue  # a function that is only a docstring keeps it: its body must not be empty
        first = node.body[0]
        doc = ast.get_docstring(node, clean=True)
        if doc and isinstance(first, ast.Expr) and _words(doc) in asked and first.end_lineno:
            drop.update(range(first.lineno, first.end_lineno + 1))
    if not drop:
        return code
    lines = code.splitlines(keepends=True)
    return "".join(line for number, line in enumerate(lines, start=1) if number not in drop)


def _answer(code: str, problem: Problem, docstrings: bool) -> list[dict[str, str]]:
    return _assistant(code if docstrings else drop_restated_docstrings(code, problem), problem.language)


def sft_rows(pairs: Iterable[tuple[Problem, str]], *, docstrings: bool = True) -> list[dict[str, Any]]:
    """Prompt/completion rows from (problem, correct code) pairs.

    `docstrings=False` drops docstrings that repeat the question from the answers.
    """
    ids = _Ids()
    return [{"id": ids(p.id), "prompt": _user(p), "completion": _answer(code, p, docstrings)}
            for p, code in pairs]


def dpo_rows(triples: Iterable[tuple[Problem, str, str]], *, docstrings: bool = True) -> list[dict[str, Any]]:
    """Preference rows from (problem, correct code, faulty code) triples: chosen = correct.

    `docstrings=False` drops docstrings that repeat the question from both answers.
    """
    ids = _Ids()
    return [{"id": ids(p.id), "prompt": _user(p), "chosen": _answer(good, p, docstrings),
             "rejected": _answer(bad, p, docstrings)} for p, good, bad in triples]


def grpo_rows(problems: Iterable[Problem], **columns: Iterable[Any]) -> list[dict[str, Any]]:
    """GRPO prompt rows; extra columns (e.g. tests=[...]) reach the reward functions as kwargs."""
    problems = list(problems)
    extra = {name: list(values) for name, values in columns.items()}
    for name, values in extra.items():
        if len(values) != len(problems):
            raise ValueError(f"column {name!r} has {len(values)} values for {len(problems)} problems")
    return [{"id": p.id, "prompt": _user(p), **{k: v[i] for k, v in extra.items()}}
            for i, p in enumerate(problems)]


def build_rows(taught: list[Taught], *, no_fault_learning: bool = False, docstrings: bool = True,
               student_answers: Mapping[str, str] | None = None,
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """SFT rows from correct solutions, DPO rows from (correct, faulty) pairs.

    SODA splits questions 8:2: the SFT share trains on the correct solution, the DPO share on
    (correct, faulty) pairs. A DPO-share question with no verified faulty solution, and every
    question under the no-fault-learning ablation, goes to SFT instead, so no verified solution is
    wasted. An adversarial (AKD) question also pairs the teacher's solution against the student's
    own wrong answer (`student_answers`: question id -> the answer the adversary stage recorded).
    `docstrings=False` leaves out of every answer the
    docstrings that repeat the question (`train.restated_docstrings`).
    """
    pairs: list[tuple[Problem, str]] = []
    triples: list[tuple[Problem, str, str]] = []
    for t in taught:
        correct = t.correct()
        if not t.kept or correct is None:
            continue
        faulty = [] if no_fault_learning else t.faulty()
        rejected = (student_answers or {}).get(t.problem.id)
        if t.split == "sft" or not faulty:
            pairs.append((t.problem, correct.code))
        else:
            triples += [(t.problem, correct.code, f.code) for f in faulty]
        if rejected and not no_fault_learning:
            triples.append((t.problem, correct.code, rejected))
    return sft_rows(pairs, docstrings=docstrings), dpo_rows(triples, docstrings=docstrings)


def _is_messages(value: Any) -> bool:
    return (isinstance(value, list) and bool(value) and all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
        for m in value))


def check_rows(rows: Iterable[dict[str, Any]], kind: Kind, source: str = "rows") -> list[dict[str, Any]]:
    """Return the rows as a list; raise ValueError naming the first bad row and what it lacks."""
    rows = list(rows)
    if not rows:
        raise ValueError(f"{source}: no {kind} training rows; build them with codistill.train.{kind}_rows")
    for index, row in enumerate(rows):
        named = isinstance(row, dict) and "id" in row
        where = f"{source}: row {index + 1}" + (f" (id {row['id']!r})" if named else "")
        if not isinstance(row, dict):
            raise ValueError(f"{where}: a row must be a JSON object, not {type(row).__name__}")
        for column in COLUMNS[kind]:
            if column not in row:
                raise ValueError(f"{where}: missing {column!r}; {kind} rows need {', '.join(COLUMNS[kind])}")
            if not _is_messages(row[column]):
                raise ValueError(f"{where}: {column!r} must be a non-empty list of "
                                 "{\"role\": ..., \"content\": ...} messages")
        if row["prompt"][-1]["role"] != "user":
            raise ValueError(f"{where}: the prompt's last message must be the user's")
        for column in COLUMNS[kind][1:]:
            if row[column][0]["role"] != "assistant":
                raise ValueError(f"{where}: {column!r} must be assistant messages")
    return rows


def write_rows(rows: Iterable[dict[str, Any]], path: Path) -> Path:
    """Write rows as JSONL (atomically: a killed writer leaves no half file)."""
    return write_text_atomic(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def read_rows(path: str | Path, kind: Kind) -> list[dict[str, Any]]:
    """Read and check a TRL-format JSONL training file; a RecordError names the file and line."""
    path = Path(path)
    if not path.is_file():
        raise RecordError(f"{path}: no such file", hint=f"give the {kind} rows' JSONL file "
                          "(`codistill.train.export_datasets` writes one)")
    rows = [row for _, row in iter_json(path)]
    try:
        return check_rows(rows, kind, source=str(path))
    except ValueError as exc:
        # Rows read from the user's file: theirs to fix, so no traceback; built rows stay bugs.
        raise RecordError(str(exc), hint=f"fix or delete that row of {path.name}") from None
