"""A minimal STUN binding responder (RFC 5389) on loopback, to prove the STUN option is used.

Answers every Binding request with an XOR-MAPPED-ADDRESS of the source address; counts them.
"""

from __future__ import annotations

import socket
import struct

from tests.harness._udp import UdpResponder

__all__ = ["StunServer"]

_MAGIC = 0x2112A442
_BINDING_REQUEST, _BINDING_SUCCESS = 0x0001, 0x0101
_XOR_MAPPED_ADDRESS = 0x0020


class StunServer(UdpResponder):
    def __init__(self) -> None:
        super().__init__()
        self.requests = 0

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def handle(self, data: bytes, peer: tuple[str, int]) -> bytes | None:
        if len(data) < 20:
            return None
        kind, _, cookie = struct.unpack("!HHI", data[:8])
        if kind != _BINDING_REQUEST or cookie != _MAGIC:
            return None
        self.requests += 1
        host, port = peer
        xaddr = bytes(
            a ^ b for a, b in zip(socket.inet_aton(host), struct.pack("!I", _MAGIC), strict=True)
        )
        value = struct.pack("!BBH", 0, 1, port ^ (_MAGIC >> 16)) + xaddr
        attribute = struct.pack("!HH", _XOR_MAPPED_ADDRESS, len(value)) + value
        return (
            struct.pack("!HHI", _BINDING_SUCCESS, len(attribute), _MAGIC) + data[8:20] + attribute
        )
