"""Errors of the SIP core.

::

    SipError
    ├── SipConfigError (ValueError)   bad endpoint/engine/call settings, bad address or URI
    └── EngineError                   the engine is not running, was closed, or pjsua2 refused
        ├── EngineClosed
        └── CallSlotsSettling         sockets of calls just ended are not free yet: retry soon
"""

from __future__ import annotations

__all__ = ["CallSlotsSettling", "EngineClosed", "EngineError", "SipConfigError", "SipError"]


class SipError(Exception):
    """Root of the SIP core's errors."""


class SipConfigError(SipError, ValueError):
    """Settings that cannot work (one line, names the field)."""


class EngineError(SipError):
    """The engine could not do what was asked (message translated from pjsua2)."""


class EngineClosed(EngineError):
    """The engine was closed (or never started)."""


class CallSlotsSettling(EngineError):
    """No call now: the media sockets of calls that just ended are not reusable yet (pjlib
    keeps a closed socket's slot for half a second). ``retry_in_s``: when one will be."""

    def __init__(self, message: str, retry_in_s: float) -> None:
        super().__init__(message)
        self.retry_in_s = retry_in_s
