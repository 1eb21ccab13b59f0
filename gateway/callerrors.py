"""Why the call tracker (:mod:`gateway.calls`) could not do what was asked, in its own terms.

The HTTP edge (:mod:`gateway.http_api`, and the status page's forms) turns them into statuses:
:class:`UnknownCall` 404, :class:`CallNotPlaced` 503, :class:`CallFailed` 502.
"""

from __future__ import annotations

__all__ = ["CallError", "CallFailed", "CallNotPlaced", "UnknownCall"]


class CallError(Exception):
    """Root of the tracker's refusals; ``message`` says why in one line."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownCall(CallError):
    """No call has this id (or it has been forgotten: the CDR store keeps it)."""


class CallNotPlaced(CallError):
    """Refused before dialling: no CRC port free, the store unavailable, the request expired.
    Nothing left the gateway; trying again later can work."""


class CallFailed(CallError):
    """The SIP core could not place the call, or hang it up."""
