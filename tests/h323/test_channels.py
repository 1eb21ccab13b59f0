"""H.245 OpenLogicalChannel for audio, sans I/O: two sessions talk PER bytes to each other."""

from __future__ import annotations

from typing import Any

from signaling.h323 import per
from signaling.h323.channels import LogicalChannels
from signaling.h323.h245 import G711_CODECS, H245Session
from signaling.h323.rtp import RtpAudio, RtpHeader, rtp_packet
from tests.h323.conftest import h245_exchange


def test_both_directions_open_with_each_others_rtp_address() -> None:
    caller = H245Session(1, channels=LogicalChannels(("127.0.0.1", 40000), G711_CODECS))
    callee = H245Session(
        2, channels=LogicalChannels(("127.0.0.1", 50000), G711_CODECS, initiate=False)
    )
    names = h245_exchange(caller, callee)
    assert names.count("openLogicalChannel") == 2 and names.count("openLogicalChannelAck") == 2
    assert caller.channels is not None and callee.channels is not None
    assert caller.channels.transmit_to == ("127.0.0.1", 50000)
    assert callee.channels.transmit_to == ("127.0.0.1", 40000)
    assert caller.channels.transmit_codec == callee.channels.receive_codec == "g711Ulaw64k"
    assert callee.channels.transmit_codec == caller.channels.receive_codec == "g711Ulaw64k"


def test_the_codec_follows_what_the_peer_can_receive() -> None:
    caller = H245Session(1, channels=LogicalChannels(("127.0.0.1", 40000), G711_CODECS))
    callee = H245Session(
        2,
        codecs=("g711Alaw64k",),
        channels=LogicalChannels(("::1", 50000), ("g711Alaw64k",), initiate=False),
    )
    h245_exchange(caller, callee)
    assert caller.channels is not None and caller.channels.transmit_codec == "g711Alaw64k"
    assert caller.channels.transmit_to == ("::1", 50000)


def test_a_codec_we_cannot_receive_is_rejected() -> None:
    channels = LogicalChannels(("127.0.0.1", 40000), ("g711Alaw64k",), initiate=False)
    olc = LogicalChannels(("127.0.0.1", 1000), ("g711Ulaw64k",)).open(None)
    kind, (name, body) = olc[0]
    replies = channels.receive(name, body)
    assert replies[0][1][0] == "openLogicalChannelReject"
    assert replies[0][1][1]["cause"][0] == "dataTypeNotSupported"
    assert channels.receive_codec is None
    per.encode_h245(replies[0])  # well-formed H.245


def test_no_common_codec_opens_nothing_and_says_why() -> None:
    channels = LogicalChannels(("127.0.0.1", 40000), ("g711Alaw64k",))
    assert channels.open(("g711Ulaw64k",)) == [] and channels.rejected == "no common audio codec"


def test_refusals_and_acks_without_an_address_are_reported() -> None:
    channels = LogicalChannels(("127.0.0.1", 40000), G711_CODECS)
    channels.open(None)
    body: dict[str, Any] = {
        "forwardLogicalChannelNumber": 1,
        "cause": ("unsuitableReverseParameters", 0),
    }
    channels.receive("openLogicalChannelReject", body)
    assert channels.rejected == "unsuitableReverseParameters" and channels.transmit_to is None
    other = LogicalChannels(("127.0.0.1", 40000), G711_CODECS)
    other.open(None)
    other.receive("openLogicalChannelAck", {"forwardLogicalChannelNumber": 1})
    assert other.transmit_to is None and other.rejected == "acknowledged without a media address"


def test_received_packets_are_measured_with_loss_and_jitter() -> None:
    audio = RtpAudio("127.0.0.1")
    audio.codec = "g711Ulaw64k"
    # 10 packets 20 ms apart, the 5th lost, the 8th 10 ms late; one RTCP packet ignored
    for i in range(10):
        if i == 4:
            continue
        late = 0.010 if i == 7 else 0.0
        header = RtpHeader(0, 100 + i, 1000 + 160 * i, 7, False)
        audio.on_datagram(rtp_packet(header, b"\xff" * 160), i * 0.020 + late)
    audio.on_datagram(bytes([0x80, 201]) + bytes(6), 0.3)
    report = audio.report()
    assert report["rx_packets"] == 9 and report["lost"] == 1
    assert report["loss_pct"] == 10.0 and audio.received.ignored == 1
    assert report["rx_payload_types"] == [0]
    assert report["max_jitter_ms"] > 0.5  # the late packet shows in the RFC 3550 jitter
