"""The project's own small gatekeeper: answers GRQ, RRQ, URQ, ARQ and DRQ, for tests and demos.

:class:`Gatekeeper` is sans I/O (``handle(datagram, source, now) -> reply``);
:class:`GatekeeperServer` puts it on a UDP socket with asyncio.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, cast

from signaling.h323._service import AsyncService
from signaling.h323.errors import PerError
from signaling.h323.h225 import PROTOCOL_IDENTIFIER, Alias, alias_from_value, transport_address
from signaling.h323.ras import RasMessage

__all__ = ["Gatekeeper", "GatekeeperServer", "Registration"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Registration:
    endpoint_id: str
    aliases: list[Alias]
    call_signal_address: tuple[str, Any]
    expires: float
    refreshes: int = 0


@dataclass(slots=True)
class Gatekeeper:
    """Registration table and answers; ``reject_registration`` names an RRJ reason to send.

    Granted TTL is ``min(requested, max_ttl)``. ARQ for a registered alias answers with that
    endpoint's call-signal address, otherwise with the ARQ's own ``destCallSignalAddress``.
    """

    identifier: str = "crcgw-gk"
    ras_address: tuple[str, int] = ("127.0.0.1", 1719)
    max_ttl: int = 300
    reject_registration: str | None = None
    registrations: dict[str, Registration] = field(default_factory=dict)
    received: list[str] = field(default_factory=list)
    _next_id: int = 1

    def handle(self, data: bytes, now: float) -> bytes | None:
        """The reply to one datagram, or ``None`` (undecodable input gets no answer)."""
        try:
            message = RasMessage.decode(data)
        except PerError as exc:
            log.warning("gatekeeper: %s", exc)
            self.received.append("undecodable")
            return None
        self.received.append(message.name)
        handler = getattr(self, "_on_" + message.name, None)
        if handler is None:
            return None
        reply: RasMessage = handler(message.body, now)
        try:
            return reply.encode()
        except PerError as exc:
            log.warning("gatekeeper cannot answer %s: %s", message.name, exc)
            return None

    def _base(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"requestSeqNum": body["requestSeqNum"]}

    def _on_gatekeeperRequest(self, body: dict[str, Any], now: float) -> RasMessage:  # noqa: N802
        return RasMessage(
            "gatekeeperConfirm",
            {
                **self._base(body),
                "protocolIdentifier": PROTOCOL_IDENTIFIER,
                "gatekeeperIdentifier": self.identifier,
                "rasAddress": transport_address(*self.ras_address),
            },
        )

    def _on_registrationRequest(self, body: dict[str, Any], now: float) -> RasMessage:  # noqa: N802
        if self.reject_registration:
            reason = self.reject_registration
            detail: Any = list(body.get("terminalAlias", ())) if reason == "duplicateAlias" else 0
            return RasMessage(
                "registrationReject",
                {
                    **self._base(body),
                    "protocolIdentifier": PROTOCOL_IDENTIFIER,
                    "rejectReason": (reason, detail),
                    "gatekeeperIdentifier": self.identifier,
                },
            )
        ttl = min(int(body.get("timeToLive", self.max_ttl)), self.max_ttl)
        existing = self.registrations.get(body.get("endpointIdentifier", ""))
        if body.get("keepAlive") and existing is not None:
            existing.expires = now + ttl
            existing.refreshes += 1
            registration = existing
        else:
            endpoint_id = f"ep{self._next_id:04d}"
            self._next_id += 1
            aliases = [a for a in map(alias_from_value, body.get("terminalAlias", ())) if a]
            registration = Registration(
                endpoint_id, aliases, body["callSignalAddress"][0], now + ttl
            )
            self.registrations[endpoint_id] = registration
        return RasMessage(
            "registrationConfirm",
            {
                **self._base(body),
                "protocolIdentifier": PROTOCOL_IDENTIFIER,
                "callSignalAddress": [],
                "terminalAlias": [alias.to_value() for alias in registration.aliases],
                "gatekeeperIdentifier": self.identifier,
                "endpointIdentifier": registration.endpoint_id,
                "timeToLive": ttl,
                "willRespondToIRR": False,
                "maintainConnection": False,
            },
        )

    def _on_unregistrationRequest(self, body: dict[str, Any], now: float) -> RasMessage:  # noqa: N802
        self.registrations.pop(body.get("endpointIdentifier", ""), None)
        return RasMessage("unregistrationConfirm", self._base(body))

    def _on_admissionRequest(self, body: dict[str, Any], now: float) -> RasMessage:  # noqa: N802
        if body.get("endpointIdentifier") not in self.registrations:
            return RasMessage(
                "admissionReject",
                {**self._base(body), "rejectReason": ("callerNotRegistered", 0)},
            )
        wanted = {a for a in map(alias_from_value, body.get("destinationInfo", ())) if a}
        address = body.get("destCallSignalAddress")
        for registration in self.registrations.values():
            if wanted & set(registration.aliases):
                address = registration.call_signal_address
        if address is None:
            return RasMessage(
                "admissionReject",
                {**self._base(body), "rejectReason": ("calledPartyNotRegistered", 0)},
            )
        return RasMessage(
            "admissionConfirm",
            {
                **self._base(body),
                "bandWidth": body["bandWidth"],
                "callModel": ("direct", 0),
                "destCallSignalAddress": address,
                "willRespondToIRR": False,
                "uuiesRequested": dict.fromkeys(_UUIES, False),
            },
        )

    def _on_disengageRequest(self, body: dict[str, Any], now: float) -> RasMessage:  # noqa: N802
        return RasMessage("disengageConfirm", self._base(body))


_UUIES = (
    "setup",
    "callProceeding",
    "connect",
    "alerting",
    "information",
    "releaseComplete",
    "facility",
    "progress",
    "empty",
)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, gatekeeper: Gatekeeper) -> None:
        self.gatekeeper = gatekeeper
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        reply = self.gatekeeper.handle(data, asyncio.get_running_loop().time())
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


class GatekeeperServer(AsyncService):
    """The :class:`Gatekeeper` on a UDP port (``port=0``: a free one, see :attr:`port`)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **options: Any) -> None:
        self.host = host
        self._requested_port = port
        self.gatekeeper = Gatekeeper(**options)
        self._transport: asyncio.DatagramTransport | None = None

    @property
    def port(self) -> int:
        if self._transport is None:
            raise RuntimeError("the gatekeeper is not started")
        return int(self._transport.get_extra_info("sockname")[1])

    async def start(self) -> GatekeeperServer:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self.gatekeeper), local_addr=(self.host, self._requested_port)
        )
        self._transport = transport
        self.gatekeeper.ras_address = (self.host, self.port)
        return self

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
