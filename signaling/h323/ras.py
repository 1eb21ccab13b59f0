"""RAS (H.225.0 registration, admission and status) messages and the endpoint's state machine.

Sans I/O with an explicit clock: :class:`RasEndpoint` takes datagrams and ``now`` (seconds, any
monotonic origin) and returns datagrams to send. It discovers the gatekeeper (GRQ), registers
(RRQ), re-registers with a lightweight keep-alive RRQ before the granted time to live runs out,
asks admission (ARQ) and disengage (DRQ) for calls, and unregisters (URQ). Requests are repeated
every ``timeout`` seconds up to ``retries`` times, as H.225.0 recommends (3 s, 2 retries).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from signaling.h323 import per
from signaling.h323.h225 import (
    PROTOCOL_IDENTIFIER,
    Alias,
    endpoint_type,
    transport_address,
    transport_from_value,
)

__all__ = [
    "RAS_PORT",
    "RasEndpoint",
    "RasEvent",
    "RasMessage",
    "RegistrationState",
    "keepalive_due",
]

RAS_PORT = 1719
CONFIRMS = {
    "gatekeeperRequest": ("gatekeeperConfirm", "gatekeeperReject"),
    "registrationRequest": ("registrationConfirm", "registrationReject"),
    "unregistrationRequest": ("unregistrationConfirm", "unregistrationReject"),
    "admissionRequest": ("admissionConfirm", "admissionReject"),
    "disengageRequest": ("disengageConfirm", "disengageReject"),
}


@dataclass(frozen=True, slots=True)
class RasMessage:
    """One RAS datagram: the RasMessage CHOICE name and its body."""

    name: str
    body: dict[str, Any]

    def encode(self) -> bytes:
        return per.encode_ras(self.name, self.body)

    @classmethod
    def decode(cls, data: bytes) -> RasMessage:
        name, body = per.decode_ras(data)
        return cls(name, body if isinstance(body, dict) else {})

    @property
    def sequence_number(self) -> int | None:
        value = self.body.get("requestSeqNum")
        return int(value) if value is not None else None

    @property
    def reject_reason(self) -> str | None:
        value = self.body.get("rejectReason")
        return str(value[0]) if isinstance(value, tuple) else None


def keepalive_due(confirmed_at: float, ttl: int) -> float:
    """When to send the keep-alive RRQ: before the TTL runs out, leaving a margin for retries."""
    return confirmed_at + ttl - min(30.0, ttl * 0.25)


class RegistrationState(Enum):
    IDLE = "idle"
    DISCOVERING = "discovering"
    REGISTERING = "registering"
    REGISTERED = "registered"
    UNREGISTERING = "unregistering"
    UNREGISTERED = "unregistered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RasEvent:
    """``discovered``, ``registered``, ``refreshed``, ``rejected``, ``timeout``, ``unregistered``,
    ``admitted``, ``disengaged`` or ``unregistered-by-gatekeeper``, with a one-line detail."""

    kind: str
    detail: str = ""
    at: float = 0.0


@dataclass(slots=True)
class _Pending:
    name: str
    sequence_number: int
    data: bytes
    sent_at: float
    attempts: int = 1


@dataclass(slots=True)
class RasEndpoint:
    """One endpoint's RAS: ``aliases`` registered with the addresses it signals and listens on."""

    aliases: list[Alias]
    ras_address: tuple[str, int]
    call_signal_address: tuple[str, int]
    ttl: int = 300
    timeout: float = 3.0
    retries: int = 2
    discover: bool = True
    state: RegistrationState = RegistrationState.IDLE
    gatekeeper_id: str | None = None
    endpoint_id: str | None = None
    granted_ttl: int | None = None
    confirmed_at: float | None = None
    admitted: dict[str, Any] | None = None
    events: list[RasEvent] = field(default_factory=list)
    _sequence: int = 0
    _pending: _Pending | None = None

    # -- requests ------------------------------------------------------------------------------

    def start(self, now: float) -> list[bytes]:
        """Begin: GRQ (``discover``) or straight to RRQ."""
        if self.discover:
            self.state = RegistrationState.DISCOVERING
            return [self._request("gatekeeperRequest", self._grq_body, now)]
        return [self._register(now)]

    def unregister(self, now: float) -> list[bytes]:
        """URQ when registered; nothing otherwise."""
        if self.state is not RegistrationState.REGISTERED:
            return []
        self.state = RegistrationState.UNREGISTERING
        return [self._request("unregistrationRequest", self._urq_body, now)]

    def admit(
        self,
        now: float,
        *,
        destination: list[Alias],
        destination_address: tuple[str, int] | None,
        call_reference: int,
        conference_id: bytes,
        call_identifier: bytes,
        bandwidth: int = 1280,
        answer_call: bool = False,
    ) -> list[bytes]:
        """ARQ for a call (``bandwidth`` in units of 100 bit/s, both directions)."""

        def body(sequence: int) -> dict[str, Any]:
            value: dict[str, Any] = {
                "requestSeqNum": sequence,
                "callType": ("pointToPoint", 0),
                "callModel": ("direct", 0),
                "endpointIdentifier": self.endpoint_id or "",
            }
            if destination:
                value["destinationInfo"] = [alias.to_value() for alias in destination]
            if destination_address is not None:
                value["destCallSignalAddress"] = transport_address(*destination_address)
            value.update(
                srcInfo=[alias.to_value() for alias in self.aliases],
                bandWidth=bandwidth,
                callReferenceValue=call_reference,
                conferenceID=conference_id,
                activeMC=False,
                answerCall=answer_call,
                canMapAlias=False,
                callIdentifier={"guid": call_identifier},
                willSupplyUUIEs=False,
            )
            return value

        self._require_registered("ARQ")
        self.admitted = None
        return [self._request("admissionRequest", body, now)]

    def disengage(
        self, now: float, *, call_reference: int, conference_id: bytes, call_identifier: bytes
    ) -> list[bytes]:
        """DRQ: the call is over (normal drop)."""

        def body(sequence: int) -> dict[str, Any]:
            return {
                "requestSeqNum": sequence,
                "endpointIdentifier": self.endpoint_id or "",
                "conferenceID": conference_id,
                "callReferenceValue": call_reference,
                "disengageReason": ("normalDrop", 0),
                "callIdentifier": {"guid": call_identifier},
                "answeredCall": False,
            }

        self._require_registered("DRQ")
        return [self._request("disengageRequest", body, now)]

    # -- time and input ------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When :meth:`poll` next has work: a retransmission or the keep-alive."""
        if self._pending is not None:
            return self._pending.sent_at + self.timeout
        if self.state is RegistrationState.REGISTERED and self.confirmed_at is not None:
            return keepalive_due(self.confirmed_at, self.granted_ttl or self.ttl)
        return None

    def poll(self, now: float) -> list[bytes]:
        """Retransmit an unanswered request, give up after ``retries``, or send the keep-alive."""
        pending = self._pending
        if pending is not None:
            if now < pending.sent_at + self.timeout:
                return []
            if pending.attempts > self.retries:
                self._pending = None
                self._event(
                    "timeout", f"no answer to {pending.name} after {pending.attempts} tries", now
                )
                if pending.name in ("admissionRequest", "disengageRequest"):
                    return []
                self.state = RegistrationState.FAILED
                return []
            pending.attempts += 1
            pending.sent_at = now
            return [pending.data]
        deadline = self.next_deadline()
        if deadline is not None and now >= deadline:
            return [self._register(now, keep_alive=True)]
        return []

    def receive(self, data: bytes, now: float) -> list[bytes]:
        """Handle one datagram from the gatekeeper (raises ``PerError`` if undecodable)."""
        message = RasMessage.decode(data)
        if message.name == "unregistrationRequest":  # the gatekeeper drops us
            self.state = RegistrationState.UNREGISTERED
            self._pending = None
            self._event("unregistered-by-gatekeeper", "", now)
            answer = RasMessage(
                "unregistrationConfirm", {"requestSeqNum": message.sequence_number or 0}
            )
            return [answer.encode()]
        pending = self._pending
        if pending is None or message.sequence_number != pending.sequence_number:
            return []  # late answer to a request already settled, or not ours
        confirm, reject = CONFIRMS[pending.name]
        if message.name not in (confirm, reject):
            return []  # e.g. requestInProgress: keep waiting
        self._pending = None
        if message.name == reject:
            reason = message.reject_reason or "unknown reason"
            self._event("rejected", f"{reject}: {reason}", now)
            if pending.name in ("gatekeeperRequest", "registrationRequest"):
                self.state = RegistrationState.FAILED
            return []
        return self._confirmed(pending.name, message, now)

    # -- internals -----------------------------------------------------------------------------

    def _confirmed(self, request: str, message: RasMessage, now: float) -> list[bytes]:
        body = message.body
        if request == "gatekeeperRequest":
            self.gatekeeper_id = body.get("gatekeeperIdentifier")
            self._event("discovered", f"gatekeeper {self.gatekeeper_id or '(unnamed)'}", now)
            return [self._register(now)]
        if request == "registrationRequest":
            refreshed = self.state is RegistrationState.REGISTERED
            self.endpoint_id = body.get("endpointIdentifier", self.endpoint_id)
            self.gatekeeper_id = body.get("gatekeeperIdentifier", self.gatekeeper_id)
            self.granted_ttl = int(body.get("timeToLive", self.ttl))
            self.confirmed_at = now
            self.state = RegistrationState.REGISTERED
            self._event(
                "refreshed" if refreshed else "registered",
                f"endpoint {self.endpoint_id}, ttl {self.granted_ttl} s",
                now,
            )
        elif request == "unregistrationRequest":
            self.state = RegistrationState.UNREGISTERED
            self._event("unregistered", "", now)
        elif request == "admissionRequest":
            self.admitted = body
            address = transport_from_value(body["destCallSignalAddress"])
            where = f"{address[0]}:{address[1]}" if address else "non-IP address"
            self._event("admitted", f"call to {where}, bandwidth {body['bandWidth']}", now)
        elif request == "disengageRequest":
            self._event("disengaged", "", now)
        return []

    def _require_registered(self, what: str) -> None:
        if self.state is not RegistrationState.REGISTERED:
            raise RuntimeError(f"{what} needs a registration (state {self.state.value})")

    def _event(self, kind: str, detail: str, now: float) -> None:
        self.events.append(RasEvent(kind, detail, now))

    def _request(self, name: str, body: Any, now: float) -> bytes:
        self._sequence = self._sequence % 65535 + 1
        data = RasMessage(name, body(self._sequence)).encode()
        self._pending = _Pending(name, self._sequence, data, now)
        return data

    def _register(self, now: float, keep_alive: bool = False) -> bytes:
        if not keep_alive:
            self.state = RegistrationState.REGISTERING
        return self._request(
            "registrationRequest", lambda seq: self._rrq_body(seq, keep_alive), now
        )

    def _grq_body(self, sequence: int) -> dict[str, Any]:
        return {
            "requestSeqNum": sequence,
            "protocolIdentifier": PROTOCOL_IDENTIFIER,
            "rasAddress": transport_address(*self.ras_address),
            "endpointType": endpoint_type(),
            "endpointAlias": [alias.to_value() for alias in self.aliases],
        }

    def _rrq_body(self, sequence: int, keep_alive: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "requestSeqNum": sequence,
            "protocolIdentifier": PROTOCOL_IDENTIFIER,
            "discoveryComplete": self.discover and self.gatekeeper_id is not None,
            "callSignalAddress": [transport_address(*self.call_signal_address)],
            "rasAddress": [transport_address(*self.ras_address)],
            "terminalType": endpoint_type(),
        }
        if not keep_alive:
            body["terminalAlias"] = [alias.to_value() for alias in self.aliases]
        if self.gatekeeper_id:
            body["gatekeeperIdentifier"] = self.gatekeeper_id
        body["endpointVendor"] = endpoint_type()["vendor"]
        body["timeToLive"] = self.granted_ttl or self.ttl
        body["keepAlive"] = keep_alive
        if keep_alive and self.endpoint_id:
            body["endpointIdentifier"] = self.endpoint_id
        body["willSupplyUUIEs"] = False
        return body

    def _urq_body(self, sequence: int) -> dict[str, Any]:
        body: dict[str, Any] = {
            "requestSeqNum": sequence,
            "callSignalAddress": [transport_address(*self.call_signal_address)],
            "endpointAlias": [alias.to_value() for alias in self.aliases],
        }
        if self.endpoint_id:
            body["endpointIdentifier"] = self.endpoint_id
        if self.gatekeeper_id:
            body["gatekeeperIdentifier"] = self.gatekeeper_id
        return body
