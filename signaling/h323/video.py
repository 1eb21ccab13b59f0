"""H.264 video for H.323 calls in H.245, sans I/O: the capability (H.241) and the video channels.

H.264 is signalled as a ``genericVideoCapability`` whose identifier is the H.264 capability OID
0.0.8.241.0.0.1 (ITU-T H.241 8.3) with collapsing parameters 41 (profile, a booleanArray: 64 is
Baseline) and 42 (level, unsignedMin: 15 = 1, 22 = 1.1, 29 = 1.2, 36 = 1.3, 43 = 2, 50 = 2.1,
57 = 2.2, 64 = 3, 71 = 3.1, 78 = 3.2, 85 = 4); ``maxBitRate`` counts 100 bit/s. The channels
run in H.225.0 session 2 with a dynamic RTP payload type named in the OpenLogicalChannel.
:class:`VideoChannels` works like :class:`~signaling.h323.channels.LogicalChannels` for audio:
each side opens the channel it transmits on, the receiver acks with its RTP address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from signaling.h323.channels import accept_channel, reject_channel
from signaling.h323.faststart import Address, media_address, unicast

__all__ = [
    "H264_OID",
    "H264Capability",
    "VideoChannels",
    "h264_capability",
    "parse_h264",
    "remote_h264",
]

H264_OID = (0, 0, 8, 241, 0, 0, 1)
PROFILE_PARAMETER, LEVEL_PARAMETER = 41, 42
PROFILE_BASELINE = 64
LEVEL_3_1 = 71
SESSION_VIDEO = 2
VIDEO_CHANNEL = 2  # our forward channel number (audio is 1)
PAYLOAD_TYPE = 109  # the dynamic RTP payload type we send H.264 with
H245Message = tuple[str, tuple[str, Any]]


@dataclass(frozen=True, slots=True)
class H264Capability:
    """What one side says of its H.264: H.241 profile bits, level, maximum bit rate (kbit/s)."""

    profile: int = PROFILE_BASELINE
    level: int = LEVEL_3_1
    max_kbps: int = 1024


def h264_capability(cap: H264Capability) -> tuple[str, dict[str, Any]]:
    """The ``genericVideoCapability`` VideoCapability value for ``cap``."""
    return (
        "genericVideoCapability",
        {
            "capabilityIdentifier": ("standard", H264_OID),
            "maxBitRate": cap.max_kbps * 10,
            "collapsing": [
                {
                    "parameterIdentifier": ("standard", PROFILE_PARAMETER),
                    "parameterValue": ("booleanArray", cap.profile),
                },
                {
                    "parameterIdentifier": ("standard", LEVEL_PARAMETER),
                    "parameterValue": ("unsignedMin", cap.level),
                },
            ],
        },
    )


def parse_h264(video: Any) -> H264Capability | None:
    """An :class:`H264Capability` from a VideoCapability value; ``None`` for anything else."""
    if not (isinstance(video, tuple) and video[0] == "genericVideoCapability"):
        return None
    body = video[1]
    if body.get("capabilityIdentifier") != ("standard", H264_OID):
        return None
    params = {
        p["parameterIdentifier"][1]: p["parameterValue"][1]
        for p in body.get("collapsing", ())
        if p.get("parameterIdentifier", ("", 0))[0] == "standard"
    }
    return H264Capability(
        int(params.get(PROFILE_PARAMETER, PROFILE_BASELINE)),
        int(params.get(LEVEL_PARAMETER, 0)),
        int(body.get("maxBitRate", 0)) // 10,
    )


def remote_h264(tcs: dict[str, Any]) -> H264Capability | None:
    """The H.264 receive capability in a TerminalCapabilitySet body, if it has one."""
    for entry in tcs.get("capabilityTable", ()):
        capability = entry.get("capability")
        kinds = ("receiveVideoCapability", "receiveAndTransmitVideoCapability")
        if capability and capability[0] in kinds:
            found = parse_h264(capability[1])
            if found is not None:
                return found
    return None


@dataclass(slots=True)
class VideoChannels:
    """Our H.264 transmit channel and the peer's, one side of H.245.

    ``rtp`` is where we receive video RTP (RTCP one port above). With ``initiate`` our channel
    opens once the capability exchange is done and the peer can receive H.264; otherwise only
    in return for the peer's. ``transmit_to``/``transmit_rtcp`` are set when our channel is
    acknowledged; ``receive_payload_type`` when we accepted the peer's; ``rejected`` holds a
    refusal's cause.
    """

    rtp: Address
    capability: H264Capability = H264Capability()
    initiate: bool = True
    payload_type: int = PAYLOAD_TYPE
    requested: bool = False
    transmit_to: Address | None = None
    transmit_rtcp: Address | None = None
    receive_payload_type: int | None = None
    rejected: str | None = None

    def open(self, remote: H264Capability | None) -> list[H245Message]:
        """Our OpenLogicalChannel for H.264 when the peer can receive it (once)."""
        if self.requested or remote is None:
            return []
        self.requested = True
        level = min(self.capability.level, remote.level) if remote.level else self.capability.level
        sent = H264Capability(self.capability.profile, level, self.capability.max_kbps)
        olc = {
            "forwardLogicalChannelNumber": VIDEO_CHANNEL,
            "forwardLogicalChannelParameters": {
                "dataType": ("videoData", h264_capability(sent)),
                "multiplexParameters": (
                    "h2250LogicalChannelParameters",
                    {
                        "sessionID": SESSION_VIDEO,
                        "mediaControlChannel": unicast(self.rtp[0], self.rtp[1] + 1),
                        "dynamicRTPPayloadType": self.payload_type,
                    },
                ),
            },
        }
        return [("request", ("openLogicalChannel", olc))]

    def owns(self, name: str, body: dict[str, Any]) -> bool:
        """Whether an OpenLogicalChannel(Ack/Reject) from the peer is about video."""
        if name == "openLogicalChannel":
            data_type = body["forwardLogicalChannelParameters"]["dataType"]
            return bool(data_type[0] == "videoData")
        return self.requested and int(body["forwardLogicalChannelNumber"]) == VIDEO_CHANNEL

    def receive(self, name: str, body: dict[str, Any]) -> list[H245Message]:
        if name == "openLogicalChannel":
            return self._peer_opens(body)
        if name == "openLogicalChannelAck":
            multiplex = body.get("forwardMultiplexAckParameters", ("", {}))
            params = multiplex[1] if multiplex[0] == "h2250LogicalChannelAckParameters" else {}
            self.transmit_to = media_address(params.get("mediaChannel"))
            self.transmit_rtcp = media_address(params.get("mediaControlChannel"))
            if self.transmit_to is None:
                self.rejected = "acknowledged without a media address"
        elif name == "openLogicalChannelReject":
            self.rejected = str(body.get("cause", ("unspecified", 0))[0])
        return []

    def _peer_opens(self, body: dict[str, Any]) -> list[H245Message]:
        number = int(body["forwardLogicalChannelNumber"])
        params = body["forwardLogicalChannelParameters"]
        offered = parse_h264(params["dataType"][1])
        multiplex = params.get("multiplexParameters", ("", {}))
        h2250 = multiplex[1] if multiplex[0] == "h2250LogicalChannelParameters" else {}
        if offered is None or self.receive_payload_type is not None:
            cause = "dataTypeNotSupported" if offered is None else "unspecified"
            return [reject_channel(number, cause)]
        self.receive_payload_type = int(h2250.get("dynamicRTPPayloadType", self.payload_type))
        replies = [accept_channel(number, SESSION_VIDEO, self.rtp)]
        if not self.initiate:  # answer the peer's channel with ours
            replies += self.open(offered)
        return replies
