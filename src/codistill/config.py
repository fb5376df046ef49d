"""Typed run configuration: YAML file + `--set key=value` overrides, validated in one place.

Every field has a default and help text; errors name the dotted key and what is allowed.
Defaults follow SODA (FSE 2025) where the paper gives a value.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from codistill.config_base import ConfigError, Section  # noqa: F401 - re-exported
from codistill.config_train import DPO, KD, SFT, Lora, Train  # noqa: F401 - re-exported
from codistill.records import LANGUAGES


class Models(Section):
    """Which model plays each role (spec syntax: docs/models.md)."""

    teacher: str = Field("embedded:teacher", description="model that writes solutions and questions")
    student: str = Field("embedded:student", description="model being distilled into")
    judge: str | None = Field(None, description="rubric judge; default: the teacher")
    test_model: str | None = Field(None, description="Code-A1 Test model; default: the student")
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = Field(
        "auto", description="weights dtype for local models; keep fixed across compared runs"
    )
    student_dtype: Literal["auto", "bfloat16", "float16", "float32"] | None = Field(
        None, description="dtype of the student and of every model trained from it when they "
        "answer (examination, evaluation); default: dtype. float32 on a CPU: a few training steps "
        "move weights by less than bf16 resolves, so a bf16 evaluation measures rounding, not training"
    )
    device: str = Field("auto", description="'auto', 'cpu', 'cuda', 'cuda:1', ...")
    batch_size: int = Field(8, ge=1, description="local generation batch size")
    concurrency: int = Field(8, ge=1, description="parallel requests to an HTTP endpoint")


class Generation(Section):
    """Decoding parameters for one role."""

    temperature: float = Field(0.0, ge=0.0, le=2.0, description="0 = greedy")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="nucleus sampling mass")
    max_new_tokens: int = Field(768, ge=16, le=32768, description="completion length cap")


def _grounded_sources() -> list[str]:
    from codistill.data.grounded import DEFAULT_SOURCES

    return list(DEFAULT_SOURCES)


class Data(Section):
    """Where the seed questions come from."""

    seeds: list[str] = Field(
        default_factory=lambda: ["bank"],
        description="'bank' (packaged seed bank), 'synth' (questions the teacher writes, see "
        "synth_questions), 'grounded' (questions the teacher writes from real code, see "
        "grounded_questions), JSONL paths of problems, or instruction sets",
    )
    languages: list[str] = Field(
        default_factory=lambda: ["python"], description=f"seed languages, from {LANGUAGES}"
    )
    limit_per_language: int | None = Field(
        None, ge=1, description="sample at most this many seeds per language (seeded)"
    )
    skip_bad_records: bool = Field(False, description="skip malformed input lines, with a count")
    decontaminate_against: list[str] = Field(
        ["humaneval", "mbpp"], min_length=1, description="benchmarks no training question may "
        "overlap (5-gram Jaccard >= 0.7); a name may carry a source, e.g. mbpp:/data/sanitized-mbpp.json")
    require_decontamination: bool = Field(
        False, description="stop the run when a benchmark's data cannot be loaded to decontaminate "
        "against (MBPP without a hub or local file); off: the run goes on, says which benchmarks it "
        "checked and which not, and records both in decontamination.json")
    synth_questions: int = Field(
        0, ge=0, description="with 'synth' in seeds: how many questions the teacher writes before "
        "cycle 1 (Python functions with examples; kept only when an independent teacher answer "
        "passes the examples)"
    )
    synth_generation: Generation = Field(
        default_factory=lambda: Generation(temperature=0.8, top_p=0.95, max_new_tokens=384),
        description="decoding of the question writer (sampled, for variety)"
    )

    grounded_questions: int = Field(
        0, ge=0, description="with 'grounded' in seeds: how many question slots the teacher writes "
        "from real functions (OSS-Instruct): a self-contained function's own behaviour settles the "
        "tests, any other only inspires a question settled like a synth one"
    )
    grounded_from: list[str] = Field(
        default_factory=lambda: _grounded_sources(), min_length=1,
        description="with 'grounded' in seeds: module names (read from their source files, never "
        "imported) or folders/files of your own Python code whose functions ground the questions"
    )

    @model_validator(mode="after")
    def _synth(self) -> Data:
        for source, count in (("synth", self.synth_questions), ("grounded", self.grounded_questions)):
            if source in self.seeds and not count:
                raise ValueError(f"seeds include '{source}' but {source}_questions is 0: set "
                                 f"data.{source}_questions to how many questions the teacher should write")
            if source in self.seeds and "python" not in self.languages:
                raise ValueError(f"'{source}' writes Python questions: add python to data.languages")
        return self

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        unknown = [lang for lang in value if lang not in LANGUAGES]
        if unknown:
            raise ValueError(f"unknown language(s) {unknown}; allowed: {list(LANGUAGES)}")
        return value


class Teach(Section):
    """Stage I: correct-and-fault delivery, verified by execution."""

    generation: Generation = Field(default_factory=Generation)
    faulty: bool = Field(True, description="also ask the teacher for a faulty solution")
    mutation_share: float = Field(
        0.5, ge=0.0, le=4.0, description="extra AST-mutated faulty variants per Python question"
    )
    write_missing_tests: bool = Field(True, description="teacher writes tests where none exist")
    sft_share: float = Field(0.8, gt=0.0, lt=1.0, description="share of questions for SFT (rest DPO)")
    reference_fallback: bool = Field(
        False, description="where the teacher fails a question, train on the question's shipped "
        "reference instead (reported; off in every gain measurement: the data is then not the "
        "teacher's)"
    )


class Examine(Section):
    """Stage II: the student answers the seeds; sandbox + judge score each answer."""

    generation: Generation = Field(default_factory=lambda: Generation(max_new_tokens=512))
    judge: bool = Field(True, description="score answers with the rubric judge")
    judge_sees_verdict: bool = Field(
        False, description="tell the judge whether the answer passed the tests; off (SODA's "
        "independent views): the judge grades the code alone, and the run reports how often its "
        "grade agrees with execution")
    scorer: Literal["judge", "trained"] = Field(
        "judge", description="trained: after cycle 1, a scoring model fine-tuned on the judge's "
        "annotations grades answers instead of the judge (SODA's option)")
    scorer_base: str = Field("embedded:student", description="model the scorer is trained from")
    scorer_min_annotations: int = Field(16, ge=1, description="fewer parsed judgments: keep judge")
    scorer_holdout: float = Field(0.2, gt=0.0, lt=1.0, description="share of the judge's annotations "
                                  "held out to validate the scoring model (never trained on)")
    scorer_min_validation: int = Field(100, ge=1, description="held-out annotations the scoring "
                                       "model must be checked on before it may grade")
    scorer_min_within_one: float = Field(0.8, ge=0.0, le=1.0, description="the scoring model grades "
                                         "only when this share of its held-out grades is within one "
                                         "point of the judge's")
    max_unparsed: float = Field(0.1, ge=0.0, le=1.0, description="a larger share of unreadable grades "
                                "in an examine stage stops the run (never a silent fallback)")


class Curriculum(Section):
    """Stage III: bucket questions by difficulty and let the teacher write new ones."""

    strategy: Literal["soda", "akd", "random"] = Field(
        "soda", description="soda: SODA buckets; akd: adversarial; random: no difficulty"
    )
    ratio: tuple[float, float, float] = Field(
        (1.0, 1.0, 2.0), description="easy:medium:hard share of new questions (paper 1:1:2)"
    )
    new_questions: int = Field(10000, ge=0, description="new questions per cycle (paper: 10K)")
    grow_pool: bool = Field(
        True, description="the next cycle works on this cycle's questions plus the new ones (SODA "
        "adds them to the seed knowledge); false: on the new questions alone"
    )
    easy_min_score: float = Field(4.0, description="pass and score >= this is easy")
    hard_max_score: float = Field(2.0, description="fail or score < this is hard")
    dedup_threshold: float = Field(0.7, gt=0.0, le=1.0, description="5-gram Jaccard duplicate")
    generation: Generation = Field(default_factory=lambda: Generation(temperature=0.7, top_p=0.95))

    @model_validator(mode="after")
    def _ratio(self) -> Curriculum:
        if any(r < 0 for r in self.ratio) or sum(self.ratio) <= 0:
            raise ValueError("ratio needs three non-negative shares with a positive sum")
        if self.hard_max_score > self.easy_min_score:
            raise ValueError("hard_max_score must not exceed easy_min_score")
        return self


class Ablation(Section):
    """Switches matching SODA's ablations."""

    no_fault_learning: bool = Field(False, description="skip DPO on faulty solutions")
    no_judge: bool = Field(False, description="buckets from execution only")
    no_execution: bool = Field(False, description="buckets from the judge only")
    no_difficulty: bool = Field(False, description="sample new-question parents at random")

    @model_validator(mode="after")
    def _some_feedback(self) -> Ablation:
        if self.no_judge and self.no_execution:
            raise ValueError("no_judge and no_execution together leave no feedback")
        return self


