"""UDP sockets of a video stream: an even RTP port with RTCP on the next one (or muxed)."""

from __future__ import annotations

import socket
import sys

__all__ = ["DIRECTIONS", "bind_pair", "check_direction"]

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
SO_RCVBUFFORCE = 33  # Linux <asm-generic/socket.h>; Python's socket module lacks it


def check_direction(direction: str) -> None:
    if direction not in DIRECTIONS:
        allowed = ", ".join(DIRECTIONS)
        raise ValueError(f"direction: expected one of {allowed}, got {direction!r}")


def bind_pair(host: str, port: int, mux: bool) -> tuple[socket.socket, socket.socket | None]:
    family = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)[0][0]

    def bind(p: int) -> socket.socket:
        s = socket.socket(family, socket.SOCK_DGRAM)
        try:
            try:  # room for a 1080p keyframe burst; beyond rmem_max only with CAP_NET_ADMIN
                if not sys.platform.startswith("linux"):
                    raise OSError("SO_RCVBUFFORCE is Linux only")
                s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
            except OSError:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.bind((host, p))
        except OSError:
            s.close()
            raise
        return s

    if port:
        rtp_sock = bind(port)
        return rtp_sock, None if mux else bind(port + 1)
    for _ in range(100):
        rtp_sock = bind(0)
        got = rtp_sock.getsockname()[1]
        if mux:
            return rtp_sock, None
        if got % 2 == 0 and got < 65535:
            try:
                return rtp_sock, bind(got + 1)
            except OSError:
                pass
        rtp_sock.close()
    raise OSError(f"no free even RTP port with RTCP port on {host}")
