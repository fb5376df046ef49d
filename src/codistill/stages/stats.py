"""What each stage records in the manifest when it finishes, as types both writer and reader use.

A stage finishes with one of these (`Stage.finish`); the run report, the summary and
`codistill compare` read them back with `Stage.stats` / `stats_of`, so a renamed field fails at
the writer's call or in validation instead of blanking a report column. Only pydantic here:
the report imports this module without loading models or the sandbox.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, computed_field, model_validator

S = TypeVar("S", bound="StageStats")
# Keys older runs wrote into their stats that now live elsewhere (the trained model's folder is
# the stage entry's `model`): dropped on reading, so those runs still report.
MOVED = frozenset({"model_dir"})


class CacheUse(BaseModel):
    """Request-cache hits and misses during one stage."""

    model_config = ConfigDict(extra="forbid")
    hits: int = 0
    misses: int = 0


class StageStats(BaseModel):
    """What every stage records: its wall time and, when it asked models, the request cache's use."""

    model_config = ConfigDict(extra="forbid")
    seconds: float = 0.0
    cache: CacheUse | None = None

    def add(self, key: str, n: int = 1) -> None:
        """Increase one of `counts` (for the stages that count outcomes)."""
        counts: dict[str, int] = getattr(self, "counts")  # noqa: B009 - defined by the subclass
        counts[key] = counts.get(key, 0) + n


class EvalStats(StageStats):
    """pass@k per benchmark of one model (the student of a cycle, or Code-A1's Code model)."""

    pass_at_k: dict[str, dict[str, float]]
    model: str = ""
    tasks: dict[str, int] = {}  # benchmark -> tasks evaluated
    passed: dict[str, int] = {}  # benchmark -> tasks solved by the greedy answer

    @model_validator(mode="before")
    @classmethod
    def _older_layouts(cls, data: Any) -> Any:
        """Read the layouts runs made before this type: `student`, and Code-A1's `results`."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "student" in data:
            data["model"] = data.pop("student")
        if "results" in data:
            results = data.pop("results")
            data["pass_at_k"] = {b: {k: v for k, v in r.items() if k.startswith("pass@")}
                                 for b, r in results.items()}
            data["tasks"] = {b: r["tasks"] for b, r in results.items() if "tasks" in r}
            data["passed"] = {b: r["passed"] for b, r in results.items() if "passed" in r}
        return data


class QuestionStats(StageStats):
    """Question slots written, and what became of them (counted from rows: a resume counts all)."""

    counts: dict[str, int] = {}
    teacher_tokens: int = 0


class TeachStats(StageStats):
    """What stage I generated, kept and dropped, and why (counted from its Taught records)."""

    counts: dict[str, int] = {}
    fault_types: dict[str, int] = {}  # requested class, of kept faults
    # requested -> observed -> count, over the teacher's faulty attempts that ran: a requested
    # class the verdict does not show (or no fault at all: "none") is a miss for the teacher
    fault_matrix: dict[str, dict[str, int]] = {}
    teacher_tokens: int = 0


class TrainRun(BaseModel):
    """One training call of a stage (SFT, logit distillation or DPO)."""

    model_config = ConfigDict(extra="forbid")
    steps: int
    loss: float | None = None
    seconds: float = 0.0
    metrics: dict[str, Any] | None = None  # DPO's reward margins and accuracies


class TrainStats(StageStats):
    """Rows trained on and each training call's outcome; the model is the stage entry's `model`."""

    sft_rows: int = 0
    dpo_rows: int = 0
    exports: dict[str, str] = {}
    sft: TrainRun | None = None
    kd: TrainRun | None = None
    dpo: TrainRun | None = None
    reused_training: str = ""  # the key of an identical training whose model was reused


class JudgeViews(BaseModel):
    """How often the judge's grade and the tests say the same about the student's answers."""

    model_config = ConfigDict(extra="ignore")  # `agreement` is computed, not read back
    compared: int = 0  # answers both executed and graded
    agree: int = 0  # of those, where the two views agree
    judge_saw_verdict: bool = False

    @computed_field  # type: ignore[prop-decorator]
    @property
    def agreement(self) -> float | None:
        """Share of compared answers where the two views agree (None when none compared)."""
        return round(self.agree / self.compared, 4) if self.compared else None


class ExamineStats(StageStats):
    """Stage II's outcomes, counted from its Answer records (so a resumed stage counts all)."""

    counts: dict[str, int] = {}
    student_tokens: int = 0
    judge_unparsed: int = 0
    views: JudgeViews = JudgeViews()


class ScorerCheck(BaseModel):
    """A scoring model's grades against the judge's on held-out annotations."""

    model_config = ConfigDict(extra="forbid")
    annotations: int  # held-out judged answers it graded
    parsed: int  # of those, grades that could be read
    within_one: float | None = None  # share within one point of the judge's (unreadable = miss)
    exact: float | None = None  # share with the judge's total (to the point)
    mae: float | None = None  # mean absolute difference over the readable ones

    def passes(self, min_annotations: int, min_within_one: float) -> bool:
        """True when enough annotations were checked and enough grades were within one point."""
        return (self.annotations >= min_annotations and self.within_one is not None
                and self.within_one >= min_within_one)

    def line(self) -> str:
        """One readable line of the figures."""
        if not self.annotations:
            return "no held-out annotations"
        mae = f"{self.mae:.2f}" if self.mae is not None else "n/a"
        return (f"within one point {self.within_one:.0%}, exact {self.exact:.0%}, MAE {mae} on "
                f"{self.annotations} held-out annotations ({self.annotations - self.parsed} unreadable)")


class ScorerStats(StageStats):
    """SODA's trained scoring model: what it learnt from, how it did, whether it grades."""

    annotations: int
    trained_on: int
    validation: ScorerCheck
    used: bool


class CurriculumStats(StageStats):
    """Stage III: new-question slots and their fates, and the difficulty buckets they came from."""

    counts: dict[str, int] = {}
    bucket_sizes: dict[str, int] = {}
    teacher_tokens: int = 0


class CheckStats(StageStats):
    """Code-A1's question check: how many questions can take part."""

    questions: int
    usable: int


class PhaseStats(StageStats):
    """One Code-A1 GRPO phase: steps, its reward curve and the Mistake Book after it."""

    steps: int
    questions: int
    curve: list[dict[str, Any]] = []
    book_size: int = 0
    blacklisted: int = 0
    newly_blacklisted: list[str] = []
    programs_run: int = 0


def stats_of(entry: dict[str, Any], kind: type[S], *, loose: bool = False) -> S | None:
    """A manifest entry's stats as `kind`, or None when the stage has not finished.

    `loose` reads only the fields `kind` has and ignores the rest: for the figures every stage
    records (`StageStats`: time, cache) over stages of any kind.
    """
    if entry.get("status") != "done" or "stats" not in entry:
        return None
    data = {k: v for k, v in entry["stats"].items() if k not in MOVED}
    if loose:
        data = {k: v for k, v in data.items() if k in kind.model_fields}
    return kind.model_validate(data)
