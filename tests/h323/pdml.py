"""Read tshark's dissection (PDML) into plain records: one per packet, fields by name."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ERROR_SEVERITY = str(0x00800000)  # PI_ERROR in Wireshark's expert info


@dataclass
class Packet:
    number: int
    shows: dict[str, list[str]] = field(default_factory=dict)
    shownames: dict[str, list[str]] = field(default_factory=dict)
    malformed: bool = False
    protocols: list[str] = field(default_factory=list)

    def show(self, name: str) -> list[str]:
        return self.shows.get(name, [])

    def choice(self, name: str) -> list[str]:
        """CHOICE names from shownames like ``h323-message-body: setup (0)``."""
        return [s.split(": ", 1)[1].rsplit(" (", 1)[0] for s in self.shownames.get(name, [])]


def dissect(tshark: str, pcap: Path, display_filter: str, *options: str) -> list[Packet]:
    output = subprocess.run(
        [tshark, "-r", str(pcap), "-Y", display_filter, "-T", "pdml", *options],
        capture_output=True,
        timeout=120,
        check=True,
    ).stdout
    packets: list[Packet] = []
    for element in ET.fromstring(output).iter("packet"):
        packet = Packet(0)
        for proto in element.iter("proto"):
            packet.protocols.append(proto.get("name", ""))
            if proto.get("name") == "_ws.malformed":
                packet.malformed = True
        for node in element.iter("field"):
            name = node.get("name", "")
            if name == "frame.number":
                packet.number = int(node.get("show", "0"))
            if name.startswith("_ws.malformed") or (
                name == "_ws.expert.severity" and node.get("show") == ERROR_SEVERITY
            ):
                packet.malformed = True
            packet.shows.setdefault(name, []).append(node.get("show", ""))
            packet.shownames.setdefault(name, []).append(node.get("showname", ""))
        packets.append(packet)
    return packets


def payloads(tshark: str, pcap: Path, display_filter: str, proto: str = "tcp") -> dict[int, bytes]:
    """Frame number -> ``tcp.payload`` (or ``udp.payload``) bytes of matching frames."""
    output = subprocess.run(
        [
            tshark,
            "-r",
            str(pcap),
            "-Y",
            display_filter,
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            f"{proto}.payload",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    result: dict[int, bytes] = {}
    for line in output.splitlines():
        number, _, payload = line.partition("\t")
        result[int(number)] = bytes.fromhex(payload.replace(":", ""))
    return result


def rtp_streams(packets: list[Packet]) -> dict[tuple[str, int, int], list[Packet]]:
    """The RTP packets by (SSRC, UDP source port, destination port)."""
    streams: dict[tuple[str, int, int], list[Packet]] = {}
    for packet in packets:
        if packet.show("rtp.version"):
            key = (
                packet.show("rtp.ssrc")[0],
                int(packet.show("udp.srcport")[0]),
                int(packet.show("udp.dstport")[0]),
            )
            streams.setdefault(key, []).append(packet)
    return streams


def check_crossing_streams(
    streams: dict[tuple[str, int, int], list[Packet]], sent: dict[int, int], payload_type: str
) -> None:
    """Exactly one stream from each of the two RTP ports in ``sent`` to the other, each of
    ``payload_type`` only and as long as its sender counted (``sent``: port -> packets sent)."""
    first, second = sent
    assert sorted((src, dst) for _, src, dst in streams) == sorted(
        [(first, second), (second, first)]
    )
    for (_, src, _), stream in streams.items():
        assert {p.show("rtp.p_type")[0] for p in stream} == {payload_type} and len(stream) >= 10
        assert len(stream) == sent[src]
