"""The dial-string redirect service on real loopback UDP and TCP sockets."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from gateway.dialplan import DialPlan, DialRule
from gateway.metrics import GatewayMetrics
from gateway.ports import PortPool
from gateway.redirect import RedirectEvent, RedirectService, RedirectSettings
from gateway.store import Lease, Store, open_store
from tests.gateway.sipclient import UdpClient, ack_for, address, exchange, invite

TESTDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata"


class Gateway:
    def __init__(self, store: Store, service: RedirectService, events: list[RedirectEvent],
                 metrics: GatewayMetrics) -> None:
        self.store, self.service, self.events, self.metrics = store, service, events, metrics
        self.udp = address(service.listen_addresses[0])
        self.tcp = address(service.listen_addresses[1])


@asynccontextmanager
async def gateway(tmp_path: Path, pool_size: int = 2, plan: DialPlan | None = None,
                  gate: Callable[[PortPool], Any] | None = None,
                  **settings: Any) -> AsyncIterator[Gateway]:
    store = open_store(f"sqlite:///{tmp_path / 'gw.sqlite3'}", ttl=60)
    store.set_pool_size(pool_size)
    metrics = GatewayMetrics()
    pool = PortPool(store, "gw", metrics=metrics)
    events: list[RedirectEvent] = []
    service = RedirectService(plan or DialPlan(), gate(pool) if gate else pool,
                              RedirectSettings(**settings), metrics=metrics,
                              on_event=events.append)
    await service.start(["udp://127.0.0.1:0", "tcp://127.0.0.1:0"])
    try:
        yield Gateway(store, service, events, metrics)
    finally:
        await service.close()
        store.close()


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())


def test_digits_get_trying_then_a_302_to_the_zoom_target(tmp_path: Path) -> None:
    async def main() -> None:
        async with gateway(tmp_path) as gw:
            client = UdpClient()
            request = invite("87654321012*7777", client.port)
            await client.send(request, gw.udp)
            trying, final = await client.recv(), await client.recv()
            assert trying is not None and trying.status == 100
            assert final is not None and final.status == 302
            assert final.header("Contact") == "<sip:87654321012.7777@zoomcrc.com>"
            assert final.header("To").startswith("<sip:87654321012*7777@127.0.0.1>;tag=")  # type: ignore[union-attr]
            assert final.header("Via").endswith(f";rport={client.port};received=127.0.0.1")  # type: ignore[union-attr]
            await client.send(ack_for(request, final.raw), gw.udp)
            (lease,) = gw.store.leases()
            assert lease.call_id.startswith("redirect:") and lease.room == "room1"
            assert lease.target == "87654321012@zoomcrc.com"  # no passcode at rest
            assert gw.events[0].status == 302 and "7777" not in repr(gw.events[0])
            assert gw.service.live_call_ids() == {lease.call_id}
            client.close()
    run(main)


def test_no_matching_rule_is_404_and_takes_no_port(tmp_path: Path) -> None:
    async def main() -> None:
        async with gateway(tmp_path) as gw:
            client = UdpClient()
            for user in ("alice", "12345", "87654321012*"):
                replies = await exchange(client, invite(user, client.port), gw.udp)
                statuses = [r.status for r in replies]
                assert statuses == [100, 404], (user, statuses)
            assert gw.store.leases() == []
            client.close()
    run(main)


@pytest.mark.parametrize("busy", [503, 486])
def test_a_full_pool_is_busy_with_retry_after(tmp_path: Path, busy: int) -> None:
    async def main() -> None:
        async with gateway(tmp_path, pool_size=1, busy_status=busy, retry_after=17) as gw:
            client = UdpClient()
            first = await exchange(client, invite("123456789", client.port), gw.udp)
            assert [r.status for r in first] == [100, 302]
            replies = await exchange(client, invite("123456789", client.port), gw.udp)
            assert [r.status for r in replies] == [100, busy]
            assert replies[1].header("Retry-After") == "17"
            assert len(gw.store.leases()) == 1
            assert gw.metrics.redirects.labels(str(busy))._value.get() == 1
            client.close()
    run(main)


def test_a_retransmitted_invite_is_answered_again_without_a_second_lease(tmp_path: Path) -> None:
    async def main() -> None:
        async with gateway(tmp_path, pool_size=5, t1=5.0) as gw:  # no retransmission here
            client = UdpClient()
            request = invite("123456789", client.port)
            await client.send(request, gw.udp)
            first = await client.replies()
            await client.send(request, gw.udp)
            again = await client.replies()
            assert [r.status for r in first] == [100, 302]
            assert [r.status for r in again] == [302]
            assert again[0].raw == first[1].raw
            assert len(gw.store.leases()) == 1
            client.close()
    run(main)


def test_the_302_is_retransmitted_over_udp_until_the_ack(tmp_path: Path) -> None:
    async def main() -> None:
        async with gateway(tmp_path, t1=0.05, t2=0.2) as gw:
            client = UdpClient()
            request = invite("123456789", client.port)
            await client.send(request, gw.udp)
            replies = [await client.recv(1.0) for _ in range(4)]
            assert [r.status if r else None for r in replies] == [100, 302, 302, 302]
            finals = [r for r in replies if r is not None and r.status == 302]
            await client.send(ack_for(request, finals[0].raw), gw.udp)
            await asyncio.sleep(0.05)
            await client.replies(quiet=0.05, final_within=0)  # one may have crossed the ACK
            assert await client.replies(quiet=0.5, final_within=0) == []
            client.close()
    run(main)


def test_the_lease_ends_after_the_hold_or_when_the_call_ends(tmp_path: Path) -> None:
    async def main() -> None:
        async with gateway(tmp_path, pool_size=5, hold=1.0) as gw:
            client = UdpClient()
            await exchange(client, invite("123456789", client.port, call_id="held"), gw.udp)
            await exchange(client, invite("987654321", client.port, call_id="ended"), gw.udp)
            assert {x.call_id for x in gw.store.leases()} == {"redirect:held", "redirect:ended"}
            assert await gw.service.call_ended("ended")
            assert not await gw.service.call_ended("ended")
            assert [x.call_id for x in gw.store.leases()] == ["redirect:held"]
            await asyncio.sleep(1.2)
            assert gw.store.leases() == [] and gw.service.live_call_ids() == set()
            client.close()
    run(main)


def test_close_releases_held_leases(tmp_path: Path) -> None:
    async def main() -> None:
        async with gateway(tmp_path, pool_size=5) as gw:
            client = UdpClient()
            await exchange(client, invite("123456789", client.port), gw.udp)
            assert len(gw.store.leases()) == 1
            await gw.service.close()
            assert gw.store.leases() == []
            client.close()
    run(main)


def test_other_methods(tmp_path: Path) -> None:
    async def main() -> None:
        async with gateway(tmp_path) as gw:
            client = UdpClient()

            async def status_of(method: str, user: str = "123456789", **kw: Any) -> list[int]:
                request = invite(user, client.port, method=method, **kw)
                wait = 0.5 if method == "ACK" else 10.0  # an ACK gets no answer
                return [r.status for r in await exchange(client, request, gw.udp,
                                                         final_within=wait)]

            await client.send(invite("gw", client.port, method="OPTIONS"), gw.udp)
            (options,) = await client.replies()
            assert options.status == 200 and "INVITE" in (options.header("Allow") or "")
            assert await status_of("BYE") == [481]
            assert await status_of("REGISTER") == [405]
            assert await status_of("FROBNICATE") == [501]
            assert await status_of("CANCEL") == [481]
            assert await status_of("ACK") == []
            assert await status_of("INVITE", extra="Require: 100rel\r\n") == [420]
            client.close()
    run(main)


def test_cancel_before_the_answer_gives_487_and_frees_the_port(tmp_path: Path) -> None:
    release = asyncio.Event()

    class SlowGate:  # the real pool, with an acquire that waits for the test
        def __init__(self, pool: PortPool) -> None:
            self.pool = pool

        async def acquire(self, call_id: str, room: str, target: str) -> Lease | None:
            await release.wait()
            return await self.pool.acquire(call_id, room, target)

        async def release(self, call_id: str) -> Lease | None:
            return await self.pool.release(call_id)

    async def main() -> None:
        async with gateway(tmp_path, gate=SlowGate) as gw:
            client = UdpClient()
            request = invite("123456789", client.port, branch="z9hG4bKcancelme")
            await client.send(request, gw.udp)
            assert (await client.recv()).status == 100  # type: ignore[union-attr]
            cancel = request.replace(b"INVITE sip", b"CANCEL sip").replace(
                b"CSeq: 1 INVITE", b"CSeq: 1 CANCEL")
            await client.send(cancel, gw.udp)
            reply = await client.recv()
            assert reply is not None and reply.status == 200
            assert reply.header("CSeq") == "1 CANCEL"
            release.set()
            final = await client.recv()
            assert final is not None and final.status == 487
            assert gw.store.leases() == []
            client.close()
    run(main)


def test_tcp_framing_keepalive_and_broken_length(tmp_path: Path) -> None:
    async def main() -> None:
        async with gateway(tmp_path, pool_size=5) as gw:
            reader, writer = await asyncio.open_connection(*gw.tcp)
            first = invite("123456789", 5999, transport="TCP")
            second = invite("alice", 5999, transport="TCP")
            writer.write(first + second[:40])
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(second[40:])
            await writer.drain()
            seen = b""
            while seen.count(b"SIP/2.0 ") < 4:
                seen += await asyncio.wait_for(reader.read(65536), 2)
            statuses = [int(line.split()[1]) for line in seen.decode().split("\r\n")
                        if line.startswith("SIP/2.0 ")]
            assert sorted(statuses) == [100, 100, 302, 404]
            writer.write(b"\r\n\r\n")
            await writer.drain()
            assert await asyncio.wait_for(reader.read(65536), 2) == b"\r\n"
            writer.write(invite("123456789", 5999, transport="TCP").replace(
                b"Content-Length: 0", b"Content-Length: -5"))
            await writer.drain()
            tail = await asyncio.wait_for(reader.read(65536), 2)
            assert tail.startswith(b"SIP/2.0 400 Bad Content-Length")
            assert await asyncio.wait_for(reader.read(65536), 2) == b""  # connection closed
            writer.close()
    run(main)


def test_garbage_never_stops_the_service(tmp_path: Path) -> None:
    async def main() -> None:
        async with gateway(tmp_path) as gw:
            client = UdpClient()
            long_invite = invite("1" * 5000, client.port)
            junk = [
                b"\x00" * 100, b"\xff\xfe garbage", b"INVITE", b"INVITE sip:x SIP/2.0\r\n",
                b"SIP/2.0 200 OK\r\n\r\n", b"A" * 70000,
                invite("123456789", client.port).replace(b"Via:", b"Vya:"),
                invite("123456789", client.port).replace(b"CSeq: 1 INVITE", b"CSeq: x"),
                long_invite, "INVITE sip:\u00e9@x SIP/2.0\r\n".encode(),
            ]
            for data in junk:
                await gw.service.handle(data, lambda _m: None, ("127.0.0.1", 1))
                if len(data) < 65000:
                    await client.send(data, gw.udp)
            replies = await client.until_finals({400, 404})
            assert all(r.raw.startswith(b"SIP/2.0 ") for r in replies)
            # 400 for the bad CSeq; the long INVITE was already answered through handle(), so
            # its UDP copy is a retransmission (404 again); messages without Via get nothing.
            finals = sorted(r.status for r in replies if r.status != 100)
            assert finals == [400, 404]
            not_found = next(r for r in replies if r.status == 404)
            await client.send(ack_for(long_invite, not_found.raw), gw.udp)
            await client.send(invite("gw", client.port, method="OPTIONS"), gw.udp)
            assert [r.status for r in await client.replies()] == [200]
            client.close()
    run(main)


def test_h323_rules_redirect_to_an_h323_uri(tmp_path: Path) -> None:
    plan = DialPlan.from_rules([DialRule(r"00(?P<mid>\d{9,11})\*(?P<pw>\d+)",
                                         "{mid}#{pw}", "h323", "162.255.37.11")])

    async def main() -> None:
        async with gateway(tmp_path, plan=plan) as gw:
            client = UdpClient()
            final = (await exchange(client, invite("00123456789*55", client.port), gw.udp))[-1]
            assert final.status == 302
            assert final.header("Contact") == "<h323:123456789%2355@162.255.37.11>"
            client.close()
    run(main)


@pytest.mark.skipif(not (TESTDATA / "rfc4475").is_dir(), reason="shared/testdata not present")
def test_rfc4475_torture_messages(tmp_path: Path) -> None:
    root = TESTDATA / "rfc4475"
    messages = json.loads((root / "index.json").read_text())["messages"]
    expected = {  # RFC 4475's expected handling, where it names one answer
        "invalid/mismatch01.dat": {400}, "invalid/badvers.dat": {505},
        "valid/unkscm.dat": {416}, "valid/novelsc.dat": {416}, "invalid/insuf.dat": {400},
        "invalid/clerr.dat": {400}, "invalid/ncl.dat": {400}, "invalid/multi01.dat": {400},
        "invalid/mcl01.dat": {400}, "invalid/scalar02.dat": {400},
        "invalid/mismatch02.dat": {400, 501}, "valid/bext01.dat": {420},
        "valid/invut.dat": {415}, "invalid/badinv01.dat": {400},
        "invalid/ltgtruri.dat": {400}, "invalid/escruri.dat": {400},
        "valid/lwsdisp.dat": {200}, "valid/zeromf.dat": {200},
        # responses: never answered
        "valid/unreason.dat": set(), "valid/noreason.dat": set(),
        "invalid/scalarlg.dat": set(), "invalid/bigcode.dat": set(), "valid/bcast.dat": set(),
    }

    async def main() -> None:
        # the torture source is trusted and unthrottled: this test is about parsing, not access
        async with gateway(tmp_path, trusted=("192.0.2.0/24",), rate=10000.0, burst=100000) as gw:
            for item in messages:
                data = (root / item["file"]).read_bytes()
                replies: list[bytes] = []
                await gw.service.handle(data, replies.append, ("192.0.2.1", 5060))
                finals = {int(r.split(b" ", 2)[1]) for r in replies} - {100}
                assert all(r.startswith(b"SIP/2.0 ") for r in replies), item["file"]
                if item["file"] in expected:
                    acceptable = expected[item["file"]]
                    assert len(finals) <= 1 and finals <= acceptable, (item["file"], finals)
                    assert finals or not acceptable, item["file"]
            client = UdpClient()
            await client.send(invite("gw", client.port, method="OPTIONS"), gw.udp)
            assert [r.status for r in await client.replies()] == [200]
            client.close()
    run(main)


def test_settings_from_the_configuration_and_ipv6_listening(tmp_path: Path) -> None:
    from gateway.config import SipConfig

    settings = RedirectSettings.from_config(
        SipConfig(redirect_hold=5, busy_status=486, retry_after=9))
    assert (settings.hold, settings.busy_status, settings.retry_after) == (5, 486, 9)

    async def main() -> None:
        store = open_store(f"sqlite:///{tmp_path / 'v6.sqlite3'}")
        store.set_pool_size(1)
        service = RedirectService(DialPlan(), PortPool(store, "gw"), settings)
        try:
            (listen,) = await service.start(["udp://[::1]:0"])
            assert listen.startswith("udp://[::1]:")
            sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            sock.bind(("::1", 0))
            sock.setblocking(False)
            loop = asyncio.get_running_loop()
            port = sock.getsockname()[1]
            request = invite("123456789", port).replace(b"127.0.0.1:", b"[::1]:")
            await loop.sock_sendto(sock, request, ("::1", address(listen)[1]))
            statuses = []
            for _ in range(2):
                data = await asyncio.wait_for(loop.sock_recv(sock, 65536), 2)
                statuses.append(int(data.split(b" ")[1]))
            assert statuses == [100, 302]
            sock.close()
        finally:
            await service.close()
            store.close()

    run(main)


def test_a_failing_store_gives_503_not_silence(tmp_path: Path) -> None:
    class BrokenGate:  # the real pool whose database has gone away
        def __init__(self, pool: PortPool) -> None:
            self.pool = pool

        async def acquire(self, call_id: str, room: str, target: str) -> Lease | None:
            self.pool.store.close()
            return await self.pool.acquire(call_id, room, target)

        async def release(self, call_id: str) -> Lease | None:
            return None

    async def main() -> None:
        async with gateway(tmp_path, gate=BrokenGate) as gw:
            client = UdpClient()
            replies = await exchange(client, invite("123456789", client.port), gw.udp)
            assert [r.status for r in replies] == [100, 503]
            assert replies[1].header("Retry-After") == "30"
            client.close()

    run(main)


def test_close_drops_open_tcp_connections(tmp_path: Path) -> None:
    async def main() -> None:
        async with gateway(tmp_path) as gw:
            reader, writer = await asyncio.open_connection(*gw.tcp)
            writer.write(invite("gw", 5999, transport="TCP", method="OPTIONS"))
            assert (await asyncio.wait_for(reader.read(65536), 2)).startswith(b"SIP/2.0 200")
            await gw.service.close()
            assert await asyncio.wait_for(reader.read(65536), 2) == b""
            writer.close()

    run(main)


def test_reconcile_leaves_redirect_holds_alone_and_reclaims_forgotten_ones(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with gateway(tmp_path, pool_size=5, hold=30) as gw:
            client = UdpClient()
            await exchange(client, invite("123456789", client.port, call_id="kept"), gw.udp)
            pool = PortPool(gw.store, "gw", grace=0)
            # a lease of ours that no call or redirect knows about (e.g. from a bug or crash)
            assert await pool.acquire("orphan", "room", "t") is not None
            result = await pool.reconcile_once(None, gw.service.live_call_ids, 5)
            assert [lease.call_id for lease in result.reclaim] == ["orphan"]
            assert [lease.call_id for lease in gw.store.leases()] == ["redirect:kept"]
            client.close()

    run(main)


def test_cdr_recorder_writes_one_record_per_answer(tmp_path: Path) -> None:
    from gateway.cdrs import CdrRecorder

    async def main() -> None:
        store = open_store(f"sqlite:///{tmp_path / 'cdr.sqlite3'}")
        store.set_pool_size(1)
        service = RedirectService(DialPlan(), PortPool(store, "gw"), RedirectSettings(),
                                  on_event=CdrRecorder(store, "gw").redirect)
        (listen,) = await service.start(["udp://127.0.0.1:0"])
        client = UdpClient()
        for user, call_id in (("123456789*55", "ok"), ("alice", "nope"), ("987654321", "full")):
            await exchange(client, invite(user, client.port, call_id=call_id), address(listen))
        for _ in range(100):
            if len(store.cdrs()) == 3:
                break
            await asyncio.sleep(0.02)
        records = {c.call_id: c for c in store.cdrs()}
        assert {k: (v.outcome, v.sip_code, v.direction) for k, v in records.items()} == {
            "redirect:ok": ("redirected", 302, "redirect"),
            "redirect:nope": ("no-route", 404, "redirect"),
            "redirect:full": ("no-port", 503, "redirect"),
        }
        assert records["redirect:ok"].target == "123456789@zoomcrc.com"  # no passcode
        assert records["redirect:ok"].room == "room1"
        client.close()
        await service.close()
        store.close()

    run(main)
