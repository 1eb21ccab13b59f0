"""Running a :class:`SipEngine` scenario from a synchronous test, with short timers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

import pytest

from signaling.pjsua import SipEngine
from signaling.pjsua._base import FINAL_REG_STATES
from signaling.sip.config import EndpointConfig, EngineConfig, RetryPolicy, TlsSettings
from signaling.sip.events import RegistrationChanged, RegistrationStatus
from signaling.sip.types import Transport
from tests.harness import Kamailio

T = TypeVar("T")

SHORT_RETRY = RetryPolicy(initial_s=0.3, max_s=1.0, jitter=0)


def engine_config(kam: Kamailio | None = None, **changes: Any) -> EngineConfig:
    """Loopback engine settings with short timers; TLS trusts ``kam``'s certificate."""
    config = EngineConfig(
        bind_address="127.0.0.1",
        tls=TlsSettings(ca_file=str(kam.cert) if kam else None),
        register_timeout_s=1.5,
        auto_probe_timeout_s=0.5,
        unregister_wait_s=1.0,
        retry=SHORT_RETRY,
        pjsip_log_level=3,
    )
    return replace(config, **changes)


def run_engine(config: EngineConfig, scenario: Callable[[SipEngine], Awaitable[T]]) -> T:
    """Start an engine, run ``scenario(engine)``, always close the engine; returns the result."""

    async def main() -> T:
        async with SipEngine(config) as engine:
            return await scenario(engine)

    return asyncio.run(main())


def endpoint(
    kam: Kamailio,
    user: str,
    transport: str = "udp",
    password: str | None = None,
    name: str | None = None,
    ipv6: bool = False,
    **changes: Any,
) -> EndpointConfig:
    """An endpoint of ``user`` at ``kam`` (password from ``kam.users`` unless given)."""
    return EndpointConfig(
        name=name or f"{user}-{transport}",
        user=user,
        password=kam.users.get(user, "") if password is None else password,
        registrar=kam.address(transport, ipv6=ipv6),
        domain="127.0.0.1",
        transport=Transport(transport),
        **changes,
    )


async def register_all(
    engine: SipEngine, endpoints: list[EndpointConfig]
) -> list[RegistrationStatus]:
    return list(await asyncio.gather(*(engine.register(e) for e in endpoints)))


def resume_add_endpoint_late(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make :meth:`SipEngine.add_endpoint` resume only after its endpoint's registration has
    answered: the order a busy CPU makes when the event loop resumes the coroutine later than
    the REGISTER/401/REGISTER/200 exchange (about 1.4 ms on loopback). Waits on the event,
    not on a clock, so the order is forced on any machine."""
    original = SipEngine._run

    async def late(self: SipEngine, fn: Callable[..., T], *args: Any) -> T:
        result = await original(self, fn, *args)
        if getattr(fn, "__name__", "") == "add_endpoint" and args[0].register:
            name = args[0].name
            with contextlib.suppress(TimeoutError):
                await self.events.wait_for(
                    lambda e: (
                        isinstance(e, RegistrationChanged)
                        and e.endpoint == name
                        and e.status.state in FINAL_REG_STATES
                    ),
                    self.config.register_timeout_s + 2,
                    since=0,
                )
        return result

    monkeypatch.setattr(SipEngine, "_run", late)
