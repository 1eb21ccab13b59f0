"""DialTarget: one meeting as a SIP or H.323 room system dials it.

SIP (user part fields are positional, empty interior fields keep their dots)::

    MID[.PASSCODE[.LAYOUT[.HOSTKEY]]]@HOST[:PORT][;params]
    123456789..308@192.168.1.25        layout, no passcode
    123456789.1234..876543@zoomcrc.com  host key, no layout

H.323 (Zoom CRC form)::

    HOST[:PORT]##MID[#PASSCODE[#LAYOUT[#HOSTKEY]]]
    162.255.37.11##123456789##308       layout, no passcode
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from signaling.dialstring._errors import DialStringError
from signaling.dialstring._fields import (
    check_host,
    check_host_key,
    check_layout,
    check_params,
    check_passcode,
    check_port,
    normalise_meeting_id,
    optional,
)

__all__ = ["DEFAULT_SIP_HOST", "DialTarget", "Protocol", "Scheme"]

Protocol = Literal["sip", "h323"]
Scheme = Literal["sip", "sips"]

DEFAULT_SIP_HOST = "zoomcrc.com"


def _join_fields(meeting_id: str, separator: str, rest: tuple[str | None, ...]) -> str:
    """``MID`` plus the optional fields, empty interior fields kept, trailing ones dropped."""
    fields = [meeting_id, *("" if value is None else value for value in rest)]
    while len(fields) > 1 and fields[-1] == "":
        fields.pop()
    return separator.join(fields)


class DialTarget(NamedTuple):
    """A parsed or built dial target; immutable, hashable, cheap to create.

    A ``NamedTuple`` (as :func:`urllib.parse.urlsplit`'s result is) because batch jobs parse
    thousands of strings: creation costs a third of a frozen dataclass. Equality ignores
    ``scheme`` (how a SIP URI was written, ``sip`` or ``sips``) and never equals a plain tuple.
    """

    protocol: Protocol
    meeting_id: str
    passcode: str | None = None
    layout: str | None = None
    host_key: str | None = None
    host: str | None = None
    port: int | None = None
    params: str = ""
    scheme: Scheme = "sip"

    # -- builders ---------------------------------------------------------------------------

    @classmethod
    def sip(
        cls,
        meeting_id: str | int,
        *,
        passcode: str | None = None,
        layout: str | int | None = None,
        host_key: str | None = None,
        host: str | None = DEFAULT_SIP_HOST,
        port: int | str | None = None,
        params: str = "",
        scheme: Scheme = "sip",
    ) -> DialTarget:
        """Build a SIP target; the meeting ID may be typed with spaces or dashes."""
        if scheme not in ("sip", "sips"):
            raise DialStringError("scheme", "must be 'sip' or 'sips'", str(scheme))
        return cls(
            "sip",
            normalise_meeting_id(meeting_id),
            check_passcode(optional(passcode)),
            check_layout(optional(None if layout is None else str(layout))),
            check_host_key(optional(host_key)),
            check_host(optional(host) or DEFAULT_SIP_HOST),
            check_port(port),
            check_params(params),
            scheme,
        )

    @classmethod
    def h323(
        cls,
        meeting_id: str | int,
        *,
        host: str,
        passcode: str | None = None,
        layout: str | int | None = None,
        host_key: str | None = None,
        port: int | str | None = None,
    ) -> DialTarget:
        """Build an H.323 target for one CRC address (see :mod:`signaling.dialstring.regions`)."""
        stripped = optional(host)
        if stripped is None:
            raise DialStringError("host", "is missing: an H.323 dial string needs the CRC IP")
        return cls(
            "h323",
            normalise_meeting_id(meeting_id),
            check_passcode(optional(passcode)),
            check_layout(optional(None if layout is None else str(layout))),
            check_host_key(optional(host_key)),
            check_host(stripped),
            check_port(port),
        )

    # -- rendering --------------------------------------------------------------------------

    def user_part(self) -> str:
        """The fields as dialled: ``MID.PASS.LAYOUT.HOSTKEY`` (SIP) or ``MID#PASS#…`` (H.323)."""
        separator = "." if self.protocol == "sip" else "#"
        return _join_fields(
            self.meeting_id, separator, (self.passcode, self.layout, self.host_key)
        )

    def host_port(self) -> str:
        host = self.host or ""
        return host if self.port is None else f"{host}:{self.port}"

    def dial_string(self) -> str:
        """The canonical string a room system dials, without a URI scheme."""
        if self.protocol == "h323":
            return f"{self.host_port()}##{self.user_part()}"
        return f"{self.user_part()}@{self.host_port()}{self.params}"

    def sip_uri(self) -> str:
        """The SIP URI with its scheme and kept parameters (SIP targets only)."""
        if self.protocol != "sip":
            raise DialStringError("protocol", "sip_uri() is for SIP targets only", self.protocol)
        return f"{self.scheme}:{self.dial_string()}"

    def without_secrets(self) -> DialTarget:
        """The same target with passcode and host key removed, for dialling and sending by IVR."""
        return self._replace(passcode=None, host_key=None)

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` shape: protocol, fields, ``dial_string`` and, for SIP, ``sip_uri``."""
        data: dict[str, Any] = {
            "protocol": self.protocol,
            "meeting_id": self.meeting_id,
            "passcode": self.passcode,
            "layout": self.layout,
            "host_key": self.host_key,
            "host": self.host,
            "dial_string": self.dial_string(),
        }
        if self.port is not None:
            data["port"] = self.port
        if self.protocol == "sip":
            data["sip_uri"] = self.sip_uri()
        return data

    def __str__(self) -> str:
        return self.dial_string()

    def __repr__(self) -> str:
        # A passcode or host key is a secret: keep both out of logs and tracebacks.
        hidden = ", ".join(
            f"{name}=***" for name in ("passcode", "host_key") if getattr(self, name)
        )
        extra = f", {hidden}" if hidden else ""
        return (
            f"DialTarget(protocol={self.protocol!r}, meeting_id={self.meeting_id!r}, "
            f"layout={self.layout!r}, host={self.host_port()!r}{extra})"
        )

    # -- identity ---------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        # Never NotImplemented: tuple's reflected comparison would call a plain tuple equal.
        return type(other) is DialTarget and tuple.__eq__(self[:8], other[:8])

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self[:8])
