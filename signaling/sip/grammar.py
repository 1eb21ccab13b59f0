"""The SIP message grammar (RFC 3261 sections 7 and 25) that both SIP readers share, no I/O.

- the strict reader, :class:`signaling.sip.request.SipRequest` (the redirect server: refuses
  what it cannot serve with the status to answer);
- the lenient reader, :class:`signaling.sipmsg.SipMessage` (captures: never raises, keeps what
  it cannot read).

Here: the start lines, the head/body split, header lines (unfolded, compact forms expanded),
top-level comma splitting, ``<>`` and quote balance, tags, URIs and their user part, CSeq,
and the Via branch and sent-by. The readers decide what to do when a piece does not parse.

>>> parse_headers("i: a@b\\r\\nSubject: one\\r\\n two\\r\\n")
(('call-id', 'a@b'), ('subject', 'one two'))
>>> cseq_parts("20 invite")
(20, 'invite')
>>> uri_user("sip:alice%40home;x=y@example.com")
('sip', 'alice@home')
"""

from __future__ import annotations

import re
from urllib.parse import unquote

__all__ = [
    "COMPACT_FORMS",
    "LENIENT_REQUEST_LINE",
    "REQUEST_LINE",
    "RESPONSE_START",
    "STATUS_LINE",
    "TOKEN",
    "balanced",
    "cseq_parts",
    "header_key",
    "outside_brackets",
    "parse_headers",
    "split_commas",
    "split_head_body",
    "tag_of",
    "uri_host_port",
    "uri_of",
    "uri_user",
    "via_branch",
    "via_sent_by",
]

#: RFC 3261 7.3.3 (and the extensions registered since) compact header names.
COMPACT_FORMS = {
    "i": "call-id",
    "f": "from",
    "t": "to",
    "m": "contact",
    "v": "via",
    "c": "content-type",
    "l": "content-length",
    "e": "content-encoding",
    "k": "supported",
    "s": "subject",
    "o": "event",
    "r": "refer-to",
    "b": "referred-by",
    "u": "allow-events",
    "x": "session-expires",
}

#: RFC 3261 25.1 ``token`` (a method name is one).
TOKEN = r"[A-Za-z0-9.!%*_+`'~-]+"
#: ``Method SP Request-URI SP SIP-Version``, exactly (single spaces, nothing after).
REQUEST_LINE = re.compile(rf"^({TOKEN}) (\S+) (SIP/\d+\.\d+)$")
#: The same, as endpoints really send it (any blanks between the parts and after them).
LENIENT_REQUEST_LINE = re.compile(rf"^({TOKEN})\s+(\S+)\s+SIP/(\d+\.\d+)\s*$")
#: ``SIP-Version SP Status-Code SP Reason-Phrase`` (the reason may be missing).
STATUS_LINE = re.compile(r"^SIP/(\d+\.\d+)\s+(\d{3})(?:\s+(.*))?$")
#: What any response starts with: never answered, whatever follows.
RESPONSE_START = re.compile(r"^SIP/\d+\.\d+\s")

_TAG = re.compile(r";\s*tag\s*=\s*([^;>\s,]*)", re.IGNORECASE)
_ANGLE_URI = re.compile(r"<([^>]*)>")
_BRANCH = re.compile(r";\s*branch\s*=\s*([^;,\s]+)", re.IGNORECASE)
_SENT_BY = re.compile(r"^\s*SIP\s*/\s*[^/\s]+\s*/\s*\S+\s+([^;,\s]+)", re.IGNORECASE)


def header_key(name: str) -> str:
    """The lower-case full name of a header name (``I`` -> ``call-id``)."""
    key = name.strip().lower()
    return COMPACT_FORMS.get(key, key)


