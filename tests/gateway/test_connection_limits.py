"""Connection floods against the control API (uvicorn) and the SIP TCP listener: idle and
slow connections are capped and timed out, while requests in progress, rooms that have spoken
and ``/healthz`` keep working."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import httpx
from pydantic import SecretStr

from gateway.http_api import CallInfo, HttpLimits, HttpServer, create_app
from gateway.metrics import GatewayMetrics
from gateway.ports import PortPool
from gateway.store import open_store
from tests.gateway.control import StoreControl
from tests.gateway.sipclient import UdpClient, exchange, invite
from tests.gateway.test_redirect import gateway, run

FLOOD = 300

Streams = list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]


async def connect_many(host: str, port: int, count: int, first_bytes: bytes = b"") -> Streams:
    """``count`` TCP connections that send ``first_bytes`` (a partial request) and then wait."""
    streams: Streams = []
    for _ in range(count):
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            continue  # refused at the cap is fine; the test counts what stays open
        if first_bytes:
            writer.write(first_bytes)
        streams.append((reader, writer))
    return streams


async def still_open(streams: Streams, wait: float = 0.5) -> int:
    """How many of ``streams`` the server has not closed (no EOF or reset within ``wait``)."""

    async def alive(reader: asyncio.StreamReader) -> bool:
        try:
            return await asyncio.wait_for(reader.read(1), wait) != b""
        except TimeoutError:
            return True
        except OSError:
            return False

    return sum(await asyncio.gather(*(alive(r) for r, _ in streams)))


async def closed_within(streams: Streams, seconds: float) -> bool:
    """Whether the server closes every one of ``streams`` within ``seconds``."""
    deadline = asyncio.get_running_loop().time() + seconds
    while await still_open(streams):
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.5)
    return True


async def close_all(streams: Streams) -> None:
    for _, writer in streams:
        writer.close()


class SlowControl(StoreControl):
    """``GET /calls`` waits until released: a request in progress during the flood."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.release = asyncio.Event()

    async def calls(self) -> Sequence[CallInfo]:
        await self.release.wait()
        return await super().calls()


def test_an_idle_and_slow_http_connection_flood_leaves_healthz_and_requests_working(
    tmp_path: Path,
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'gw.sqlite3'}", ttl=60)
    metrics = GatewayMetrics()
    control = SlowControl(PortPool(store, "gw", metrics=metrics), ["boardroom"],
                          ["udp://127.0.0.1:5060"])

    async def main() -> None:
        app = create_app(control, token=SecretStr("t" * 20), metrics=metrics)
        limits = HttpLimits(max_connections=40, request_timeout=3.0, keep_alive=2)
        server = HttpServer(app, "127.0.0.1", 0, limits)
        host, port = (await server.start()).rsplit(":", 1)
        streams: Streams = []
        try:
            async with httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=30) as client:
                in_progress = asyncio.create_task(client.get("/calls"))
                await asyncio.sleep(0.5)  # the request has arrived and waits in the app
                assert not in_progress.done()
                streams += await connect_many(host, int(port), FLOOD // 2)
                streams += await connect_many(host, int(port), FLOOD // 2,
                                              b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                assert await still_open(streams) <= limits.max_connections
                async with httpx.AsyncClient(base_url=f"http://{host}:{port}",
                                             timeout=30) as other:
                    assert (await other.get("/healthz")).json() == {"status": "ok"}
                control.release.set()
                assert (await in_progress).status_code == 200  # never cut by the flood
            # Past the request timeout every flood connection is closed by the server.
            assert await closed_within(streams, limits.request_timeout + 10.0)
        finally:
            await close_all(streams)
            await server.stop()

    run(main)
    store.close()


def test_a_sip_tcp_connection_flood_leaves_the_rooms_working(tmp_path: Path) -> None:
    async def main() -> None:
        async with gateway(tmp_path, pool_size=4, tcp_max_connections=40,
                           tcp_idle_timeout=3.0) as gw:
            host, port = gw.tcp
            room_reader, room_writer = await asyncio.open_connection(host, port)
            room_writer.write(invite("87654321012", 5999, transport="TCP",
                                     method="OPTIONS"))  # the room has spoken
            assert b"200 OK" in await asyncio.wait_for(room_reader.readuntil(b"\r\n\r\n"), 10)
            flood = await connect_many(host, port, FLOOD)
            assert await still_open(flood) <= 40
            # The room's connection was kept, and a new room connection gets in.
            room_writer.write(invite("87654321012", 5999, transport="TCP"))
            answer = await asyncio.wait_for(room_reader.readuntil(b"302 Moved"), 10)
            assert answer
            late_reader, late_writer = await asyncio.open_connection(host, port)
            late_writer.write(invite("87654321013", 5998, transport="TCP"))
            assert await asyncio.wait_for(late_reader.readuntil(b"302 Moved"), 10)
            udp = UdpClient()  # and UDP never noticed
            replies = await exchange(udp, invite("87654321014", udp.port), gw.udp)
            assert replies[-1].status == 302
            assert await closed_within(flood, 3.0 + 10.0)  # idle timeout: the flood is closed
            for writer in (room_writer, late_writer):
                writer.close()
            await close_all(flood)

    run(main)


def test_the_systemd_unit_leaves_room_above_the_connection_caps() -> None:
    from gateway.config import GatewayConfig

    unit = (Path(__file__).resolve().parents[2] / "configs" / "crcgw.service").read_text()
    limit = int(next(line.split("=", 1)[1] for line in unit.splitlines()
                     if line.startswith("LimitNOFILE=")))
    config = GatewayConfig()
    caps = config.http.max_connections + config.sip.tcp_max_connections
    assert limit >= 4 * caps + 1024  # calls, media sockets, the store and logs need the rest
