"""The harness itself: real peers start on free ports, register, and leave nothing behind."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.harness import Baresip, Kamailio, PeerError

pytestmark = pytest.mark.sip


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_kamailio_factory_ports_and_stop(kamailio_factory: Callable[..., Kamailio]) -> None:
    kam = kamailio_factory(users={"dave": "davepw"})
    assert kam.sip_port != kam.tls_port
    assert kam.address("tls") == f"127.0.0.1:{kam.tls_port}"
    assert kam.registered_users() == set()
    pid = kam.pid
    assert pid is not None and _alive(pid)
    kam.stop()
    assert not _alive(pid)
    kam.stop()  # idempotent


def test_kamailio_rejects_unsafe_user() -> None:
    with pytest.raises(ValueError, match="unsupported characters"):
        Kamailio(users={"eve": 'pw"; drop'})


def test_baresip_registers_over_udp_and_tls(
    kamailio: Kamailio, baresip_factory: Callable[..., Baresip]
) -> None:
    for transport in ("udp", "tls"):
        ua = baresip_factory(
            "carol", "carolpw", registrar=kamailio.address(transport), transport=transport
        )
        assert ua.wait_registered(), ua.log_tail()
        contacts = kamailio.contacts("carol")
        assert any(f"127.0.0.1:{ua.sip_port}" in c or "transport=tls" in c for c in contacts)
        ua.stop()


def test_baresip_wrong_password_is_not_registered(
    kamailio: Kamailio, baresip_factory: Callable[..., Baresip]
) -> None:
    ua = baresip_factory("carol", "nope", registrar=kamailio.address("udp"))
    assert not ua.wait_registered(timeout=1.0)


def test_kamcmd_error_is_a_peer_error(kamailio: Kamailio) -> None:
    with pytest.raises(PeerError):
        kamailio.kamcmd("no.such.command")


def test_peers_die_with_the_test_process(tmp_path: Path) -> None:
    """A Python process that starts Kamailio and is then killed leaves no Kamailio behind."""
    script = (
        "import os, sys, time\n"
        "from tests.harness import Kamailio\n"
        "k = Kamailio(users={'x': 'y'}).start()\n"
        "print(k.pid, flush=True)\n"
        "time.sleep(0.5)\n"  # a test that crashes a moment after its peers are up
        "os.kill(os.getpid(), 9)\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=60
    )
    pid = int(out.stdout.split()[0])
    deadline = time.monotonic() + 15
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)
