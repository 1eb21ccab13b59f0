"""One endpoint's registration as a state machine without I/O.

The pjsua2 adapter (:mod:`signaling.pjsua._worker`) feeds it what pjsua2's account reported
(a REGISTER started, a final answer), a dropped TCP/TLS connection, and the owner's wish to be
registered or not; it executes the :class:`SetRegistration` commands and passes the
:class:`~signaling.sip.events.RegistrationChanged` events on. Time comes in as ``now``;
randomness (the backoff's jitter) as an injected ``random.Random``.

States: unregistered, registering, registered, failed. The stack refreshes a registration
:func:`refresh_lead_s` before it expires (the machine decides the lead, the adapter
configures it); a REGISTER without answer fails as 408 after ``register_timeout_s``; after a
failure, or a dropped connection, the machine registers again with exponential backoff
(:func:`signaling.sip.retry.retry_delay`); a registration whose expiry passes without any
refresh answered (by ``register_timeout_s`` after it: pjsip refreshes a very short expiry a
little late, measured 5 s for ``Expires: 4``, and reports an unanswered refresh by then) is
reported failed and registered again.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from signaling.sip.config import EndpointConfig, RetryPolicy
from signaling.sip.events import RegistrationChanged, RegistrationStatus
from signaling.sip.explain import explain_registration_failure
from signaling.sip.retry import retry_delay
from signaling.sip.types import RegState, Transport

__all__ = [
    "RegStep",
    "Registration",
    "SetRegistration",
    "TlsProblemLog",
    "refresh_lead_s",
]

_TLS_PROBLEM_TTL_S = 10.0
_NO_ANSWER = "Request Timeout (no answer)"


def refresh_lead_s(expires_s: int) -> int:
    """How long before expiry the stack refreshes: 5 s, or a third of a very short expiry."""
    return max(1, min(5, expires_s // 3))


@dataclass(frozen=True, slots=True)
class SetRegistration:
    """Send REGISTER (``on``) or unregister (``Expires: 0``)."""

    on: bool


RegStep = tuple[list[SetRegistration], list[RegistrationChanged]]


class TlsProblemLog:
    """Certificate problems seen on TLS connections lately, by remote address (and the last
    seen at all, under ``""``): a TLS registration failure names them."""

    def __init__(self, ttl_s: float = _TLS_PROBLEM_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._seen: dict[str, tuple[float, tuple[str, ...]]] = {}

    def seen(self, remote: str, problems: tuple[str, ...], now: float) -> None:
        if problems:
            self._seen[remote] = (now, problems)
            self._seen[""] = (now, problems)

    def recent(self, where: str, now: float) -> tuple[str, ...]:
        for key in (where, ""):
            seen = self._seen.get(key)
            if seen and now - seen[0] < self.ttl_s:
                return seen[1]
        return ()


class Registration:
    """The registration of one endpoint (one pjsua2 account)."""

    def __init__(
        self,
        config: EndpointConfig,
        transport: Transport,
        *,
        retry: RetryPolicy,
        register_timeout_s: float,
        stamp: Callable[[], int],
        rng: random.Random | None = None,
        tls_problems: TlsProblemLog | None = None,
    ) -> None:
        """``stamp`` gives each status its ``seq`` (the adapter's ordering source)."""
        self.config = config
        self.transport = transport
        self.retry = retry
        self.register_timeout_s = register_timeout_s
        self._stamp = stamp
        self._rng = rng or random.Random()
        self._tls = tls_problems or TlsProblemLog()
        self.want_registered = config.register
        self.status = RegistrationStatus(config.name, RegState.UNREGISTERED, transport, seq=stamp())
        self.started_at: float | None = None
        self.failures = 0
        self._timeout_at: float | None = None
        self._retry_at: float | None = None
        self._expires_at: float | None = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def deadline(self) -> float | None:
        times = [t for t in (self._timeout_at, self._retry_at, self._expires_at) if t is not None]
        return min(times) if times else None

    def _publish(self, now: float, events: list[RegistrationChanged], **changes: Any) -> None:
        self.status = replace(self.status, seq=self._stamp(), **changes)
        events.append(RegistrationChanged(now, self.status))

    # -- inputs ------------------------------------------------------------------------------

    def want(self, on: bool) -> RegStep:
        """The owner asks to register (again) or to unregister."""
        self.want_registered = on
        self._retry_at = None
        self.failures = 0
        return [SetRegistration(on)], []

    def started(self, renew: bool, now: float) -> RegStep:
        """A REGISTER went out (``renew``) or an unregistration (not ``renew``)."""
        events: list[RegistrationChanged] = []
        self.started_at = now
        self._timeout_at = None
        if not renew:
            self._expires_at = None
            return [], events
        self._expires_at = None  # a refresh is on its way: its answer sets the next expiry
        self._timeout_at = now + self.register_timeout_s
        if self.status.state is not RegState.REGISTERED:
            self._publish(
                now, events, state=RegState.REGISTERING, attempts=self.status.attempts + 1
            )
        return [], events

    def answered(self, code: int, reason: str, expiration: int, now: float) -> RegStep:
        """The final answer to a REGISTER (``expiration`` as the registrar granted it)."""
        events: list[RegistrationChanged] = []
        if self._timeout_at is not None:
            self._timeout_at = None
        elif self.status.state is RegState.FAILED and code == 408:
            return [], events  # our own timeout reported this attempt already
        if 200 <= code < 300:
            self.failures = 0
            registered = expiration > 0
            self._expires_at = now + expiration + self.register_timeout_s if registered else None
            self._publish(
                now,
                events,
                state=RegState.REGISTERED if registered else RegState.UNREGISTERED,
                code=code,
                reason=reason,
                duration_ms=self._took_ms(now),
                expires_s=expiration if registered else None,
                explanation=None,
            )
            return [], events
        return self._failed(code, reason, now, events)

    def deferred(self, now: float) -> RegStep:
        """A :class:`SetRegistration` could not be carried out now (the stack still has a
        REGISTER pending): try again later, backing off."""
        if self.want_registered:
            self.failures += 1
            self._retry_at = now + retry_delay(self.retry, self.failures, self._rng)
        return [], []

    def transport_lost(self, now: float) -> RegStep:
        """The TCP/TLS connection of the registration closed: its binding is gone."""
        if (
            self.want_registered
            and self.transport.reliable
            and self.status.state is RegState.REGISTERED
        ):
            self._retry_at = now + retry_delay(self.retry, 1, self._rng)
        return [], []

    def tick(self, now: float) -> RegStep:
        commands: list[SetRegistration] = []
        events: list[RegistrationChanged] = []
        if self._timeout_at is not None and now >= self._timeout_at:
            self._timeout_at = None
            self._failed(408, _NO_ANSWER, now, events)
        if self._expires_at is not None and now >= self._expires_at:
            self._expires_at = None
            reason = "the registration expired and was not refreshed"
            self._failed(None, reason, now, events)
        if self._retry_at is not None and now >= self._retry_at:
            self._retry_at = None
            if self.want_registered:
                commands.append(SetRegistration(True))
        return commands, events

    # -- helpers -----------------------------------------------------------------------------

    def _took_ms(self, now: float) -> float | None:
        if self.started_at is None:
            return None
        return round((now - self.started_at) * 1000, 3)

    def _failed(
        self, code: int | None, reason: str, now: float, events: list[RegistrationChanged]
    ) -> RegStep:
        registrar = self.config.registrar_address
        where = str(registrar.with_default_port(self.transport)) if registrar else "?"
        problems = self._tls.recent(where, now) if self.transport is Transport.TLS else ()
        explanation = explain_registration_failure(
            self.name,
            self.transport,
            where,
            code,
            reason,
            problems,
            self.register_timeout_s if code == 408 else None,
        )
        self._expires_at = None
        self._publish(
            now,
            events,
            state=RegState.FAILED,
            code=code,
            reason=reason,
            duration_ms=self._took_ms(now),
            expires_s=None,
            explanation=explanation,
        )
        if self.want_registered:
            self.failures += 1
            self._retry_at = now + retry_delay(self.retry, self.failures, self._rng)
        return [], events
