"""The H.245 of a call (in the H.225.0 tunnel or on its own connection), sans I/O.

Builders for TerminalCapabilitySet (G.711, and H.264 when video is on), MasterSlaveDetermination,
their acknowledgements and endSessionCommand; :class:`H245Session` runs both procedures, says
when they are complete (:attr:`H245Session.ready`) and hands OpenLogicalChannel traffic to the
audio (:mod:`~signaling.h323.channels`) or video (:mod:`~signaling.h323.video`) channels.
fastStart lives in :mod:`~signaling.h323.faststart`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from signaling.h323 import per

if TYPE_CHECKING:  # video imports faststart, which imports this module
    from signaling.h323.channels import LogicalChannels
    from signaling.h323.video import H264Capability, VideoChannels

__all__ = [
    "G711_CODECS",
    "H245_PROTOCOL_IDENTIFIER",
    "H245Session",
    "H245Summary",
    "end_session",
    "master_slave_determination",
    "msd_ack",
    "summarize",
    "tcs_ack",
    "terminal_capability_set",
]

#: itu-t(0) recommendation(0) h(8) 245 version(0) 7
H245_PROTOCOL_IDENTIFIER = (0, 0, 8, 245, 0, 7)
G711_CODECS = ("g711Ulaw64k", "g711Alaw64k")
TERMINAL_TYPE = 50  # H.323 terminal (entity without MC), per H.323 table 1
_MODULO = 1 << 24

H245Message = tuple[str, tuple[str, Any]]


def _multipoint() -> dict[str, Any]:
    flags = [
        f"{where}{what}"
        for what in ("Control", "Audio", "Video")
        for where in ("centralized", "distributed")
    ]
    return {
        "multicastCapability": False,
        "multiUniCastConference": False,
        "mediaDistributionCapability": [dict.fromkeys(flags, False)],
    }


def terminal_capability_set(
    sequence_number: int,
    codecs: tuple[str, ...] = G711_CODECS,
    frames: int = 20,
    video: H264Capability | None = None,
) -> H245Message:
    """A TerminalCapabilitySet offering receive audio in ``codecs`` (ms per packet ``frames``)
    and, with ``video``, receive H.264 (simultaneous with the audio)."""
    table = [
        {"capabilityTableEntryNumber": n, "capability": ("receiveAudioCapability", (codec, frames))}
        for n, codec in enumerate(codecs, start=1)
    ]
    simultaneous = [[n for n in range(1, len(codecs) + 1)]]
    if video is not None:
        from signaling.h323.video import h264_capability

        number = len(codecs) + 1
        capability = ("receiveVideoCapability", h264_capability(video))
        table.append({"capabilityTableEntryNumber": number, "capability": capability})
        simultaneous.append([number])
    return (
        "request",
        (
            "terminalCapabilitySet",
            {
                "sequenceNumber": sequence_number,
                "protocolIdentifier": H245_PROTOCOL_IDENTIFIER,
                "multiplexCapability": (
                    "h2250Capability",
                    {
                        "maximumAudioDelayJitter": 60,
                        "receiveMultipointCapability": _multipoint(),
                        "transmitMultipointCapability": _multipoint(),
                        "receiveAndTransmitMultipointCapability": _multipoint(),
                        "mcCapability": {
                            "centralizedConferenceMC": False,
                            "decentralizedConferenceMC": False,
                        },
                        "rtcpVideoControlCapability": False,
                        "mediaPacketizationCapability": {"h261aVideoPacketization": False},
                    },
                ),
                "capabilityTable": table,
                "capabilityDescriptors": [
                    {
                        "capabilityDescriptorNumber": 0,
                        "simultaneousCapabilities": simultaneous,
                    }
                ],
            },
        ),
    )


def tcs_ack(sequence_number: int) -> H245Message:
    return ("response", ("terminalCapabilitySetAck", {"sequenceNumber": sequence_number}))


def master_slave_determination(number: int, terminal_type: int = TERMINAL_TYPE) -> H245Message:
    return (
        "request",
        (
            "masterSlaveDetermination",
            {"terminalType": terminal_type, "statusDeterminationNumber": number % _MODULO},
        ),
    )


def msd_ack(decision: Literal["master", "slave"]) -> H245Message:
    """MasterSlaveDeterminationAck; ``decision`` is the status of the terminal receiving it."""
    return ("response", ("masterSlaveDeterminationAck", {"decision": (decision, 0)}))


def end_session() -> H245Message:
    return ("command", ("endSessionCommand", ("disconnect", 0)))


@dataclass(frozen=True, slots=True)
class H245Summary:
    """The kind (``request``…) and name (``terminalCapabilitySet``…) of one H.245 message."""

    kind: str
    name: str
    body: Any

    def __str__(self) -> str:
        return self.name


def summarize(data: bytes) -> H245Summary:
    kind, (name, body) = per.decode_h245(data)
    return H245Summary(kind, name, body)


@dataclass(slots=True)
class H245Session:
    """Capability exchange and master/slave determination, one side of the tunnel.

    :meth:`start` returns our TerminalCapabilitySet and MasterSlaveDetermination; :meth:`receive`
    takes one PER-encoded message from the peer and returns the encoded replies. ``ready`` turns
    true when our capabilities were acknowledged, the peer's were received and acknowledged, and
    master/slave is decided. ``random_number`` is the status determination number (24 bits).
    With ``channels`` the audio logical channels are opened by OpenLogicalChannel once ready
    (:class:`~signaling.h323.channels.LogicalChannels`).
    """

    random_number: int
    terminal_type: int = TERMINAL_TYPE
    codecs: tuple[str, ...] = G711_CODECS
    started: bool = False
    local_tcs_acked: bool = False
    remote_capabilities: tuple[str, ...] | None = None
    status: Literal["master", "slave"] | None = None
    received: list[str] = field(default_factory=list)
    channels: LogicalChannels | None = None
    video: VideoChannels | None = None
    remote_video: H264Capability | None = None
    _msd_ack_sent: bool = False
    _remote_msd_seen: bool = False

    @property
    def ready(self) -> bool:
        return self.local_tcs_acked and self.remote_capabilities is not None and bool(self.status)

    def start(self) -> list[bytes]:
        """Our opening messages (sent once; later calls return nothing)."""
        if self.started:
            return []
        self.started = True
        return [
            per.encode_h245(
                terminal_capability_set(
                    1, self.codecs, video=self.video.capability if self.video else None
                )
            ),
            per.encode_h245(master_slave_determination(self.random_number, self.terminal_type)),
        ]

    def receive(self, data: bytes) -> list[bytes]:
        message = summarize(data)
        self.received.append(message.name)
        replies: list[H245Message] = []
        if message.name == "terminalCapabilitySet":
            body = message.body
            self.remote_capabilities = tuple(
                entry["capability"][1][0]
                for entry in body.get("capabilityTable", ())
                if "capability" in entry and entry["capability"][0].endswith("AudioCapability")
            )
            if self.video is not None:
                from signaling.h323.video import remote_h264

                self.remote_video = remote_h264(body)
            replies.append(tcs_ack(body["sequenceNumber"]))
        elif message.name == "terminalCapabilitySetAck":
            self.local_tcs_acked = True
        elif message.name == "masterSlaveDetermination":
            self._remote_msd_seen = True
            ours = self._determine(message.body)
            if ours is not None:
                self.status = ours
                replies.append(msd_ack("slave" if ours == "master" else "master"))
                self._msd_ack_sent = True
        elif message.name == "masterSlaveDeterminationAck":
            decision = message.body["decision"][0]
            self.status = "master" if decision == "master" else "slave"
            if not self._remote_msd_seen and not self._msd_ack_sent:
                # we originated alone: confirm with an ack telling the peer its own status
                replies.append(msd_ack("slave" if self.status == "master" else "master"))
                self._msd_ack_sent = True
        elif message.name.startswith("openLogicalChannel"):
            video = self.video
            if video is not None and video.owns(message.name, message.body):
                replies += video.receive(message.name, message.body)
            elif self.channels is not None:
                replies += self.channels.receive(message.name, message.body)
        channels = self.channels
        if self.ready and channels is not None and channels.initiate:
            replies += channels.open(self.remote_capabilities)
        if self.ready and self.video is not None and self.video.initiate:
            replies += self.video.open(self.remote_video)
        return [per.encode_h245(reply) for reply in replies]

    def _determine(self, remote: dict[str, Any]) -> Literal["master", "slave"] | None:
        remote_type = int(remote["terminalType"])
        if remote_type != self.terminal_type:
            return "master" if self.terminal_type > remote_type else "slave"
        difference = (int(remote["statusDeterminationNumber"]) - self.random_number) % _MODULO
        if difference in (0, _MODULO // 2):
            return None  # indeterminate: the procedure would restart with new numbers
        return "slave" if difference < _MODULO // 2 else "master"
