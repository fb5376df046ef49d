"""The 6-point rubric judge (DESIGN.md): any Generator grades answers; replies parsed robustly.

A reply that yields no score is counted as unparsed (score None), never scored 0, so a judge
that ignores the format shows up in the report instead of dragging the mean down.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from codistill.models.base import Generator, Request, Sampling
from codistill.prompting import language_vars, render
from codistill.records import Problem

RUBRIC: dict[str, int] = {
    "basic_functionality": 2,
    "boundary_checks": 1,
    "requirement_coverage": 1,
    "readability": 1,
    "coding_practice": 1,
}
MAX_SCORE = sum(RUBRIC.values())

# Other names judges use for the same criteria (after lower-casing and joining words with _).
ALIASES = {
    "functionality": "basic_functionality", "basic": "basic_functionality",
    "correctness": "basic_functionality",
    "boundary": "boundary_checks", "boundary_check": "boundary_checks",
    "edge_cases": "boundary_checks", "boundary_conditions": "boundary_checks",
    "requirements": "requirement_coverage", "requirement": "requirement_coverage",
    "requirements_coverage": "requirement_coverage",
    "readability_documentation": "readability", "readability_and_documentation": "readability",
    "documentation": "readability",
    "practice": "coding_practice", "coding_practices": "coding_practice",
    "best_practices": "coding_practice", "code_quality": "coding_practice",
}
TOTAL_KEYS = ("total", "score", "total_score", "overall", "final_score")
JUDGE_SAMPLING = Sampling(temperature=0.0, max_new_tokens=256)


@dataclass
class Judgment:
    """One graded answer: total (None when the reply could not be read) and points per criterion."""

    score: float | None
    parts: dict[str, float] = field(default_factory=dict)
    raw: str = ""
    parsed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _key(name: str) -> str | None:
    key = re.sub(r"[^a-z]+", "_", name.lower()).strip("_")
    key = ALIASES.get(key, key)
    return key if key in RUBRIC or key in TOTAL_KEYS else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and (m := re.search(r"-?\d+(?:\.\d+)?", value)):
        return float(m.group())
    if isinstance(value, dict):
        for inner in ("score", "points", "value"):
            if inner in value:
                return _number(value[inner])
    return None


def _objects(text: str) -> list[dict[str, Any]]:
    """Every JSON object in the text, fenced or inline, outermost first."""
    found = []
    for start in [m.start() for m in re.finditer(r"\{", text)]:
        depth, in_string, escape = 0, False, False
        for end in range(start, len(text)):
            ch = text[end]
            if in_string:
                escape = not escape and ch == "\\"
                if ch == '"' and not escape:
                    in_string = False
                continue
            if ch == '"':
                in_string = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    try:
                        obj = json.loads(text[start : end + 1])
                    except json.JSONDecodeError:
                        obj = None
                    if isinstance(obj, dict):
                        found.append(obj)
                    break
    return found


def _from_mapping(obj: dict[str, Any]) -> tuple[dict[str, float], float | None]:
    parts: dict[str, float] = {}
    total = None
    for name, value in obj.items():
        if isinstance(value, dict) and not any(k in value for k in ("score", "points", "value")):
            inner, inner_total = _from_mapping(value)  # {"scores": {...}}
            parts.update(inner)
            total = total if inner_total is None else inner_total
            continue
        key, number = _key(str(name)), _number(value)
        if key is None or number is None:
            continue
        if key in RUBRIC:
            parts[key] = min(max(number, 0.0), float(RUBRIC[key]))
        else:
            total = min(max(number, 0.0), float(MAX_SCORE))
    return parts, total


_LINE = re.compile(r"^[\s*#>\-]*([A-Za-z][A-Za-z /_&-]{2,40}?)\**\s*[:=\-]\s*\**\s*(\d+(?:\.\d+)?)"
                   r"(?:\s*(?:/|out of)\s*\d+)?", re.MULTILINE)
_TOTAL = re.compile(r"(\d+(?:\.\d+)?)\s*(?:/|out of)\s*6\b", re.IGNORECASE)


def parse_judgment(text: str) -> Judgment:
    """Read a judge's reply: a JSON object (fenced or not), else criterion lines, else "4/6"."""
    best: tuple[dict[str, float], float | None] = ({}, None)
    for obj in _objects(text):
        parts, total = _from_mapping(obj)
        if len(parts) > len(best[0]) or (total is not None and best[1] is None and not best[0]):
            best = (parts, total)
    parts, total = best
    if len(parts) < len(RUBRIC) and total is None:
        line_parts: dict[str, float] = {}
        for name, value in _LINE.findall(text):
            key = _key(name)
            if key in RUBRIC:
                line_parts.setdefault(key, min(float(value), float(RUBRIC[key])))
            elif key in TOTAL_KEYS and total is None:
                total = min(float(value), float(MAX_SCORE))
        if len(line_parts) > len(parts):
            parts = line_parts
    if len(parts) == len(RUBRIC):
        return Judgment(sum(parts.values()), parts, text, True)
    if total is None and (m := _TOTAL.search(text)):
        total = min(float(m.group(1)), float(MAX_SCORE))
    if total is not None:
        return Judgment(total, parts, text, True)
    return Judgment(None, parts, text, False)


def judge_request(problem: Problem, code: str, verdict: str | None = None) -> Request:
    """The chat request asking the judge to grade one answer."""
    values = language_vars(problem.language)
    return Request.user(render("judge", task=problem.question or problem.prompt, code=code,
                               verdict=verdict or "", **values))


def judge_answers(judge: Generator, items: Sequence[tuple[Problem, str]], *,
                  verdicts: Sequence[str | None] | None = None,
                  sampling: Sampling = JUDGE_SAMPLING, progress: Any = None) -> list[Judgment]:
    """Grade each (problem, code) with the rubric; greedy, so cached replies are reused."""
    if verdicts is not None and len(verdicts) != len(items):
        raise ValueError("verdicts must match items one to one")
    requests = [judge_request(p, code, verdicts[i] if verdicts else None)
                for i, (p, code) in enumerate(items)]
    generations = judge.generate(requests, sampling, progress) if requests else []
    return [parse_judgment(g.text) for g in generations]


def summarize(judgments: Sequence[Judgment]) -> dict[str, Any]:
    """Mean score over parsed judgments, how many were parsed and unparsed, mean per criterion."""
    scored = [j for j in judgments if j.score is not None]
    per_part = {key: [j.parts[key] for j in scored if key in j.parts] for key in RUBRIC}
    return {
        "mean": sum(j.score for j in scored) / len(scored) if scored else None,  # type: ignore[misc]
        "max": MAX_SCORE,
        "scored": len(scored),
        "unparsed": len(judgments) - len(scored),
        "parts": {k: sum(v) / len(v) for k, v in per_part.items() if v},
    }
