"""Errors of the H.323 stack; each decoding error is also a :class:`ValueError`.

::

    H323Error
    ├── H323DecodeError (ValueError)     malformed bytes from the wire
    │   ├── TpktError                    bad TPKT version, length or a truncated frame
    │   ├── Q931Error                    bad Q.931 header or information element
    │   └── PerError                     PER that pycrate cannot decode (or encode)
    ├── H323Timeout (TimeoutError)       a read or a RAS transaction got no answer in time
    ├── H323ConnectionError (ConnectionError)  TCP refused, reset or closed mid-call
    └── RasRejected                      the gatekeeper said no (GRJ, RRJ, ARJ, URJ, DRJ)
"""

from __future__ import annotations

__all__ = [
    "H323ConnectionError",
    "H323DecodeError",
    "H323Error",
    "H323Timeout",
    "PerError",
    "Q931Error",
    "RasRejected",
    "TpktError",
]


class H323Error(Exception):
    """Base class of every H.323 error raised by :mod:`signaling.h323`."""


class H323DecodeError(H323Error, ValueError):
    """Bytes from the wire that do not form a valid message."""


class TpktError(H323DecodeError):
    """A TPKT header (RFC 1006) with a bad version or length, or a frame cut short."""


class Q931Error(H323DecodeError):
    """A Q.931 message with a bad header or information element."""


class PerError(H323DecodeError):
    """An ASN.1 aligned-PER body (H.225.0 or H.245) that cannot be decoded or encoded."""


class H323Timeout(H323Error, TimeoutError):
    """No answer within the time allowed for one read or one RAS transaction."""


class H323ConnectionError(H323Error, ConnectionError):
    """The TCP connection could not be opened or was closed in the middle of a call."""


class RasRejected(H323Error):
    """The gatekeeper rejected a RAS request; ``message`` is e.g. ``registrationReject``."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(f"gatekeeper answered {message}: {reason}")
        self.message = message
        self.reason = reason
