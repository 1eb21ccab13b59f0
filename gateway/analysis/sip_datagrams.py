"""SIP datagrams read in bulk: the few headers calls are built from, found by one regular
expression per message instead of a full header parse.

A capture of many short calls holds tens of thousands of SIP messages, and building calls reads
only the Call-ID, CSeq, From, To and Content-Type of each (:mod:`signaling.ladder`); splitting
every header line in Python (:func:`signaling.sipmsg.parse_headers`) was most of the analysis'
own time on 2,000 short calls. Here one compiled pattern returns those headers' lines of a
message in one C call; the message is a :class:`signaling.sipmsg.SipMessage` whose
:meth:`~DatagramMessage.header` answers for them from that scan, and parses the whole header
block, as before, only when another header is asked for.

The scan gives exactly what the full parse gives: it is used only on header blocks in ASCII
without continuation lines (the full parse unfolds those), where the pattern's whitespace class
is the one ``str.strip`` removes and its case folding is ``str.lower``'s; other messages take
the full parse. ``tests/analysis/test_sip_datagrams.py`` compares both on odd messages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from signaling.sip.grammar import (
    COMPACT_FORMS,
    LENIENT_REQUEST_LINE,
    STATUS_LINE,
    cseq_parts,
)
from signaling.sipmsg import SipMessage

if TYPE_CHECKING:
    from gateway.analysis.pcapscan import PacketColumns

__all__ = ["SCANNED_HEADERS", "DatagramMessage", "read_datagram_messages", "scan_message"]

#: headers answered by the scan (full lower-case names)
SCANNED_HEADERS = frozenset({"call-id", "cseq", "from", "to", "content-type"})
_NAMES = sorted(SCANNED_HEADERS | {k for k, v in COMPACT_FORMS.items() if v in SCANNED_HEADERS},
                key=len, reverse=True)
# a header line of one of those names (``[^\S\n]``: whitespace but the line end)
_LINE = re.compile(r"^[^\S\n]*(" + "|".join(map(re.escape, _NAMES)) + r")[^\S\n]*:([^\n]*)",
                   re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True)
class DatagramMessage(SipMessage):
    """A :class:`SipMessage` whose Call-ID, CSeq, From, To and Content-Type come from the scan
    (``_scanned``, set by :func:`scan_message`; None: the full parse answers)."""

    def header(self, name: str) -> str | None:
        scanned: dict[str, str] | None = self.__dict__.get("_scanned")
        if scanned is not None:
            if name in SCANNED_HEADERS:  # as SipMessage's properties ask: no folding needed
                return scanned.get(name)
            key = name.lower()
            key = COMPACT_FORMS.get(key, key)
            if key in SCANNED_HEADERS:
                return scanned.get(key)
        return super().header(name)


def scan_message(
    raw: bytes, time_s: float, src: str, dst: str, transport: str, frame: int
) -> DatagramMessage:
    """One message, as :meth:`SipMessage.parse` reads it, with the scanned headers."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
    text = head.decode("utf-8", "replace")
    start, _, block = text.partition("\n")
    msg = DatagramMessage(time_s, src, dst, transport, start.strip(), block, body, frame)
    cached = msg.__dict__  # the SipMessage properties' values, stored as they compute them
    if block.isascii() and "\n " not in block and "\n\t" not in block and block[:1] not in (
            " ", "\t"):
        scanned: dict[str, str] = {}
        compact = COMPACT_FORMS
        for name, value in _LINE.findall(block):
            key = name.lower()
            scanned.setdefault(compact.get(key, key), value.strip())
        cached["_scanned"] = scanned
        # what every message is asked for (the call's grouping, the ladder), without the
        # properties' descriptor calls and repeated matches
        cached["call_id"] = scanned.get("call-id") or ""
        number, method = cseq_parts(scanned.get("cseq") or "")
        cached["cseq"] = number, method.upper()
        ctype = (scanned.get("content-type") or "").split(";", 1)[0].strip().lower()
        cached["content_type"] = ctype
        cached["has_sdp"] = ctype == "application/sdp" and bool(body.strip())
    start_line = msg.start_line
    if (status := STATUS_LINE.match(start_line)) is not None:
        cached.update(kind="response", method=None, status_code=int(status.group(2)),
                      reason=(status.group(3) or "").strip())
    elif (request := LENIENT_REQUEST_LINE.match(start_line)) is not None:
        cached.update(kind="request", method=request.group(1).upper(), status_code=None,
                      reason="")
    return msg


def read_datagram_messages(
    cols: PacketColumns, frames: Sequence[int]
) -> tuple[list[SipMessage], int]:
    """SIP messages of the listed UDP datagrams (1-based frames), and how many datagrams are
    not a SIP request or response (keep-alives aside: other protocols on a SIP port)."""
    sip: list[SipMessage] = []
    unreadable = 0
    if not frames:
        return sip, unreadable
    import numpy as np

    rows = np.asarray(frames, dtype=np.int64) - 1
    addresses = cols.addresses
    names: dict[tuple[int, int], str] = {}
    for key in set(zip(cols.src[rows].tolist() + cols.dst[rows].tolist(),
                       cols.sport[rows].tolist() + cols.dport[rows].tolist(), strict=True)):
        ip = addresses[key[0]]
        names[key] = f"[{ip}]:{key[1]}" if ":" in ip else f"{ip}:{key[1]}"
    data = cols.data
    append = sip.append
    for frame, start, n, src, sport, dst, dport, t in zip(
        frames, cols.payload[rows].tolist(), cols.payload_len[rows].tolist(),
        cols.src[rows].tolist(), cols.sport[rows].tolist(), cols.dst[rows].tolist(),
        cols.dport[rows].tolist(), cols.time_s[rows].tolist(), strict=True,
    ):
        payload = data[start : start + max(n, 0)].tobytes()
        if not payload or payload.isspace():
            continue  # CRLF keep-alive (RFC 5626)
        msg = scan_message(payload, t, names[src, sport], names[dst, dport], "UDP", frame)
        if msg.kind == "unknown" or not msg.call_id:
            unreadable += 1
            continue
        append(msg)
    return sip, unreadable