class Sandbox(Section):
    """Limits for running generated code."""

    timeout_s: float = Field(10.0, gt=0.0, le=3600.0)
    memory_mb: int = Field(1024, ge=32)
    workers: int | None = Field(None, ge=1, description="parallel programs; default: all cores")
    backend: str = Field(
        "local", description="'local', 'ray', 'ray:<address>' or 'sandboxfusion:<url>'")
    isolation: Literal["auto", "namespaces", "none"] = Field(
        "auto", description="namespaces (bubblewrap), none, or auto: namespaces where available")
    allow_unisolated: bool = Field(
        False, description="with isolation auto where namespaces are unavailable: run programs "
        "without them (verdicts are marked unisolated) instead of refusing")

    def limits(self, timeout_s: float | None = None) -> Any:
        """The sandbox Limits these settings describe (`timeout_s` overrides the section's)."""
        from codistill.sandbox import Limits

        return Limits(timeout_s=timeout_s or self.timeout_s, memory_mb=self.memory_mb,
                      isolation=self.isolation, allow_unisolated=self.allow_unisolated)

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        from codistill.sandbox.backends import backend_from_spec

        backend_from_spec(value, None)  # raises ValueError naming the valid forms
        return value


class Eval(Section):
    """Evaluation of the student before the first cycle and after each."""

    benchmarks: list[str] = Field(default_factory=lambda: ["humaneval"])
    limit: int | None = Field(None, ge=1, description="first N tasks of each benchmark")
    n: int = Field(1, ge=1, description="1 = greedy pass@1 only; more = also n sampled answers per "
                   "task for pass@k, k > 1 (SODA: 10); pass@1 is always greedy")
    temperature: float = Field(0.2, ge=0.0, description="sampling temperature when n > 1")
    top_p: float = Field(0.95, gt=0.0, le=1.0, description="nucleus sampling when n > 1")
    ks: list[int] = Field([1, 10], min_length=1, description="pass@k reported (k <= n)")
    max_new_tokens: int = Field(512, ge=16)
    before: bool = Field(True, description="evaluate the student before the first cycle")

    @model_validator(mode="after")
    def _sampled_needs_temperature(self) -> Eval:
        if self.n > 1 and self.temperature <= 0:
            raise ValueError(f"eval.n = {self.n} samples per task need eval.temperature > 0 (at 0 "
                             "they are one answer repeated); e.g. 0.2, or n = 1")
        return self


