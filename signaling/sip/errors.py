"""Errors of the SIP core.

::

    SipError
    ├── SipConfigError (ValueError)   bad endpoint/engine/call settings, bad address or URI
    └── EngineError                   the engine is not running, was closed, or pjsua2 refused
        └── EngineClosed
"""

from __future__ import annotations

__all__ = ["EngineClosed", "EngineError", "SipConfigError", "SipError"]


class SipError(Exception):
    """Root of the SIP core's errors."""


class SipConfigError(SipError, ValueError):
    """Settings that cannot work (one line, names the field)."""


class EngineError(SipError):
    """The engine could not do what was asked (message translated from pjsua2)."""


class EngineClosed(EngineError):
    """The engine was closed (or never started)."""
