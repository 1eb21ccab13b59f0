"""H.225.0 call-signalling content: aliases, addresses and the UUIEs of each Q.931 message.

:class:`UserInformation` is the decoded H323-UserInformation (the user-user IE); the ``*_uuie``
functions build the body of each message; :class:`CallMessage` pairs the Q.931 frame with it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from signaling.h323 import per
from signaling.h323.errors import PerError
from signaling.h323.q931 import Q931Message

__all__ = [
    "PROTOCOL_IDENTIFIER",
    "Alias",
    "CallMessage",
    "UserInformation",
    "alerting_uuie",
    "alias_from_value",
    "call_proceeding_uuie",
    "connect_uuie",
    "endpoint_type",
    "facility_uuie",
    "release_complete_uuie",
    "setup_uuie",
    "status_uuie",
    "transport_address",
    "transport_from_value",
]

#: itu-t(0) recommendation(0) h(8) 2250 version(0) 4
PROTOCOL_IDENTIFIER = (0, 0, 8, 2250, 0, 4)
DIALLED_DIGITS_ALPHABET = frozenset("0123456789#*,")

AliasKind = Literal["dialledDigits", "h323-ID", "url-ID", "email-ID"]
_ALIAS_KINDS: tuple[AliasKind, ...] = ("dialledDigits", "h323-ID", "url-ID", "email-ID")


class Alias(NamedTuple):
    """One AliasAddress: ``Alias("dialledDigits", "123456789#4321")``."""

    kind: AliasKind
    value: str

    @classmethod
    def digits(cls, value: str) -> Alias:
        bad = sorted(set(value) - DIALLED_DIGITS_ALPHABET)
        if not value or len(value) > 128 or bad:
            raise ValueError(
                f"dialledDigits must be 1-128 of 0-9 # * , (got {len(value)} chars"
                + (f", bad {''.join(bad)!r})" if bad else ")")
            )
        return cls("dialledDigits", value)

    @classmethod
    def h323_id(cls, value: str) -> Alias:
        if not 1 <= len(value) <= 256:
            raise ValueError(f"h323-ID must be 1-256 characters (got {len(value)})")
        return cls("h323-ID", value)

    def to_value(self) -> tuple[str, str]:
        return (self.kind, self.value)


def alias_from_value(value: tuple[str, Any]) -> Alias | None:
    """An :class:`Alias` from pycrate's ``(kind, value)``; ``None`` for forms not kept here."""
    kind, text = value
    if not isinstance(text, str):
        return None
    for known in _ALIAS_KINDS:
        if kind == known:
            return Alias(known, text)
    return None


def transport_address(host: str, port: int) -> tuple[str, dict[str, Any]]:
    """A TransportAddress for an IPv4 or IPv6 literal."""
    address = ipaddress.ip_address(host)
    if address.version == 4:
        return ("ipAddress", {"ip": address.packed, "port": port})
    return ("ip6Address", {"ip": address.packed, "port": port})


def transport_from_value(value: tuple[str, Any]) -> tuple[str, int] | None:
    """``(host, port)`` from a TransportAddress value; ``None`` for non-IP forms."""
    kind, body = value
    if kind in ("ipAddress", "ip6Address") and isinstance(body, dict):
        return str(ipaddress.ip_address(body["ip"])), int(body["port"])
    return None


def endpoint_type(*, product: str = "crcgw", version: str = "0.1") -> dict[str, Any]:
    """EndpointType of a terminal with crcgw's vendor identification."""
    return {
        "vendor": {
            "vendor": {"t35CountryCode": 181, "t35Extension": 0, "manufacturerCode": 0x6367},
            "productId": product.encode("ascii", errors="replace")[:256],
            "versionId": version.encode("ascii", errors="replace")[:256],
        },
        "terminal": {},
        "mc": False,
        "undefinedNode": False,
    }


def setup_uuie(
    *,
    destination: list[Alias],
    source: list[Alias],
    conference_id: bytes,
    call_identifier: bytes,
    destination_address: tuple[str, int] | None = None,
    source_address: tuple[str, int] | None = None,
    fast_start: list[bytes] | None = None,
) -> dict[str, Any]:
    """Setup-UUIE: a point-to-point call creating a conference, aliases in both forms."""
    uuie: dict[str, Any] = {"protocolIdentifier": PROTOCOL_IDENTIFIER}
    if source:
        uuie["sourceAddress"] = [alias.to_value() for alias in source]
    uuie["sourceInfo"] = endpoint_type()
    if destination:
        uuie["destinationAddress"] = [alias.to_value() for alias in destination]
    if destination_address is not None:
        uuie["destCallSignalAddress"] = transport_address(*destination_address)
    uuie.update(
        activeMC=False,
        conferenceID=conference_id,
        conferenceGoal=("create", 0),
        callType=("pointToPoint", 0),
    )
    if source_address is not None:
        uuie["sourceCallSignalAddress"] = transport_address(*source_address)
    uuie["callIdentifier"] = {"guid": call_identifier}
    if fast_start:
        uuie["fastStart"] = list(fast_start)
    uuie.update(mediaWaitForConnect=False, canOverlapSend=False)
    uuie.update(multipleCalls=False, maintainConnection=False)
    return uuie


def call_proceeding_uuie(
    call_identifier: bytes,
    fast_start: list[bytes] | None = None,
    h245_address: tuple[str, int] | None = None,
) -> dict[str, Any]:
    """Call Proceeding (and Alerting) UUIE; ``h245_address`` is where our H.245 listens."""
    uuie: dict[str, Any] = {
        "protocolIdentifier": PROTOCOL_IDENTIFIER,
        "destinationInfo": endpoint_type(),
        "callIdentifier": {"guid": call_identifier},
    }
    if h245_address is not None:
        uuie["h245Address"] = transport_address(*h245_address)
    if fast_start:
        uuie["fastStart"] = list(fast_start)
    return uuie | {"multipleCalls": False, "maintainConnection": False}


