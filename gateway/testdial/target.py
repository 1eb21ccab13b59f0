"""What a test dial calls: the dial-string engine's target, or the API's dial-in information.

``MEETING`` is a bare meeting ID (``824 1937 4650``), a Zoom dial string (``MID.PASS@host``,
``IP##MID#PASS``) or any SIP URI (``sip:bob@pbx.example.com``). Options override the fields of
the string: ``--passcode``, ``--layout``, ``--host-key``, ``--host HOST[:PORT]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from api_client import AsyncZoomClient
from api_client.realzoom import is_zoom_base
from signaling.dialstring import (
    DialInfo,
    DialStringError,
    DialTarget,
    from_seed_sip_dialing,
    from_zoom_sip_dialing,
    parse,
)
from signaling.sip.address import HostPort, is_sip_uri, parse_host_port
from signaling.sip.errors import SipConfigError

__all__ = [
    "TargetError",
    "TargetRequest",
    "api_dial_info",
    "apply_overrides",
    "parse_meeting",
]


class TargetError(ValueError):
    """The meeting or an option does not make a dial target (the message names which)."""


@dataclass(frozen=True)
class TargetRequest:
    meeting: str
    passcode: str | None = field(default=None, repr=False)
    layout: str | None = None
    host_key: str | None = field(default=None, repr=False)
    protocol: str | None = None
    host: str | None = None


def parse_meeting(request: TargetRequest) -> DialTarget | str:
    """The target the command line names, before any API lookup (a raw SIP URI stays a str)."""
    text = request.meeting.strip()
    bare = text.replace(" ", "").replace("-", "")
    if bare.isdigit():
        protocol = request.protocol or "sip"
        try:
            if protocol == "h323":
                if request.host is None:
                    raise TargetError(
                        "an H.323 test dial of a bare meeting ID needs --host (a CRC address; "
                        "`crcgw dialstring regions` lists them)"
                    )
                base = DialTarget.h323(bare, host=_host_option(request.host).host_literal())
            else:
                base = DialTarget.sip(bare)
        except DialStringError as exc:
            raise TargetError(f"MEETING: {exc}") from None
        return apply_overrides(base, request)
    try:
        target = parse(text)
    except DialStringError as exc:
        if is_sip_uri(text) and "##" not in text:
            if request.passcode or request.layout or request.host_key:
                raise TargetError(
                    "--passcode, --layout and --host-key need a Zoom dial string, not a plain "
                    "SIP URI"
                ) from None
            return text
        raise TargetError(f"MEETING: not a meeting ID, dial string or SIP URI: {exc}") from None
    if request.protocol is not None and request.protocol != target.protocol:
        raise TargetError(f"MEETING is a {target.protocol.upper()} dial string but --protocol "
                          f"is {request.protocol}")
    return apply_overrides(target, request)


def _host_option(text: str) -> HostPort:
    try:
        return parse_host_port(text)
    except SipConfigError as exc:
        raise TargetError(f"--host: {exc}") from None


def apply_overrides(target: DialTarget, request: TargetRequest) -> DialTarget:
    """The target with the fields given as options (validated like a dial string)."""
    passcode = request.passcode if request.passcode is not None else target.passcode
    layout = request.layout if request.layout is not None else target.layout
    host_key = request.host_key if request.host_key is not None else target.host_key
    host, port = target.host, target.port
    if request.host is not None:
        hop = _host_option(request.host)
        host, port = hop.host_literal(), hop.port
    try:
        if target.protocol == "h323":
            return DialTarget.h323(target.meeting_id, host=host or "", passcode=passcode,
                                   layout=layout, host_key=host_key, port=port)
        return DialTarget.sip(target.meeting_id, passcode=passcode, layout=layout,
                              host_key=host_key, host=host, port=port, params=target.params,
                              scheme=target.scheme)
    except DialStringError as exc:
        raise TargetError(str(exc)) from None


async def api_dial_info(
    client: AsyncZoomClient, meeting_id: str, passcode: str | None
) -> DialInfo:
    """The meeting's dial-in information: Zoom's ``POST /meetings/{id}/sip_dialing`` (URI kept
    as given; without a passcode, the meeting's ``h323_password`` from ``GET /meetings/{id}``)
    on api.zoom.us, else the seed's ``GET`` form that the emulator serves."""
    if is_zoom_base(client.credentials.base_url):
        if passcode is None:
            meeting = await client.meetings.get(meeting_id)
            if meeting.h323_password is not None:
                passcode = meeting.h323_password.get_secret_value() or None
        answer = await client.meetings.create_sip_uri(meeting_id, passcode)
        return from_zoom_sip_dialing(answer.model_dump(mode="json"), meeting_id)
    seed = (await client.meetings.sip_dialing(meeting_id)).sip_dialing
    password = seed.password.get_secret_value() if seed.password else None
    return from_seed_sip_dialing({"sip_dialing": {
        "uri": seed.uri, "password": password,
        "ip_addresses": [str(ip) for ip in seed.ip_addresses],
    }})
