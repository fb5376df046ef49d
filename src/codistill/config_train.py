"""The training sections of the run configuration: SFT, DPO, logit distillation, LoRA.

Part of `codistill.config` (which re-exports them); split out because the training settings are
read together and change together.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from codistill.config_base import Section


class Lora(Section):
    """Low-rank adaptation instead of full fine-tuning."""

    enabled: bool = Field(False, description="train LoRA adapters (merged after training)")
    r: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: list[str] = Field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"]
    )


class SFT(Section):
    """Correctness-aware supervised fine-tuning on (question, correct solution)."""

    lr: float = Field(2e-5, gt=0.0, lt=1.0, description="learning rate (paper: 2e-5)")
    epochs: float = Field(3.0, gt=0.0, description="passes over the SFT set (paper: 3)")
    batch_size: int = Field(8, ge=1)
    grad_accum: int = Field(1, ge=1)
    max_length: int = Field(1024, ge=64, description="tokens per example, longer ones truncated")
    warmup_ratio: float = Field(0.03, ge=0.0, lt=1.0)
    freeze_layers: int = Field(0, ge=0, description="freeze the embeddings and this many lowest "
                               "decoder layers (full fine-tuning only; saves their backward pass)")


class DPO(Section):
    """Fault-aware contrastive learning on (question, correct, faulty); reference = SFT model."""

    lr: float = Field(5e-7, gt=0.0, lt=1.0, description="learning rate (paper: 5e-7)")
    beta: float = Field(0.1, gt=0.0, description="DPO temperature on the log-ratio")
    epochs: float = Field(3.0, gt=0.0)
    batch_size: int = Field(4, ge=1)
    grad_accum: int = Field(1, ge=1)
    max_length: int = Field(1024, ge=64)


class KD(Section):
    """Logit distillation: the student learns the teacher's next-token distributions, not only its text.

    Built on TRL's GOLD trainer with ULD's alignment, so teacher and student may use different
    tokenizers (the embedded pair does); the teacher may be local weights or an `openai:` endpoint that
    scores given text with top-k logprobs (train/kd_served.py). Off-policy it distils the teacher's distributions over the
    teacher-verified answers; on-policy (GKD's lambda) the student writes the answer and the teacher
    grades each of its tokens.
    """

    enabled: bool = Field(False, description="distil logits instead of plain SFT in the cycle's training "
                          "stage (DPO still follows when there are pairs)")
    lr: float = Field(2e-5, gt=0.0, lt=1.0, description="learning rate")
    epochs: float = Field(1.0, gt=0.0, description="passes over the rows")
    batch_size: int = Field(4, ge=1)
    grad_accum: int = Field(1, ge=1)
    max_length: int = Field(1024, ge=64, description="tokens per example (prompt and answer)")
    max_completion_length: int = Field(512, ge=8, description="longest answer the student writes "
                                       "on-policy; must be below max_length")
    on_policy: float = Field(0.0, ge=0.0, le=1.0, description="share of steps on the student's own "
                             "answers (GKD's lambda); 0 = off-policy on the teacher's answers only")
    temperature: float = Field(0.9, gt=0.0, description="sampling temperature of on-policy answers")
    distillation_weight: float = Field(1.0, ge=0.0, description="weight of the teacher-matching loss")
    crossentropy_weight: float = Field(1.0, ge=0.0, description="weight of plain cross-entropy on the "
                                       "answer's tokens (SFT), added to the distillation loss; 0 = pure "
                                       "distillation, which collapsed the embedded student (docs/training.md)")
    hybrid: bool = Field(True, description="tokens both vocabularies share are matched exactly (JSD); "
                         "only the rest use ULD's sorted-probability distance")
    teacher_temperature: float = Field(1.0, gt=0.0, description="softens the teacher's distributions")
    student_temperature: float = Field(1.0, gt=0.0, description="softens the student's distributions")
    freeze_layers: int = Field(0, ge=0, description="freeze the embeddings and this many lowest "
                               "decoder layers (as train.sft.freeze_layers)")
    top_k: int = Field(20, ge=2, le=1000, description="served teacher (openai:): logprobs asked per token; "
                       "vLLM allows up to its --max-logprobs (20 by default)")
    teacher_prompt: str = Field("", description="served teacher: the text it reads before the answer, with "
                                "{prompt} where the user's question goes; empty = the prompt rendered by "
                                "the student's chat template")

    @model_validator(mode="after")
    def _room_for_the_prompt(self) -> KD:
        if self.max_completion_length >= self.max_length:
            raise ValueError(f"max_completion_length ({self.max_completion_length}) must be below "
                             f"max_length ({self.max_length}) to leave room for the prompt")
        return self


class Train(Section):
    """Training of the student after each teach stage."""

    sft: SFT = Field(default_factory=SFT)
    dpo: DPO = Field(default_factory=DPO)
    kd: KD = Field(default_factory=KD)
    lora: Lora = Field(default_factory=Lora)
    seed: int | None = Field(None, description="default: the run's seed")
    restated_docstrings: bool = Field(
        False, description="keep, in the answers trained on, docstrings that repeat the question "
        "(teacher answers copy the prompt's: 55% of their tokens on the gain benchmark, which tied "
        "on dev without them at 31% less training time)")
