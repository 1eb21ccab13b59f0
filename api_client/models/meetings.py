"""Meeting dial-in models.

- seed (non-Zoom) ``GET /meetings/{id}/sip_dialing`` -> ``{"sip_dialing": {"uri", "password",
  "ip_addresses"}}`` and ``GET /meetings/{id}/h323_dialing``;
- Zoom ``POST /meetings/{id}/sip_dialing`` -> ``{sip_dialing, paid_crc_plan_participant,
  participant_identifier_code, expire_in}`` (the URI is a string, valid ``expire_in`` seconds);
- Zoom ``GET /meetings/{id}/invitation`` -> ``{"invitation": "<text>", "sip_links": [...]}``; the
  H.323 addresses are read from the text's "Join by H.323" block.
"""

from __future__ import annotations

import ipaddress
import re

from pydantic import Field, IPvAnyAddress

from api_client.models._base import ApiModel, RequestModel, Secret

__all__ = [
    "H323Dialing",
    "MeetingInvitation",
    "MeetingSipUri",
    "MeetingSipUriRequest",
    "SeedSipDialing",
    "SipDialingInfo",
]


class SipDialingInfo(ApiModel):
    uri: str = Field(min_length=3)
    password: Secret | None = None
    ip_addresses: list[IPvAnyAddress] = Field(default_factory=list)


class SeedSipDialing(ApiModel):
    """Seed (non-Zoom) ``GET /meetings/{meetingId}/sip_dialing``."""

    sip_dialing: SipDialingInfo


class H323Dialing(ApiModel):
    """Seed (non-Zoom) ``GET /meetings/{meetingId}/h323_dialing``."""

    meeting_id: str | None = None
    password: Secret | None = None
    ip_addresses: list[IPvAnyAddress] = Field(default_factory=list)


class MeetingSipUriRequest(RequestModel):
    """Zoom ``POST /meetings/{meetingId}/sip_dialing`` body (Zoom does not check the passcode)."""

    passcode: Secret | None = Field(default=None, max_length=10)


class MeetingSipUri(ApiModel):
    """Zoom ``POST /meetings/{meetingId}/sip_dialing`` answer."""

    sip_dialing: str = Field(min_length=3)
    paid_crc_plan_participant: bool | None = None
    participant_identifier_code: str | None = None
    expire_in: int | None = Field(default=None, ge=0)


_H323_BLOCK = re.compile(r"H\.323:?\s*\n(?P<block>(?:[^\n]*\n?)+?)(?:\n\s*\n|\Z)", re.I)
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")


class MeetingInvitation(ApiModel):
    """Zoom ``GET /meetings/{meetingId}/invitation``: the text and ``sip_links`` (SIP URIs such
    as ``5550100@zoomcrc.com``)."""

    invitation: str
    sip_links: list[str] = Field(default_factory=list)

    def h323_ip_addresses(self) -> list[str]:
        """The addresses listed under "Join by H.323" (or anywhere, when there is no such block)."""
        match = _H323_BLOCK.search(self.invitation)
        text = match.group("block") if match else self.invitation
        found: list[str] = []
        for candidate in _IPV4.findall(text):
            try:
                ipaddress.IPv4Address(candidate)
            except ValueError:
                continue
            if candidate not in found:
                found.append(candidate)
        return found
