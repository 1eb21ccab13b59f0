"""Audio logical channels opened by H.245 OpenLogicalChannel (H.245 8.4), sans I/O.

Each side opens the channel it transmits on: the OpenLogicalChannel names the codec (forward
parameters, H.225.0 session 1, our RTCP address); the receiver accepts with an
OpenLogicalChannelAck carrying the RTP address it listens on, or refuses with a Reject. Used
when fastStart was not offered or not accepted; the channels run in the H.245 tunnel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from signaling.h323.faststart import Address, h2250_params, media_address, unicast

__all__ = ["LogicalChannels", "accept_channel", "reject_channel"]

SESSION_AUDIO = 1
H245Message = tuple[str, tuple[str, Any]]


def reject_channel(number: int, cause: str) -> H245Message:
    """OpenLogicalChannelReject for the peer's channel ``number``."""
    reject = {"forwardLogicalChannelNumber": number, "cause": (cause, 0)}
    return ("response", ("openLogicalChannelReject", reject))


def accept_channel(number: int, session: int, rtp: Address) -> H245Message:
    """OpenLogicalChannelAck for the peer's channel ``number``: we receive RTP at ``rtp`` and
    RTCP one port above, in H.225.0 RTP session ``session``."""
    ack = {
        "forwardLogicalChannelNumber": number,
        "forwardMultiplexAckParameters": (
            "h2250LogicalChannelAckParameters",
            {
                "sessionID": session,
                "mediaChannel": unicast(*rtp),
                "mediaControlChannel": unicast(rtp[0], rtp[1] + 1),
            },
        ),
    }
    return ("response", ("openLogicalChannelAck", ack))


@dataclass(slots=True)
class LogicalChannels:
    """Our transmit channel and the peer's, one side of the tunnel.

    ``rtp`` is where we receive RTP (RTCP one port above). With ``initiate`` we open our channel
    as soon as the capability exchange is done (:meth:`open`); otherwise only in return for the
    peer's. ``transmit_to``/``transmit_codec`` are set once our channel is acknowledged,
    ``receive_codec`` once we accepted the peer's; ``rejected`` holds a refusal's cause.
    """

    rtp: Address
    codecs: tuple[str, ...]
    initiate: bool = True
    channel_number: int = 1
    requested: str | None = None
    transmit_to: Address | None = None
    transmit_rtcp: Address | None = None  # the receiver's RTCP (its ack's mediaControlChannel)
    transmit_codec: str | None = None
    receive_codec: str | None = None
    rejected: str | None = None

    def open(self, remote_codecs: tuple[str, ...] | None) -> list[H245Message]:
        """Our OpenLogicalChannel for the first of our codecs the peer can receive (once)."""
        if self.requested is not None:
            return []
        usable = [c for c in self.codecs if remote_codecs is None or c in remote_codecs]
        if not usable:
            self.requested = ""
            self.rejected = "no common audio codec"
            return []
        self.requested = usable[0]
        control = {"mediaControlChannel": unicast(self.rtp[0], self.rtp[1] + 1)}
        olc = {
            "forwardLogicalChannelNumber": self.channel_number,
            "forwardLogicalChannelParameters": h2250_params(
                ("audioData", (self.requested, 20)), control
            ),
        }
        return [("request", ("openLogicalChannel", olc))]

    def receive(self, name: str, body: Any) -> list[H245Message]:
        """Handle one channel message from the peer; returns the replies (already PER-ready)."""
        if name == "openLogicalChannel":
            return self._peer_opens(body)
        if name == "openLogicalChannelAck":
            if int(body["forwardLogicalChannelNumber"]) != self.channel_number:
                return []
            multiplex = body.get("forwardMultiplexAckParameters", ("", {}))
            params = multiplex[1] if multiplex[0] == "h2250LogicalChannelAckParameters" else {}
            self.transmit_to = media_address(params.get("mediaChannel"))
            self.transmit_rtcp = media_address(params.get("mediaControlChannel"))
            if self.transmit_to is not None:
                self.transmit_codec = self.requested
            else:
                self.rejected = "acknowledged without a media address"
        elif name == "openLogicalChannelReject":
            cause = body.get("cause", ("unspecified", 0))
            self.rejected = str(cause[0])
        return []

    def _peer_opens(self, body: dict[str, Any]) -> list[H245Message]:
        number = int(body["forwardLogicalChannelNumber"])
        data_type = body["forwardLogicalChannelParameters"]["dataType"]
        codec = data_type[1][0] if data_type[0] == "audioData" else None
        if codec not in self.codecs or self.receive_codec is not None:
            cause = "dataTypeNotSupported" if codec not in self.codecs else "unspecified"
            return [reject_channel(number, cause)]
        self.receive_codec = codec
        replies = [accept_channel(number, SESSION_AUDIO, self.rtp)]
        if not self.initiate and self.requested is None:  # answer the peer's channel with ours
            self.codecs = (codec, *(c for c in self.codecs if c != codec))
            replies += self.open((codec,))
        return replies
