"""Just enough SIP (RFC 3261) for a stateless-ish redirect server: read a request off the wire,
judge it, and build responses. No I/O.

Reading is strict where a wrong guess would be harmful (start line, Content-Length, CSeq, the
headers a response must copy) and lenient elsewhere; header lines are unfolded and compact
forms expanded by :func:`signaling.sipmsg.parse_headers`. A request that cannot be served gets
``problem`` set to the status to answer (400, 505...) and the reason.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from signaling.hostport import HostPortError, parse_host_port
from signaling.sip.grammar import (
    REQUEST_LINE,
    RESPONSE_START,
    balanced,
    cseq_parts,
    header_key,
    parse_headers,
    split_commas,
    split_head_body,
    tag_of,
    via_branch,
    via_sent_by,
)

__all__ = [
    "NotARequest",
    "SipRequest",
    "build_response",
    "new_tag",
    "split_stream",
]

MAX_MESSAGE = 65535
_RPORT = re.compile(r";\s*rport(?=\s*(;|$))", re.IGNORECASE)
#: Headers a request may carry only once (RFC 3261 7.3.1: not comma-separated lists).
_SINGLE = ("call-id", "cseq", "from", "to", "max-forwards", "content-length")


_LABEL = {
    "call-id": "Call-ID", "cseq": "CSeq", "from": "From", "to": "To",
    "max-forwards": "Max-Forwards", "content-length": "Content-Length",
}


class NotARequest(ValueError):
    """Not a SIP request (a response, a keep-alive, or noise): nothing to answer."""


@dataclass(frozen=True)
class SipRequest:
    """One request as read. ``problem`` is ``(status, reason)`` when it must be refused."""

    method: str
    uri: str
    version: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    problem: tuple[int, str] | None = None

    @classmethod
    def parse(cls, data: bytes, *, stream: bool = False) -> SipRequest:
        """Read one request (``stream``: its length came from the framing, see
        :func:`split_stream`). :class:`NotARequest` for anything that is not a request."""
        if len(data) > MAX_MESSAGE:
            raise NotARequest("message too large")
        head, body = split_head_body(data)
        text = head.decode("utf-8", "surrogateescape")
        first, _, rest = text.lstrip("\r\n").replace("\r\n", "\n").partition("\n")
        if RESPONSE_START.match(first):
            raise NotARequest("a response")
        m = REQUEST_LINE.match(first)
        headers = parse_headers(rest) if m or " SIP/" in first else ()
        if m is None:
            if not any(name == "via" for name, _ in headers):
                raise NotARequest("no request line")
            req = cls("", "", "", headers, b"")
            return req._with_problem(400, "Malformed Request-Line")
        method, uri, version = m.group(1), m.group(2), m.group(3)
        req = cls(method, uri, version, headers, body)
        problem = req._check(body, stream)
        if problem is not None:
            return req._with_problem(*problem)
        length = req.header("content-length")
        if length is not None:
            req = cls(method, uri, version, headers, body[: int(length.strip())])
        return req

    def _with_problem(self, status: int, reason: str) -> SipRequest:
        return SipRequest(self.method, self.uri, self.version, self.headers, self.body,
                          (status, reason))

    def _check(self, body: bytes, stream: bool) -> tuple[int, str] | None:
        if not self.header_values("via"):
            return 400, "Missing Via"
        for name in _SINGLE:
            values = self.header_values(name)
            if len(values) > 1 and len(set(v.strip() for v in values)) > 1:
                return 400, f"Conflicting {_LABEL[name]} Headers"
        for name in ("call-id", "from", "to", "cseq"):
            if not (self.header(name) or "").strip():
                return 400, f"Missing {_LABEL[name]}"
        length = self.header("content-length")
        if length is not None:
            if not length.strip().isdigit():
                return 400, "Bad Content-Length"
            if int(length.strip()) > len(body) and not stream:
                return 400, "Content-Length Exceeds Body"
        cseq = self.header("cseq") or ""
        number, method = cseq_parts(cseq)
        if len(cseq.split()) != 2 or not 0 <= number <= 2**32 - 1:  # one number, one method
            return 400, "Bad CSeq"
        if method != self.method:
            return 400, "CSeq Method Does Not Match"
        max_forwards = self.header("max-forwards")
        if max_forwards is not None and (
            not max_forwards.strip().isdigit() or int(max_forwards) > 255
        ):
            return 400, "Bad Max-Forwards"
        if self.version != "SIP/2.0":
            return 505, "Version Not Supported"
        if self.uri.startswith("<") or "?" in self.uri.rpartition("@")[2]:
            return 400, "Malformed Request-URI"
        for name in ("from", "to"):
            if not balanced(self.header(name) or ""):
                return 400, f"Malformed {_LABEL[name]}"
        if any(_BAD_VIA.search(via) for via in self.header_values("via")):
            return 400, "Malformed Via"
        return None

    # -- headers ------------------------------------------------------------------------------

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case, compact forms understood)."""
        key = header_key(name)
        return next((value for hname, value in self.headers if hname == key), None)

    def header_values(self, name: str) -> list[str]:
        key = header_key(name)
        return [value for hname, value in self.headers if hname == key]

    @property
    def call_id(self) -> str:
        return (self.header("call-id") or "").strip()

    @property
    def cseq_number(self) -> int:
        return cseq_parts(self.header("cseq") or "")[0]

    @property
    def top_via(self) -> str:
        vias = self.header_values("via")
        return split_commas(vias[0])[0] if vias else ""

    @property
    def branch(self) -> str:
        return via_branch(self.top_via)

    @property
    def sent_by(self) -> str:
        return via_sent_by(self.top_via).lower()

    @property
    def transaction_key(self) -> tuple[str, str]:
        """RFC 3261 17.2.3: branch and sent-by (ACK and CANCEL share the INVITE's branch).
        For an RFC 2543 request without a magic-cookie branch, Call-ID and CSeq number."""
        if self.branch.startswith("z9hG4bK") and len(self.branch) > 7:
            return self.branch, self.sent_by
        return f"{self.call_id}|{self.cseq_number}", self.sent_by

    @property
    def to_has_tag(self) -> bool:
        return tag_of(self.header("to") or "") is not None