class Coevolve(Section):
    """Code-A1: Code model and Test model co-evolved by GRPO, with a Mistake Book."""

    steps: int = Field(100, ge=1)
    group_size: int = Field(8, ge=2, description="G code samples per question")
    tests_per_question: int = Field(4, ge=1)
    alpha: float = Field(0.5, ge=0.0, le=1.0, description="test reward = a*validity + (1-a)*attack")
    kl_coef: float = Field(0.04, ge=0.0, description="GRPO KL penalty (beta)")
    lr: float = Field(1e-6, gt=0.0, lt=1.0)
    mistake_book_k: int = Field(3, ge=0, description="replayed tests per question")
    questions_per_step: int = Field(2, ge=1)
    max_new_tokens: int = Field(384, ge=16)
    phase_steps: int = Field(
        2, ge=1, description="GRPO steps of one model before the other trains; `steps` is each "
        "model's total, so a run has ceil(steps / phase_steps) rounds"
    )
    own_tests: bool = Field(
        True, description="the Code model's reward also runs the question's own tests"
    )
    blacklist_after: int = Field(
        3, ge=0, description="blacklist a question after this many code phases in a row where no "
        "sample passes a single test of its reward; 0: never"
    )
    test_timeout_s: float = Field(5.0, gt=0.0, le=600.0, description="seconds per single-test run")
    temperature: float = Field(1.0, gt=0.0, le=2.0, description="sampling temperature of GRPO rollouts")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="nucleus sampling mass of GRPO rollouts")
    test_temperature: float | None = Field(
        None, gt=0.0, le=2.0, description="sampling temperature of the Test model's rollouts; default: "
        "temperature (a small Test model writes parseable asserts only when sampled cooler)"
    )
    use_vllm: bool | None = Field(
        None, description="generate with vLLM inside TRL; default: when a CUDA GPU and vllm exist"
    )


