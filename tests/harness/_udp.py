"""A small UDP request/response server on a thread: the base of the STUN and DNS responders."""

from __future__ import annotations

import socket
import threading
from types import TracebackType
from typing import Self

__all__ = ["UdpResponder"]


class UdpResponder:
    """Binds ``host:port`` (port 0: any) and answers each datagram with :meth:`handle`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._sock.bind((host, port))
        except OSError:
            self._sock.close()
            raise
        self.host = str(self._sock.getsockname()[0])
        self.port = int(self._sock.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, name=type(self).__name__, daemon=True)

    def handle(self, data: bytes, peer: tuple[str, int]) -> bytes | None:
        """The reply to one datagram, or ``None`` for none."""
        raise NotImplementedError

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
                data, peer = self._sock.recvfrom(4096)
            except OSError:
                return
            if not peer:  # the socket was closed under us
                return
            reply = self.handle(data, peer)
            if reply is not None:
                try:
                    self._sock.sendto(reply, peer)
                except OSError:
                    return
