"""Dial targets from Zoom API answers, taken as plain mappings (``signaling`` knows no HTTP client).

Two shapes exist, and both are supported:

- **Seed shape (not a documented Zoom API)**: ``GET /meetings/{id}/sip_dialing`` answering
  ``{"sip_dialing": {"uri": "12345678910@zoomcrc.com", "password": "…", "ip_addresses": […]}}``.
  Only the user's seed document and crcgw's emulator serve it. Its ``password`` becomes the
  passcode when it is numeric; an alphanumeric one is a web passcode that a room cannot key in,
  so it is left out and reported in ``problems``.
- **Real Zoom**: ``POST /meetings/{id}/sip_dialing`` answering ``{"sip_dialing": "<uri>",
  "paid_crc_plan_participant": bool, "participant_identifier_code": "…", "expire_in": 7200}``.
  Zoom encodes the URI (it may embed the participant identifier code) and does not document its
  layout, so it is kept exactly as given in :attr:`DialInfo.opaque_sip_uri`; it is parsed into a
  target only when it happens to follow the public grammar.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from signaling.dialstring._errors import DialStringError
from signaling.dialstring._parse import parse
from signaling.dialstring._target import DialTarget
from signaling.dialstring.invitation import DialInfo
from signaling.dialstring.regions import region_for_address

__all__ = ["from_seed_sip_dialing", "from_zoom_sip_dialing"]


def _answer_body(answer: Mapping[str, Any], key: str) -> Any:
    if key not in answer:
        raise DialStringError("sip_dialing", f"the answer has no {key!r} field", str(list(answer)))
    return answer[key]


def from_seed_sip_dialing(answer: Mapping[str, Any]) -> DialInfo:
    """Targets from the seed's ``{"sip_dialing": {"uri", "password", "ip_addresses"}}`` answer."""
    body = _answer_body(answer, "sip_dialing")
    if not isinstance(body, Mapping):
        raise DialStringError("sip_dialing", "must be an object with uri and password", str(body))
    problems: list[str] = []
    password = body.get("password") or None
    passcode: str | None = None
    if password is not None:
        if str(password).isdigit() and len(str(password)) <= 10:
            passcode = str(password)
        else:
            problems.append(
                "password is not a numeric room-system passcode; dial without it and enter "
                "the meeting's H.323 passcode when prompted"
            )
    uri = body.get("uri")
    if not isinstance(uri, str):
        raise DialStringError("sip_dialing.uri", "is missing from the answer")
    sip = parse(uri)
    if passcode is not None and sip.passcode is None:
        sip = sip._replace(passcode=passcode)
    addresses = body.get("ip_addresses") or []
    if not isinstance(addresses, Sequence) or isinstance(addresses, str):
        raise DialStringError("sip_dialing.ip_addresses", "must be a list", str(addresses))
    h323 = tuple(
        DialTarget.h323(sip.meeting_id, host=str(address), passcode=sip.passcode)
        for address in addresses
    )
    labels = tuple(_label(str(address)) for address in addresses)
    return DialInfo(
        source="seed:GET /meetings/{id}/sip_dialing",
        meeting_id=sip.meeting_id,
        passcode=sip.passcode,
        sip_targets=(sip,),
        h323_targets=h323,
        h323_labels=labels,
        problems=tuple(problems),
    )


def _label(address: str) -> str | None:
    region = region_for_address(address)
    return None if region is None else region.label


def from_zoom_sip_dialing(answer: Mapping[str, Any], meeting_id: str | int) -> DialInfo:
    """The real ``POST /meetings/{id}/sip_dialing`` answer: the URI kept opaque, as Zoom gave it."""
    uri = _answer_body(answer, "sip_dialing")
    if not isinstance(uri, str) or "@" not in uri:
        raise DialStringError("sip_dialing", "must be a SIP URI string", str(uri))
    expires = answer.get("expire_in")
    targets: tuple[DialTarget, ...] = ()
    problems: tuple[str, ...] = ()
    try:
        targets = (parse(uri),)
    except DialStringError as exc:
        problems = (f"the URI does not follow the public grammar ({exc}); dial it as given",)
    return DialInfo(
        source="zoom:POST /meetings/{id}/sip_dialing",
        meeting_id=DialTarget.sip(meeting_id).meeting_id,
        passcode=None,
        sip_targets=targets,
        problems=problems,
        opaque_sip_uri=uri if uri.lower().startswith(("sip:", "sips:")) else f"sip:{uri}",
        expires_in=int(str(expires)) if str(expires).isdigit() else None,
    )
