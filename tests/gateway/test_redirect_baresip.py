"""A real room-system stand-in (baresip) dials digits at the redirect service; tshark on loopback
sees the 302 and its Contact."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.dialplan import DialPlan
from gateway.ports import PortPool
from gateway.redirect import RedirectEvent, RedirectService, RedirectSettings
from gateway.store import open_store
from tests.analysis.capture import TsharkCapture
from tests.harness import Baresip, baresip_available, free_port

pytestmark = [
    pytest.mark.sip,
    pytest.mark.capture,
    pytest.mark.skipif(not baresip_available(), reason="baresip-core not installed"),
    pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed"),
]


def sip_messages(capture: Path, port: int) -> list[tuple[str, str, str]]:
    """``(method, status, Contact URI)`` of every SIP message to or from ``port``."""
    out = subprocess.run(
        ["tshark", "-r", str(capture), "-d", f"udp.port=={port},sip",
         "-d", f"tcp.port=={port},sip", "-Y", "sip", "-T", "fields",
         "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.contact.uri"],
        capture_output=True, text=True, check=True,
    ).stdout
    return [(f[0], f[1], f[2]) for f in (line.split("\t") for line in out.splitlines())]


class BackgroundGateway:
    """The redirect service on its own event loop thread (baresip and tshark are driven from
    the test's main thread, which must start them: PR_SET_PDEATHSIG)."""

    def __init__(self, tmp_path: Path) -> None:
        self.store = open_store(f"sqlite:///{tmp_path / 'gw.sqlite3'}", ttl=60)
        self.store.set_pool_size(2)
        self.events: list[RedirectEvent] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.service = RedirectService(DialPlan(), PortPool(self.store, "gw"),
                                       RedirectSettings(hold=30), on_event=self.events.append)
        self.listen = self._call(self.service.start(["udp://127.0.0.1:0", "tcp://127.0.0.1:0"]))

    def _call(self, coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def port(self, transport: str) -> int:
        return int(next(a for a in self.listen if a.startswith(transport)).rsplit(":", 1)[1])

    def close(self) -> None:
        self._call(self.service.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
        self.store.close()


@pytest.fixture
def background_gateway(tmp_path: Path) -> Iterator[BackgroundGateway]:
    gw = BackgroundGateway(tmp_path)
    try:
        yield gw
    finally:
        gw.close()


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_baresip_dialling_digits_is_redirected_to_the_zoom_target(
    background_gateway: BackgroundGateway, transport: str, tmp_path: Path
) -> None:
    gw = background_gateway
    port, probe = gw.port(transport), free_port(tcp=False)
    capture = tmp_path / "redirect.pcapng"
    with TsharkCapture(capture, f"port {port} or udp port {probe}", probe), \
            Baresip("room1", "unused", registrar=None) as room:
        mark = room.mark()
        room.dial(f"sip:87654321012*4321@127.0.0.1:{port};transport={transport}")
        closed = room.wait_event("CALL_CLOSED", timeout=10, since=mark)
        assert closed is not None, room.log_tail()
    messages = sip_messages(capture, port)
    assert ("INVITE", "", "") in [(m, s, "") for m, s, _ in messages], messages
    statuses = [status for method, status, _ in messages if status]
    # 100 first, then 302. Over UDP a slow answer (a busy machine, past T1 = 500 ms) brings a
    # retransmitted INVITE and another 100, and the 302 repeats until the ACK: the wire may
    # show 100 more than once, but nothing else comes before the 302.
    assert "302" in statuses, messages
    before = statuses[: statuses.index("302")]
    assert before and set(before) == {"100"}, messages
    contact = next(uri for _, status, uri in messages if status == "302")
    assert contact == "sip:87654321012.4321@zoomcrc.com"
    assert any(method == "ACK" for method, _, _ in messages), messages
    (event,) = gw.events
    assert (event.status, event.caller, event.transport) == (302, "room1", transport)
    (lease,) = gw.store.leases()
    assert lease.call_id == f"redirect:{event.sip_call_id}"
