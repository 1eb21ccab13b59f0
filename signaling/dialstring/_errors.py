"""The one error of the dial-string engine."""

from __future__ import annotations

__all__ = ["DialStringError"]


class DialStringError(ValueError):
    """A dial string, or a field given to a builder, breaks the grammar.

    ``field`` names the field (``meeting_id``, ``passcode``, ``layout``, ``host_key``, ``host``,
    ``port``, ``params``, ``dial_string`` for the shape as a whole); ``rule`` says what it must be.
    The message reads ``"<field>: <rule> (got '<value>')"``.
    """

    def __init__(self, field: str, rule: str, value: str | None = None) -> None:
        self.field = field
        self.rule = rule
        self.value = value
        message = f"{field}: {rule}"
        if value is not None:
            message += f" (got {value!r})"
        super().__init__(message)
