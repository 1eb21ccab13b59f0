"""A running gateway on embedded defaults with one room registered at a private Kamailio."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from gateway.config import GatewayConfig, HttpConfig, PortsConfig, RoomConfig, SipConfig
from gateway.daemon import Gateway
from gateway.peers.kamailio import Kamailio, kamailio_available
from signaling.pjsua import SipEnginePool
from signaling.pjsua._base import FINAL_REG_STATES
from signaling.pjsua.pool import _Shard
from signaling.sip.events import RegistrationChanged
from tests.sip.helpers import resume_add_endpoint_late

ROOM = "room-a"
ROOM_PASSWORD = secrets.token_hex(6)
TOKEN = secrets.token_hex(16)
ENVIRON = {"ROOM_A_PASSWORD": ROOM_PASSWORD, "CRCGW_TOKEN": TOKEN}

pytestmark = pytest.mark.skipif(not kamailio_available(), reason="kamailio is not installed")


@pytest.fixture(scope="module")
def registrar() -> Iterator[Kamailio]:
    if not kamailio_available():
        pytest.skip("kamailio is not installed")
    with Kamailio({ROOM: ROOM_PASSWORD}) as kamailio:
        yield kamailio


def gateway_config(data_dir: Path, registrar: Kamailio, **ports: float) -> GatewayConfig:
    return GatewayConfig(
        data_dir=data_dir,
        rooms=[RoomConfig(name=ROOM, registrar=registrar.address("udp"), user=ROOM,
                          password_env="ROOM_A_PASSWORD")],
        sip=SipConfig(listen=["udp://127.0.0.1:0"]),
        http=HttpConfig(bind="127.0.0.1:0", token_env="CRCGW_TOKEN"),
        ports=PortsConfig(**ports),  # type: ignore[arg-type]
    )


@pytest.fixture
def late_add_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """The room's add_endpoint resumes only after its registration answered (issue 20's race,
    what a busy CPU does): the gateway must still read the newest status. The daemon's engines
    run in child processes, so the answer of the engine process is held back in the pool."""
    resume_add_endpoint_late(monkeypatch)
    original = _Shard.call

    async def late(self: _Shard, method: str, *args: Any, **kwargs: Any) -> Any:
        result = await original(self, method, *args, **kwargs)
        pool = getattr(self._sink, "__self__", None)
        if method == "add_endpoint" and args[0].register and isinstance(pool, SipEnginePool):
            name = args[0].name
            with contextlib.suppress(TimeoutError):
                await pool.events.wait_for(
                    lambda e: isinstance(e, RegistrationChanged) and e.endpoint == name
                    and e.status.state in FINAL_REG_STATES,
                    self.config.register_timeout_s + 2, since=0,
                )
        return result

    monkeypatch.setattr(_Shard, "call", late)


@asynccontextmanager
async def running_gateway(config: GatewayConfig) -> AsyncIterator[Gateway]:
    async with Gateway(config, environ=ENVIRON, ivr_first_delay_s=0.5, ivr_gap_s=0.5) as gw:
        assert gw.engine is not None
        await gw.engine.wait_registration(ROOM, timeout=15, since=0)
        yield gw
        await asyncio.sleep(0)


async def shrink_pool(gw: Gateway, ports: int, timeout: float = 10.0) -> None:
    """Give the emulated account ``ports`` CRC ports and wait until the gateway's pool agrees."""
    assert gw.zoom is not None
    await gw.zoom.emulator.configure(ports_allocated=ports)
    deadline = time.monotonic() + timeout
    while (await gw.ports()).size != ports and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert (await gw.ports()).size == ports


async def wait_connected(gw: Gateway, call_id: str, timeout: float = 20,
                         poll: float = 0.05) -> None:
    """Until the tracker says the call is connected (fails after ``timeout``), looking every
    ``poll`` seconds."""
    assert gw.tracker is not None
    deadline = time.monotonic() + timeout
    while gw.tracker.calls[call_id].info.state != "connected":
        assert time.monotonic() < deadline, gw.tracker.calls[call_id].info
        await asyncio.sleep(poll)
