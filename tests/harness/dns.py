"""A minimal authoritative DNS responder on loopback UDP (A and SRV records), for RFC 3263
resolution tests: pjsip's resolver is pointed at it with ``EngineConfig.nameservers``.

>>> with DnsServer() as dns:                                     # doctest: +SKIP
...     dns.add_srv("_sip._udp.pbx.test", "kam.test", 5070)
...     dns.add_a("kam.test", "127.0.0.1")
...     dns.address                     # '127.53.x.y' (port 53); dns.queries: (name, type)
"""

from __future__ import annotations

import random
import socket
import struct

from tests.harness._udp import UdpResponder

__all__ = ["DnsServer"]

TYPE_A, TYPE_SRV, TYPE_NAPTR, TYPE_AAAA = 1, 33, 35, 28
_CLASS_IN = 1
_TTL = 60


def _encode_name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        out += bytes([len(raw)]) + raw
    return out + b"\x00"


def _read_name(packet: bytes, offset: int) -> tuple[str, int]:
    labels: list[str] = []
    while True:
        length = packet[offset]
        offset += 1
        if length == 0:
            return ".".join(labels).lower(), offset
        labels.append(packet[offset : offset + length].decode("ascii", "replace"))
        offset += length


class DnsServer(UdpResponder):
    """Listens on port 53 (pjsip's resolver takes name server IPs only, no port) of a random
    loopback address in 127.53.0.0/16, so it clashes with nothing; needs root (or
    CAP_NET_BIND_SERVICE), else raises ``PermissionError``."""

    def __init__(self, host: str | None = None, port: int = 53) -> None:
        rng = random.Random()
        candidates = (
            [host]
            if host
            else [f"127.53.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(20)]
        )
        for candidate in candidates:
            try:
                super().__init__(candidate, port)
                break
            except PermissionError:
                raise
            except OSError:
                continue
        else:
            raise OSError("no free loopback address for the DNS responder")
        self._records: dict[tuple[str, int], list[bytes]] = {}
        self.queries: list[tuple[str, int]] = []

    @property
    def address(self) -> str:
        return self.host if self.port == 53 else f"{self.host}:{self.port}"

    def add_a(self, name: str, ip: str) -> None:
        self._records.setdefault((name.lower(), TYPE_A), []).append(socket.inet_aton(ip))

    def add_srv(
        self, name: str, target: str, port: int, priority: int = 0, weight: int = 0
    ) -> None:
        rdata = struct.pack("!HHH", priority, weight, port) + _encode_name(target)
        self._records.setdefault((name.lower(), TYPE_SRV), []).append(rdata)

    def handle(self, data: bytes, peer: tuple[str, int]) -> bytes | None:
        try:
            return self._answer(data)
        except (IndexError, struct.error, UnicodeError):
            return None

    def _answer(self, query: bytes) -> bytes | None:
        if len(query) < 12:
            return None
        ident, _, qdcount = struct.unpack("!HHH", query[:6])
        if qdcount != 1:
            return None
        name, offset = _read_name(query, 12)
        qtype, _ = struct.unpack("!HH", query[offset : offset + 4])
        question = query[12 : offset + 4]
        self.queries.append((name, qtype))
        answers = self._records.get((name, qtype), [])
        known = any(key[0] == name for key in self._records)
        rcode = 0 if known else 3  # NXDOMAIN for names we do not serve
        flags = 0x8400 | 0x0100 | rcode  # response, authoritative, recursion desired echoed
        header = struct.pack("!HHHHHH", ident, flags, 1, len(answers), 0, 0)
        body = b"".join(
            struct.pack("!HHHIH", 0xC00C, qtype, _CLASS_IN, _TTL, len(rdata)) + rdata
            for rdata in answers
        )
        return header + question + body