def split_head_body(raw: bytes) -> tuple[bytes, bytes]:
    """Head (start line and headers) and body, split at the first empty line (CRLF CRLF, or
    LF LF from endpoints that send bare line feeds). No empty line: all head, no body."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
    return head, body


def parse_headers(block: str) -> tuple[tuple[str, str], ...]:
    """Header lines to ``(lower-case full name, value)`` in order: continuation lines unfolded
    (RFC 3261 7.3.1), compact forms expanded, lines without a colon skipped.

    The capture analyser calls this for every SIP message of a capture: keep it a plain loop
    over C-level string methods."""
    out: list[tuple[str, str]] = []
    compact = COMPACT_FORMS
    for line in block.split("\n"):
        if not line or line.isspace():
            continue
        if (line[0] == " " or line[0] == "\t") and out:
            name, value = out[-1]
            out[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.strip().lower()
        out.append((compact.get(key, key), value.strip()))
    return tuple(out)


def split_commas(value: str) -> list[str]:
    """A header value split at top-level commas (not inside quotes or ``<>``), parts stripped."""
    parts, depth, quoted, start = [], 0, False, 0
    for index, char in enumerate(value):
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "<":
            depth += 1
        elif not quoted and char == ">":
            depth = max(0, depth - 1)
        elif char == "," and not quoted and depth == 0:
            parts.append(value[start:index].strip())
            start = index + 1
    parts.append(value[start:].strip())
    return parts


def balanced(value: str) -> bool:
    """Quotes closed (``\\"`` escapes honoured) and ``<>`` paired outside quotes."""
    quoted, escaped, depth = False, False, 0
    for char in value:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted and char == "<":
            depth += 1
        elif not quoted and char == ">":
            depth -= 1
            if depth < 0:
                return False
    return not quoted and depth == 0


def outside_brackets(value: str) -> str:
    """A name-addr without its ``<...>`` URI, so URI parameters are not read as header ones."""
    return _ANGLE_URI.sub("", value) if "<" in value else value


def tag_of(value: str) -> str | None:
    """The ``tag`` parameter of a From/To value (``""`` for ``;tag=`` with nothing after it),
    or ``None`` when there is none. A ``;tag`` inside the ``<>`` URI does not count."""
    if "<" in value:  # (outside_brackets inlined: read for every message of a capture)
        value = _ANGLE_URI.sub("", value)
    m = _TAG.search(value)
    return m.group(1) if m else None


def uri_of(name_addr: str) -> str:
    """The URI of a From/To/Contact value: inside ``<>`` or up to the first parameter."""
    m = _ANGLE_URI.search(name_addr)
    if m:
        return m.group(1).strip()
    return name_addr.split(";", 1)[0].strip()


def uri_user(uri: str) -> tuple[str, str | None]:
    """``(scheme, user)`` of a URI, the user %-unescaped and without user parameters; ``user``
    is ``None`` when the URI has none (``sip:host``). The scheme is lower-case, ``""`` when
    there is no scheme."""
    scheme, sep, rest = uri.partition(":")
    if not sep:
        return "", None
    user, at, _host = rest.partition("@")
    if not at:
        return scheme.lower(), None
    return scheme.lower(), unquote(user.split(";", 1)[0])


def uri_host_port(uri: str) -> str:
    """The ``host[:port]`` of a URI or name-addr (``<sip:u@[::1]:5062;transport=tcp>`` ->
    ``[::1]:5062``), as written: after the ``@`` (or the scheme), before parameters and headers.
    Read it with :func:`signaling.hostport.parse_host_port`."""
    address = uri_of(uri)
    scheme, sep, rest = address.partition(":")
    if sep and "@" not in scheme and "[" not in scheme and not rest[:1].isdigit():
        address = rest  # a scheme, not HOST:PORT
    return address.rpartition("@")[2].split(";", 1)[0].split("?", 1)[0].strip()


def cseq_parts(value: str) -> tuple[int, str]:
    """``(number, method as written)`` of a CSeq value; ``(-1, "")`` when either part is
    missing or the number is not digits."""
    parts = value.split()
    if len(parts) >= 2 and parts[0].isdigit():
        return int(parts[0]), parts[1]
    return -1, ""


def via_branch(via: str) -> str:
    """The ``branch`` parameter of one Via value (``""`` when absent)."""
    m = _BRANCH.search(via)
    return m.group(1) if m else ""


def via_sent_by(via: str) -> str:
    """The sent-by (``host[:port]``) of one Via value, as written (``""`` when unreadable)."""
    m = _SENT_BY.match(via)
    return m.group(1) if m else ""