def alerting_uuie(
    call_identifier: bytes, h245_address: tuple[str, int] | None = None
) -> dict[str, Any]:
    return call_proceeding_uuie(call_identifier, h245_address=h245_address)


def connect_uuie(
    conference_id: bytes, call_identifier: bytes, h245_address: tuple[str, int] | None = None
) -> dict[str, Any]:
    """Connect-UUIE; ``h245_address`` is where our H.245 listens (no tunnelling)."""
    uuie: dict[str, Any] = {"protocolIdentifier": PROTOCOL_IDENTIFIER}
    if h245_address is not None:
        uuie["h245Address"] = transport_address(*h245_address)
    return uuie | {
        "destinationInfo": endpoint_type(),
        "conferenceID": conference_id,
        "callIdentifier": {"guid": call_identifier},
        "multipleCalls": False,
        "maintainConnection": False,
    }


def release_complete_uuie(reason: str | None, call_identifier: bytes) -> dict[str, Any]:
    uuie: dict[str, Any] = {"protocolIdentifier": PROTOCOL_IDENTIFIER}
    if reason is not None:
        uuie["reason"] = (reason, 0)
    uuie["callIdentifier"] = {"guid": call_identifier}
    return uuie


def facility_uuie(
    reason: str,
    call_identifier: bytes,
    conference_id: bytes,
    alternative_address: tuple[str, int] | None = None,
) -> dict[str, Any]:
    """Facility-UUIE; ``callForwarded`` with ``alternative_address`` redirects the caller."""
    uuie: dict[str, Any] = {"protocolIdentifier": PROTOCOL_IDENTIFIER}
    if alternative_address is not None:
        uuie["alternativeAddress"] = transport_address(*alternative_address)
    return uuie | {
        "conferenceID": conference_id,
        "reason": (reason, 0),
        "callIdentifier": {"guid": call_identifier},
        "multipleCalls": False,
        "maintainConnection": False,
    }


def status_uuie(call_identifier: bytes) -> dict[str, Any]:
    return {"protocolIdentifier": PROTOCOL_IDENTIFIER, "callIdentifier": {"guid": call_identifier}}


@dataclass(frozen=True, slots=True)
class UserInformation:
    """The H323-UserInformation of one message: the body's CHOICE name and its UUIE value.

    ``body`` is ``"setup"``, ``"connect"``, ``"releaseComplete"``, … (``"empty"`` carries only
    tunnelled H.245); ``h245_control`` holds PER-encoded H.245 messages in the tunnel.
    """

    body: str
    uuie: dict[str, Any] = field(default_factory=dict)
    h245_tunnelling: bool | None = None
    h245_control: tuple[bytes, ...] = ()

    def encode(self) -> bytes:
        pdu: dict[str, Any] = {
            "h323-message-body": (self.body, 0 if self.body == "empty" else self.uuie)
        }
        if self.h245_tunnelling is not None:
            pdu["h245Tunnelling"] = self.h245_tunnelling
        if self.h245_control:
            pdu["h245Control"] = list(self.h245_control)
        return per.encode_user_information({"h323-uu-pdu": pdu})

    @classmethod
    def decode(cls, data: bytes) -> UserInformation:
        value = per.decode_user_information(data)
        try:
            pdu = value["h323-uu-pdu"]
            body, uuie = pdu["h323-message-body"]
        except (KeyError, TypeError, ValueError) as exc:
            raise PerError(f"H323-UserInformation without a message body: {exc}") from exc
        return cls(
            body,
            uuie if isinstance(uuie, dict) else {},
            pdu.get("h245Tunnelling"),
            tuple(pdu.get("h245Control", ())),
        )

    # -- the fields crcgw reads ---------------------------------------------------------------

    @property
    def protocol_identifier(self) -> tuple[int, ...] | None:
        value = self.uuie.get("protocolIdentifier")
        return tuple(value) if value is not None else None

    @property
    def call_identifier(self) -> bytes | None:
        value = self.uuie.get("callIdentifier")
        return value.get("guid") if isinstance(value, dict) else None

    @property
    def conference_id(self) -> bytes | None:
        value = self.uuie.get("conferenceID")
        return value if isinstance(value, bytes) else None

    def aliases(self, key: str = "destinationAddress") -> list[Alias]:
        return [a for a in map(alias_from_value, self.uuie.get(key, ())) if a is not None]

    @property
    def release_reason(self) -> str | None:
        value = self.uuie.get("reason")
        return value[0] if isinstance(value, tuple) else None

    @property
    def h245_address(self) -> tuple[str, int] | None:
        """Where the sender's H.245 listens (Call Proceeding, Alerting, Connect, Facility…)."""
        value = self.uuie.get("h245Address")
        return transport_from_value(value) if value is not None else None

    @property
    def fast_start(self) -> tuple[bytes, ...]:
        return tuple(self.uuie.get("fastStart", ()))


@dataclass(frozen=True, slots=True)
class CallMessage:
    """A Q.931 message and its decoded user-user information (``None`` when absent)."""

    q931: Q931Message
    uu: UserInformation | None

    @classmethod
    def parse(cls, payload: bytes) -> CallMessage:
        """Decode the TPKT payload of one call-signalling message (Q.931, then PER)."""
        q931 = Q931Message.parse(payload)
        uu = None if q931.user_user is None else UserInformation.decode(q931.user_user)
        return cls(q931, uu)

    @property
    def name(self) -> str:
        return self.q931.name

    def __bytes__(self) -> bytes:
        return bytes(self.q931)
