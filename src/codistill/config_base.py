"""What every config section shares: the error type and the strict base model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from codistill.errors import UserError


class ConfigError(UserError, ValueError):
    """An invalid configuration; the message names the key and what to change."""


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)
