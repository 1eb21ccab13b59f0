"""fastStart (H.323 8.1.7): logical channels proposed in Setup and answered before Connect.

The caller proposes, per codec, a channel it transmits on (forward parameters) and one it
receives on (reverse parameters, with its RTP address). The callee answers by echoing the pair
for the codec it picks, adding its own RTP address to the channel it will receive.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from signaling.h323 import per
from signaling.h323.errors import H323DecodeError
from signaling.h323.h245 import G711_CODECS

__all__ = [
    "FastStartChannel",
    "answer_fast_start",
    "fast_start_proposals",
    "parse_channels",
]

Address = tuple[str, int]


def unicast(host: str, port: int) -> tuple[str, Any]:
    address = ipaddress.ip_address(host)
    if address.version == 4:
        ip = ("iPAddress", {"network": address.packed, "tsapIdentifier": port})
    else:
        ip = ("iP6Address", {"network": address.packed, "tsapIdentifier": port})
    return ("unicastAddress", ip)


def media_address(value: Any) -> Address | None:
    if not (isinstance(value, tuple) and value[0] == "unicastAddress"):
        return None
    kind, body = value[1]
    if kind in ("iPAddress", "iP6Address"):
        return str(ipaddress.ip_address(body["network"])), int(body["tsapIdentifier"])
    return None


_NO_DATA = {"dataType": ("nullData", 0), "multiplexParameters": ("none", 0)}
"""The parameters of a channel's unused direction."""


def h2250_params(data_type: Any, addresses: dict[str, Any]) -> dict[str, Any]:
    """Channel parameters carrying ``data_type`` over RTP session 1, at ``addresses``
    (``mediaChannel`` and/or ``mediaControlChannel``)."""
    return {
        "dataType": data_type,
        "multiplexParameters": ("h2250LogicalChannelParameters", {"sessionID": 1, **addresses}),
    }


def _h2250(params: dict[str, Any]) -> dict[str, Any]:
    multiplex = params.get("multiplexParameters", ("none", 0))
    return multiplex[1] if multiplex[0] == "h2250LogicalChannelParameters" else {}


@dataclass(frozen=True, slots=True)
class FastStartChannel:
    """One proposed or accepted channel, seen from the side that wrote the OpenLogicalChannel:
    ``transmit`` (forward parameters carry the audio) or ``receive`` (reverse parameters do)."""

    number: int
    direction: Literal["transmit", "receive"]
    codec: str
    rtp: Address | None
    rtcp: Address | None


def parse_channels(elements: Sequence[bytes]) -> list[FastStartChannel]:
    """The audio channels among fastStart elements (others and undecodable ones are skipped)."""
    channels: list[FastStartChannel] = []
    for data in elements:
        try:
            olc = per.decode_open_logical_channel(data)
        except H323DecodeError:
            continue
        forward = olc["forwardLogicalChannelParameters"]
        reverse = olc.get("reverseLogicalChannelParameters")
        if forward["dataType"][0] == "audioData":
            params, direction = forward, "transmit"
        elif reverse is not None and reverse["dataType"][0] == "audioData":
            params, direction = reverse, "receive"
        else:
            continue
        h2250 = _h2250(params)
        channels.append(
            FastStartChannel(
                int(olc["forwardLogicalChannelNumber"]),
                direction,  # type: ignore[arg-type]
                str(params["dataType"][1][0]),
                media_address(h2250.get("mediaChannel")),
                media_address(h2250.get("mediaControlChannel")),
            )
        )
    return channels


def fast_start_proposals(
    host: str, rtp_port: int, codecs: tuple[str, ...] = G711_CODECS, frames: int = 20
) -> list[bytes]:
    """fastStart elements: per codec, one channel we transmit and one we receive on ``rtp_port``."""
    proposals: list[bytes] = []
    rtcp = unicast(host, rtp_port + 1)
    for codec in codecs:
        audio = ("audioData", (codec, frames))
        transmit = {
            "forwardLogicalChannelNumber": len(proposals) + 1,
            "forwardLogicalChannelParameters": h2250_params(audio, {"mediaControlChannel": rtcp}),
        }
        receive = {
            "forwardLogicalChannelNumber": len(proposals) + 2,
            "forwardLogicalChannelParameters": _NO_DATA,
            "reverseLogicalChannelParameters": h2250_params(
                audio, {"mediaChannel": unicast(host, rtp_port), "mediaControlChannel": rtcp}
            ),
        }
        proposals.append(per.encode_open_logical_channel(transmit))
        proposals.append(per.encode_open_logical_channel(receive))
    return proposals


def answer_fast_start(
    proposals: Sequence[bytes],
    host: str,
    rtp_port: int,
    codecs: tuple[str, ...] = G711_CODECS,
) -> tuple[list[bytes], str | None]:
    """The callee's answer: the first proposed codec we support in both directions.

    Returns the OpenLogicalChannel elements to send back (empty when nothing fits) and the codec.
    Our RTP address (``host:rtp_port``) goes into the channel the caller transmits on.
    """
    channels = parse_channels(proposals)
    for offered in channels:
        if offered.codec not in codecs or offered.direction != "transmit":
            continue
        back = next(
            (c for c in channels if c.codec == offered.codec and c.direction == "receive"), None
        )
        if back is None:
            continue
        audio = ("audioData", (offered.codec, 20))
        rtcp = unicast(host, rtp_port + 1)
        they_send = {
            "forwardLogicalChannelNumber": offered.number,
            "forwardLogicalChannelParameters": h2250_params(
                audio, {"mediaChannel": unicast(host, rtp_port), "mediaControlChannel": rtcp}
            ),
        }
        reverse: dict[str, Any] = {"mediaControlChannel": rtcp}
        if back.rtp is not None:
            reverse["mediaChannel"] = unicast(*back.rtp)
        we_send = {
            "forwardLogicalChannelNumber": back.number,
            "forwardLogicalChannelParameters": _NO_DATA,
            "reverseLogicalChannelParameters": h2250_params(audio, reverse),
        }
        answer = [
            per.encode_open_logical_channel(they_send),
            per.encode_open_logical_channel(we_send),
        ]
        return answer, offered.codec
    return [], None
