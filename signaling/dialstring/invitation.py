"""Dial targets from the text of a Zoom meeting invitation.

An invitation carries the room-system details in two blocks::

    Join by SIP
    12345678901@zoomcrc.com

    Join by H.323
    162.255.37.11 (US West)
    162.255.36.11 (US East)
    Meeting ID: 123 4567 8901
    Passcode: 2267511544

The passcode inside the H.323 block is the numeric room-system passcode (Zoom's
``h323_password``); the passcode printed near the web link is the web passcode and is never used.
Real invitations vary: bullets (``•``, ``-``), several addresses on one line joined by ``or``,
``Password:`` in older ones, CRLF line ends, a blank line before the H.323 passcode. Every listed
address becomes one H.323 target.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from signaling.dialstring._errors import DialStringError
from signaling.dialstring._parse import parse
from signaling.dialstring._target import DialTarget

__all__ = ["DialInfo", "parse_invitation"]

_HEADER = re.compile(
    r"^\s*(?:[-•*]+\s*)?"
    r"(join\b.*|one tap mobile.*|dial by your location.*|find your local number.*)$",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[•*]|-{1,2})\s*")
_SIP_URI = re.compile(r"(?:sips?:)?[^\s@<>()]+@[^\s<>(),]+", re.IGNORECASE)
_ADDRESS = re.compile(
    r"(?P<address>\b\d{1,3}(?:\.\d{1,3}){3}\b|\[[0-9A-Fa-f:.]+\])(?:\s*\((?P<label>[^)]*)\))?"
)
_MEETING_ID = re.compile(r"meeting\s+id\s*:\s*(?P<value>[\d\s\-]+?)\s*$", re.IGNORECASE)
_PASSCODE = re.compile(r"(?:passcode|password)\s*:\s*(?P<value>\S+)\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DialInfo:
    """How a room system joins one meeting: from an invitation or an API answer.

    ``opaque_sip_uri`` is set only from the real Zoom ``POST /meetings/{id}/sip_dialing`` answer,
    whose URI Zoom encodes (it may embed a participant identifier code) and which must be dialled
    exactly as given; ``expires_in`` is its lifetime in seconds.
    """

    source: str
    meeting_id: str | None
    passcode: str | None = field(repr=False)
    sip_targets: tuple[DialTarget, ...] = ()
    h323_targets: tuple[DialTarget, ...] = ()
    h323_labels: tuple[str | None, ...] = ()
    problems: tuple[str, ...] = ()
    opaque_sip_uri: str | None = field(default=None, repr=False)
    expires_in: int | None = None

    @property
    def targets(self) -> tuple[DialTarget, ...]:
        return self.sip_targets + self.h323_targets


def _blocks(lines: list[str]) -> dict[str, list[str]]:
    """Lines under each ``Join by SIP`` / ``Join by H.323`` header, up to the next header."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines:
        header = _HEADER.match(line)
        if header is not None:
            title = header.group(1).lower()
            current = None
            if title.startswith("join by sip"):
                current = blocks.setdefault("sip", [])
            elif title.startswith("join by h.323") or title.startswith("join by h323"):
                current = blocks.setdefault("h323", [])
            continue
        if current is not None:
            current.append(_BULLET.sub("", line).strip())
    return blocks


def _first(pattern: re.Pattern[str], lines: list[str]) -> str | None:
    for line in lines:
        match = pattern.search(line)
        if match is not None:
            return match.group("value").strip()
    return None


def parse_invitation(text: str) -> DialInfo:
    """Read the "Join by SIP" and "Join by H.323" blocks of an invitation.

    Raises :class:`DialStringError` when the text has neither block, when the H.323 passcode is
    not numeric, or when no meeting ID can be found. A SIP line that breaks the grammar is kept
    out of the targets and reported in ``problems``.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks = _blocks(lines)
    if not blocks:
        raise DialStringError(
            "invitation", "has no 'Join by SIP' or 'Join by H.323' block", text[:60]
        )
    problems: list[str] = []
    sip_lines = blocks.get("sip", [])
    h323_lines = blocks.get("h323", [])

    passcode = _first(_PASSCODE, h323_lines)
    if passcode is not None and not passcode.isdigit():
        raise DialStringError(
            "passcode", "the H.323 block's passcode must be digits (room-system passcode)", passcode
        )

    sip_parsed: list[DialTarget] = []
    for line in sip_lines:
        for uri in _SIP_URI.findall(line):
            try:
                sip_parsed.append(parse(uri))
            except DialStringError as exc:
                problems.append(f"Join by SIP: {uri}: {exc}")

    meeting_id = _first(_MEETING_ID, h323_lines)
    if meeting_id is not None:
        meeting_id = re.sub(r"[\s\-]", "", meeting_id)
    elif sip_parsed:
        meeting_id = sip_parsed[0].meeting_id
    else:
        meeting_id = _first(_MEETING_ID, lines)
        meeting_id = None if meeting_id is None else re.sub(r"[\s\-]", "", meeting_id)

    sip_targets = tuple(
        target._replace(passcode=target.passcode or passcode) for target in sip_parsed
    )
    h323_targets: list[DialTarget] = []
    labels: list[str | None] = []
    for line in h323_lines:
        if _MEETING_ID.search(line) or _PASSCODE.search(line):
            continue
        for match in _ADDRESS.finditer(line):
            if meeting_id is None:
                raise DialStringError("meeting_id", "the invitation names no meeting ID")
            h323_targets.append(
                DialTarget.h323(meeting_id, host=match.group("address"), passcode=passcode)
            )
            labels.append(match.group("label"))
    if "h323" in blocks and not h323_targets:
        problems.append("Join by H.323: the block lists no address")
    return DialInfo(
        source="invitation",
        meeting_id=meeting_id,
        passcode=passcode,
        sip_targets=sip_targets,
        h323_targets=tuple(h323_targets),
        h323_labels=tuple(labels),
        problems=tuple(problems),
    )
