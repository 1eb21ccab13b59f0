"""Network probes made before the call: name resolution and a plain TCP/TLS connect.

The SIP stack resolves and connects by itself, but does not say how long each took; a test
dial measures both on its own first, with the same host and port, so a slow resolver or a slow
TLS handshake shows as its own stage rather than inside "INVITE to 100".
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass

__all__ = ["ConnectResult", "ResolveResult", "connect_probe", "resolve", "route_interface"]


@dataclass(frozen=True)
class ResolveResult:
    host: str
    address: str | None
    ms: float
    literal: bool
    error: str | None = None


@dataclass(frozen=True)
class ConnectResult:
    tcp_ms: float | None
    tls_ms: float | None
    error: str | None = None
    tls_version: str | None = None

    @property
    def total_ms(self) -> float | None:
        if self.tcp_ms is None:
            return None
        return self.tcp_ms + (self.tls_ms or 0.0)


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host in ("localhost",)
    return True


async def resolve(host: str, port: int) -> ResolveResult:
    """Resolve ``host`` (an IP literal or ``localhost`` takes no time and no query: 0 ms)."""
    bare = host.strip("[]")
    if _is_literal(bare):
        address = "127.0.0.1" if bare == "localhost" else bare
        return ResolveResult(host, address, 0.0, True)
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    try:
        info = await loop.getaddrinfo(bare, port, type=socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        ms = (time.monotonic() - started) * 1000
        return ResolveResult(host, None, ms, False, f"cannot resolve {bare}: {exc.strerror}")
    ms = (time.monotonic() - started) * 1000
    return ResolveResult(host, str(info[0][4][0]), ms, False)


async def connect_probe(
    address: str, port: int, tls: bool, server_name: str | None = None, timeout: float = 5.0
) -> ConnectResult:
    """TCP connect (and TLS handshake when ``tls``) to ``address:port``, timed apart.

    The handshake does not verify the certificate: it measures the transport; the SIP stack
    verifies the certificate when it connects for the call.
    """
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    loop = asyncio.get_running_loop()
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    started = time.monotonic()
    try:
        await asyncio.wait_for(loop.sock_connect(sock, (address, port)), timeout)
    except (OSError, TimeoutError) as exc:
        sock.close()
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        return ConnectResult(None, None, f"TCP connect to {address}:{port} failed: {reason}")
    tcp_ms = (time.monotonic() - started) * 1000
    if not tls:
        sock.close()
        return ConnectResult(tcp_ms, None)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    started = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(sock=sock, ssl=context, server_hostname=server_name or ""),
            timeout,
        )
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        sock.close()
        reason = str(exc) or ("timed out" if isinstance(exc, TimeoutError)
                              else type(exc).__name__)
        return ConnectResult(tcp_ms, None, f"TLS handshake with {address}:{port} failed: "
                             f"{reason}")
    tls_ms = (time.monotonic() - started) * 1000
    ssl_object = writer.get_extra_info("ssl_object")
    version = ssl_object.version() if ssl_object is not None else None
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError):
        await writer.wait_closed()
    del reader
    return ConnectResult(tcp_ms, tls_ms, tls_version=version)


def route_interface(address: str) -> str:
    """The network interface the kernel routes ``address`` through (``any`` if unknown)."""
    try:
        out = subprocess.run(
            ["ip", "-o", "route", "get", address], capture_output=True, text=True, timeout=5,
            check=False,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return "any"
    if "dev" in out:
        return out[out.index("dev") + 1]
    return "any"