class RunConfig(Section):
    """Everything one `codistill run` needs."""

    name: str = Field("demo", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="run folder")
    output_dir: Path = Field(Path("runs"), description="parent of run folders")
    seed: int = Field(0, description="seeds every random choice")
    cycles: int = Field(3, ge=0, le=100, description="SODA cycles (paper: 3)")
    cache: Path | None = Field(None, description="request cache; default: the user cache")
    reuse_training: bool = Field(
        True, description="link a model trained before from the same base, rows, settings and "
        "seed (<codistill home>/trained) instead of training again"
    )
    models: Models = Field(default_factory=Models)
    data: Data = Field(default_factory=Data)
    teach: Teach = Field(default_factory=Teach)
    train: Train = Field(default_factory=Train)
    examine: Examine = Field(default_factory=Examine)
    curriculum: Curriculum = Field(default_factory=Curriculum)
    ablation: Ablation = Field(default_factory=Ablation)
    sandbox: Sandbox = Field(default_factory=Sandbox)
    eval: Eval = Field(default_factory=Eval)
    coevolve: Coevolve = Field(default_factory=Coevolve)

    @property
    def run_dir(self) -> Path:
        """This run's folder."""
        return self.output_dir / self.name

    def section(self, dotted: str) -> Any:
        """The value at a dotted key, e.g. 'train.sft'."""
        node: Any = self
        for part in dotted.split("."):
            node = getattr(node, part)
        return node


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> RunConfig:
    """Load YAML (or defaults), apply `key=value` overrides, validate; raise ConfigError."""
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path} is not valid YAML: {exc}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path} must hold a mapping of keys, not {type(loaded).__name__}")
        data = loaded
    for item in overrides or []:
        apply_override(data, item)
    return validate_config(data, source=str(path) if path else "defaults")


def apply_override(data: dict[str, Any], item: str) -> None:
    """Apply one `dotted.key=value` override in place; the value is parsed as YAML."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {item!r} must look like key=value, e.g. train.sft.lr=1e-5")
    parts = key.strip().split(".")
    _check_path(parts)
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"cannot set {key}: {part} is a value, not a section")
        node = child
    try:
        node[parts[-1]] = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        node[parts[-1]] = raw


def _check_path(parts: list[str]) -> None:
    """Fail early, with suggestions, on an override key that names no field."""
    model: Any = RunConfig
    for depth, part in enumerate(parts):
        fields = getattr(model, "model_fields", None)
        if fields is None:
            raise ConfigError(f"{'.'.join(parts[:depth])} is a value and has no key {part!r}")
        if part not in fields:
            raise ConfigError(_unknown_key(".".join(parts[: depth + 1]), part, list(fields)))
        annotation = fields[part].annotation
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
        if model is None and depth < len(parts) - 1:
            raise ConfigError(f"{'.'.join(parts[: depth + 1])} is a value, not a section")


def _unknown_key(dotted: str, part: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(part, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown config key {dotted!r}{hint}; allowed here: {', '.join(allowed)}"


def validate_config(data: dict[str, Any], source: str = "config") -> RunConfig:
    """Validate a plain mapping into a RunConfig; errors list every bad key."""
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        lines = [f"invalid configuration ({source}):"]
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            if err["type"] == "extra_forbidden":
                parent = _model_at(err["loc"][:-1])
                allowed = list(parent.model_fields) if parent else []
                lines.append("  " + _unknown_key(key, str(err["loc"][-1]), allowed))
            else:
                got = err.get("input")
                shown = "" if isinstance(got, dict) else f" (got {got!r})"
                lines.append(f"  {key}: {err['msg']}{shown}")
        raise ConfigError("\n".join(lines)) from None


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    model: Any = RunConfig
    for part in loc:
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return None
        model = fields[part].annotation
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def dump_config(config: RunConfig) -> dict[str, Any]:
    """Plain, YAML-ready mapping of a config (paths as strings)."""
    return config.model_dump(mode="json")