_BAD_VIA = re.compile(r";\s*[;,]|,\s*[;,]|;\s*$")


def new_tag() -> str:
    return secrets.token_hex(6)


def _stamp_via(via: str, source: tuple[str, int]) -> str:
    """RFC 3261 18.2.1 and RFC 3581: ``received`` when the sent-by host is not the source
    address, ``rport`` filled in when the client asked for it."""
    host, port = source
    first, *others = split_commas(via)
    sent_by = via_sent_by(first)
    try:
        sent_host = parse_host_port(sent_by, bare_ipv6=True, zero_port=True).host
    except HostPortError:
        sent_host = sent_by  # not an address: it is not the source either
    if _RPORT.search(first):
        first = _RPORT.sub(f";rport={port}", first, count=1)
        if "received=" not in first.lower():
            first += f";received={host}"
    elif sent_host != host and "received=" not in first.lower():
        first += f";received={host}"
    return ", ".join([first, *others])


def build_response(
    request: SipRequest,
    status: int,
    reason: str,
    *,
    source: tuple[str, int] | None = None,
    to_tag: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
    server: str = "crcgw",
) -> bytes:
    """A response to ``request`` (RFC 3261 8.2.6): its Via (top one stamped with ``source``),
    From, To (with ``to_tag`` added unless it has one or ``status`` is 100), Call-ID and CSeq,
    then ``headers``, ``Server`` (none when ``server`` is empty) and ``Content-Length: 0``."""
    lines = [f"SIP/2.0 {status} {reason}"]
    for index, via in enumerate(request.header_values("via")):
        value = _stamp_via(via, source) if index == 0 and source is not None else via
        lines.append(f"Via: {value}")
    from_value, to_value = request.header("from"), request.header("to")
    if from_value is not None:
        lines.append(f"From: {from_value}")
    if to_value is not None:
        if to_tag and status != 100 and not request.to_has_tag:
            to_value = f"{to_value};tag={to_tag}"
        lines.append(f"To: {to_value}")
    for name, label in (("call-id", "Call-ID"), ("cseq", "CSeq")):
        copied = request.header(name)
        if copied is not None:
            lines.append(f"{label}: {copied}")
    lines += [f"{name}: {value}" for name, value in headers]
    lines += [f"Server: {server}"] if server else []
    lines += ["Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode("utf-8", "surrogateescape")


def split_stream(buffer: bytes) -> tuple[bytes | None, bytes, bool]:
    """Take one message off a stream (TCP) buffer: ``(message, rest, fatal)``.

    ``message`` is ``None`` while more bytes are needed. Leading CRLFs (RFC 5626 keep-alives)
    are skipped. ``fatal`` means the framing is broken (bad Content-Length, head too large):
    answer if possible, then close the connection.
    """
    stripped = buffer.lstrip(b"\r\n")
    end = stripped.find(b"\r\n\r\n")
    if end < 0:
        return None, stripped, len(stripped) > MAX_MESSAGE
    head = stripped[:end].decode("latin-1")
    lengths = {
        value.strip()
        for name, value in parse_headers(head.partition("\n")[2])
        if name == "content-length"
    }
    if len(lengths) > 1 or any(not v.isdigit() for v in lengths):
        return stripped[: end + 4], b"", True
    length = int(lengths.pop()) if lengths else 0
    total = end + 4 + length
    if total > MAX_MESSAGE:
        return stripped[: end + 4], b"", True
    if len(stripped) < total:
        return None, stripped, False
    return stripped[:total], stripped[total:], False
