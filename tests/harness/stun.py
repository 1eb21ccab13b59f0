"""A minimal STUN binding responder (RFC 5389) on loopback, to prove the STUN option is used.

Answers every Binding request with an XOR-MAPPED-ADDRESS of the source address; counts them.
"""

from __future__ import annotations

import socket
import struct
import threading
from types import TracebackType
from typing import Self

__all__ = ["StunServer"]

_MAGIC = 0x2112A442
_BINDING_REQUEST, _BINDING_SUCCESS = 0x0001, 0x0101
_XOR_MAPPED_ADDRESS = 0x0020


class StunServer:
    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self.requests = 0
        self._thread = threading.Thread(target=self._serve, name="stun", daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self._sock.recvfrom(2048)
            except OSError:
                return
            if not peer:  # the socket was closed under us
                return
            host, port = peer
            if len(data) < 20:
                continue
            kind, _, cookie = struct.unpack("!HHI", data[:8])
            if kind != _BINDING_REQUEST or cookie != _MAGIC:
                continue
            self.requests += 1
            xaddr = bytes(
                a ^ b
                for a, b in zip(socket.inet_aton(host), struct.pack("!I", _MAGIC), strict=True)
            )
            value = struct.pack("!BBH", 0, 1, port ^ (_MAGIC >> 16)) + xaddr
            attribute = struct.pack("!HH", _XOR_MAPPED_ADDRESS, len(value)) + value
            header = struct.pack("!HHI", _BINDING_SUCCESS, len(attribute), _MAGIC) + data[8:20]
            try:
                self._sock.sendto(header + attribute, (host, port))
            except OSError:
                return
