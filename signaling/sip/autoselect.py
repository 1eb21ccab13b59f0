"""Transport choice for ``Transport.AUTO``.

With a name server, pjsip follows RFC 3263 (NAPTR, SRV, A/AAAA) itself. Without one, the engine
tries TLS, then TCP, then UDP, each with a short connect timeout, and remembers what worked
per registrar so the next time starts there. A TLS certificate failure is never a reason to
fall back to a cleartext transport: it is reported.
"""

from __future__ import annotations

from collections.abc import Sequence

from signaling.sip.address import HostPort
from signaling.sip.types import Transport

__all__ = ["AUTO_ORDER", "TransportMemory", "auto_candidates", "probe_port"]

AUTO_ORDER = (Transport.TLS, Transport.TCP, Transport.UDP)


class TransportMemory:
    """What worked for each destination (``host:port`` as written)."""

    def __init__(self) -> None:
        self._known: dict[str, Transport] = {}

    def remember(self, destination: HostPort, transport: Transport) -> None:
        if transport is Transport.AUTO:
            raise ValueError("remember a concrete transport")
        self._known[str(destination)] = transport

    def recall(self, destination: HostPort) -> Transport | None:
        return self._known.get(str(destination))

    def forget(self, destination: HostPort) -> None:
        self._known.pop(str(destination), None)


def auto_candidates(
    available: Sequence[Transport], remembered: Transport | None = None
) -> list[Transport]:
    """The transports to try, in order: the remembered one first, then TLS, TCP, UDP."""
    order = [t for t in AUTO_ORDER if t in available]
    if remembered in order:
        order.remove(remembered)
        order.insert(0, remembered)
    return order


def probe_port(destination: HostPort, transport: Transport) -> int:
    """The port a probe for ``transport`` connects to (explicit port, else 5061/5060)."""
    return destination.port if destination.port is not None else transport.default_port
