"""A tiny SIP test client over real loopback sockets: send raw requests, collect responses."""

from __future__ import annotations

import asyncio
import itertools
import socket
from dataclasses import dataclass

from signaling.sip.request import SipRequest

_branches = itertools.count(1)


def invite(user: str, port: int, *, branch: str | None = None, call_id: str | None = None,
           transport: str = "UDP", method: str = "INVITE", extra: str = "",
           cseq: int = 1) -> bytes:
    """A minimal valid request to ``sip:USER@127.0.0.1`` from a client at ``port``."""
    branch = branch or f"z9hG4bKtest{next(_branches)}"
    call_id = call_id or f"{branch}@test"
    return (
        f"{method} sip:{user}@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} 127.0.0.1:{port};branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: \"Room 1\" <sip:room1@127.0.0.1>;tag=from1\r\n"
        f"To: <sip:{user}@127.0.0.1>\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq} {method}\r\n"
        f"Contact: <sip:room1@127.0.0.1:{port}>\r\n"
        f"{extra}"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def ack_for(request: bytes, response: bytes) -> bytes:
    """The ACK of a non-2xx final ``response`` (same branch, To with the response's tag)."""
    req = SipRequest.parse(request)
    to = next(line for line in response.decode().split("\r\n") if line.startswith("To:"))
    return (
        f"ACK {req.uri} SIP/2.0\r\nVia: {req.top_via}\r\nMax-Forwards: 70\r\n"
        f"From: {req.header('from')}\r\n{to}\r\nCall-ID: {req.call_id}\r\n"
        f"CSeq: {req.cseq_number} ACK\r\nContent-Length: 0\r\n\r\n"
    ).encode()


@dataclass
class Reply:
    raw: bytes

    @property
    def status(self) -> int:
        return int(self.raw.split(b" ", 2)[1])

    def header(self, name: str) -> str | None:
        for line in self.raw.decode(errors="replace").split("\r\n")[1:]:
            key, sep, value = line.partition(":")
            if sep and key.strip().lower() == name.lower():
                return value.strip()
        return None


#: Every client still open: the ``close_udp_clients`` fixture closes them after each test.
OPEN_CLIENTS: set[UdpClient] = set()


class UdpClient:
    """``host``: the loopback address to send from (127.0.0.2 plays an outside source)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        OPEN_CLIENTS.add(self)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.setblocking(False)
        self.port = int(self.sock.getsockname()[1])

    async def send(self, data: bytes, server: tuple[str, int]) -> None:
        await asyncio.get_running_loop().sock_sendto(self.sock, data, server)

    async def recv(self, timeout: float = 2.0) -> Reply | None:
        try:
            data = await asyncio.wait_for(
                asyncio.get_running_loop().sock_recv(self.sock, 65536), timeout
            )
        except TimeoutError:
            return None
        return Reply(data)

    async def replies(self, quiet: float = 0.2, final_within: float = 10.0) -> list[Reply]:
        """Replies until a final one (>= 200) has come and then none for ``quiet`` seconds.
        A final is awaited for up to ``final_within`` seconds (0: stop at the first quiet gap),
        so a slow, loaded machine does not cut an exchange short."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + final_within
        out: list[Reply] = []
        while True:
            waiting = final_within > 0 and not any(r.status >= 200 for r in out)
            reply = await self.recv(max(quiet, deadline - loop.time()) if waiting else quiet)
            if reply is None:
                return out
            out.append(reply)

    async def replies_after(self, data: bytes, server: tuple[str, int],
                            quiet: float = 0.2, final_within: float = 10.0) -> list[Reply]:
        await self.send(data, server)
        return await self.replies(quiet, final_within)

    async def until_finals(self, statuses: set[int], within: float = 10.0,
                           quiet: float = 0.3) -> list[Reply]:
        """Replies until every status in ``statuses`` was seen (or ``within`` seconds), then
        until none arrives for ``quiet`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        out: list[Reply] = []
        while True:
            missing = statuses - {r.status for r in out}
            reply = await self.recv(max(quiet, deadline - loop.time()) if missing else quiet)
            if reply is None:
                return out
            out.append(reply)

    def close(self) -> None:
        OPEN_CLIENTS.discard(self)
        self.sock.close()


def address(listen: str) -> tuple[str, int]:
    host, port = listen.split("://", 1)[1].rsplit(":", 1)
    return host.strip("[]"), int(port)


async def exchange(client: UdpClient, request: bytes, server: tuple[str, int],
                   quiet: float = 0.2, final_within: float = 10.0) -> list[Reply]:
    """Send ``request``, collect the replies, and ACK a final INVITE answer as a UAC must."""
    replies = await client.replies_after(request, server, quiet, final_within)
    finals = [r for r in replies if r.status >= 300]
    if finals and request.startswith(b"INVITE "):
        await client.send(ack_for(request, finals[0].raw), server)
    return replies
