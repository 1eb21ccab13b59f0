"""SIP messages as pjsip logs them (``msgLogging``): the closest pjsua2 lets Python get to the wire.

pjsua2 has no message hooks, but pjsua's logging module sits right above the transport: it
logs every message just before the socket write ("TX") and right after the read ("RX"),
before the transaction layer sees it. The log writer stamps each such line with
``time.monotonic()`` and :func:`parse_message_log` turns it into a :class:`WireMessage`.
"""

from __future__ import annotations

import re

from signaling.sip.wire import WireMessage

__all__ = ["parse_message_log"]

# "TX 947 bytes Request msg INVITE/cseq=20489 (tdta0x...) to UDP 127.0.0.1:45062:"
# "RX 492 bytes Response msg 200/INVITE/cseq=20489 (rdata0x...) from UDP 127.0.0.1:45062:"
_HEAD = re.compile(
    r"\b(?P<dir>TX|RX) \d+ bytes (?:Request|Response) msg "
    r"(?:(?P<code>\d{3})/)?(?P<method>[A-Za-z]+)/cseq=(?P<cseq>\d+)"
)
_CALL_ID = re.compile(r"^(?:Call-ID|i)[ \t]*:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)
_SESSION_EXPIRES = re.compile(
    r"^(?:Session-Expires|x)[ \t]*:[ \t]*(\d+)([^\r\n]*)", re.IGNORECASE | re.MULTILINE
)
_REFRESHER = re.compile(r";[ \t]*refresher[ \t]*=[ \t]*(uac|uas)", re.IGNORECASE)
_MIN_SE = re.compile(r"^Min-SE[ \t]*:[ \t]*(\d+)", re.IGNORECASE | re.MULTILINE)
_STATUS = re.compile(r"^SIP/2\.0 \d{3} ?([^\r\n]*)", re.MULTILINE)


def parse_message_log(text: str, at: float) -> WireMessage | None:
    """The message of one pjsip "TX/RX ... msg" log entry, or ``None`` for any other line."""
    head = _HEAD.search(text, 0, 300)
    if head is None:
        return None
    call_id = _CALL_ID.search(text)
    if call_id is None:
        return None
    code = int(head["code"]) if head["code"] else None
    reason = ""
    if code is not None:
        status = _STATUS.search(text)
        reason = status.group(1).strip() if status else ""
    expires = _SESSION_EXPIRES.search(text)
    refresher = _REFRESHER.search(expires.group(2)) if expires else None
    min_se = _MIN_SE.search(text)
    return WireMessage(
        at=at,
        sent=head["dir"] == "TX",
        method=head["method"].upper(),
        cseq=int(head["cseq"]),
        call_id=call_id.group(1),
        code=code,
        reason=reason,
        session_expires=int(expires.group(1)) if expires else None,
        refresher=refresher.group(1).lower() if refresher else None,
        min_se=int(min_se.group(1)) if min_se else None,
    )
