"""The one error type users see: something they can change, said in one line.

Every error whose message tells the user what to change derives from `UserError` (a bad config
value, a malformed file, a dead endpoint, a run folder in use...); its `hint` says what to change
and is part of its message. Commands only raise it: the CLI runs every command through
`codistill.commands._common.friendly`, which prints `error: <message; hint>` on one line and exits
with status 2. Anything else is a bug and keeps its traceback. Errors about a model's *output* (a draft that does not parse) are not user errors:
the stages catch and record them.
"""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; the message (and the optional hint) says what to change."""

    def __init__(self, message: str, *args: object, hint: str = "") -> None:
        super().__init__(message, *args)
        self.hint = hint

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text}; {self.hint}" if self.hint else text


class DraftError(ValueError):
    """A teacher reply that cannot be read as a problem; the message says what is missing.

    Not a UserError: the model wrote it, so the stage that asked records it and goes on.
    """
