"""pytest fixtures: real Kamailio and baresip peers from :mod:`tests.harness`.

- ``kamailio``: one Kamailio for the whole session (users alice, bob, carol and room000..room199,
  password ``<user>pw``), IPv4 and IPv6. Tests must not restart it; use ``kamailio_factory``.
- ``kamailio_factory``: start private Kamailios (stopped at the end of the test).
- ``baresip_factory``: start baresip UAs (stopped at the end of the test).
- ``bob``: a baresip registered as bob at the session Kamailio over UDP, auto-answering.
- ``pbx_dns``: a DNS responder where ``_sip._udp.pbx.test`` (SRV) names the session Kamailio
  (``kam.test``, A 127.0.0.1); skips without root (it binds port 53 on loopback).

Tests using them are marked ``sip`` and skip when Kamailio or baresip is not installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.harness import Baresip, Kamailio, baresip_available, kamailio_available
from tests.harness.dns import DnsServer

ROOM_USERS = {f"room{i:03d}": f"room{i:03d}pw" for i in range(200)}
SESSION_USERS = {"alice": "alicepw", "bob": "bobpw", "carol": "carolpw", **ROOM_USERS}

needs_kamailio = pytest.mark.skipif(not kamailio_available(), reason="kamailio not installed")
needs_baresip = pytest.mark.skipif(not baresip_available(), reason="baresip not installed")


@pytest.fixture(scope="session")
def kamailio() -> Iterator[Kamailio]:
    if not kamailio_available():
        pytest.skip("kamailio (with kamailio-tls-modules) not installed")
    kam = Kamailio(users=SESSION_USERS, ipv6=True)
    kam.start()
    try:
        yield kam
    finally:
        kam.stop()


@pytest.fixture
def kamailio_factory() -> Iterator[Callable[..., Kamailio]]:
    if not kamailio_available():
        pytest.skip("kamailio (with kamailio-tls-modules) not installed")
    started: list[Kamailio] = []

    def make(**kwargs: Any) -> Kamailio:
        kam = Kamailio(**kwargs)
        started.append(kam)
        return kam.start()

    try:
        yield make
    finally:
        for kam in started:
            kam.stop()


@pytest.fixture
def baresip_factory() -> Iterator[Callable[..., Baresip]]:
    if not baresip_available():
        pytest.skip("baresip-core not installed")
    started: list[Baresip] = []

    def make(*args: Any, **kwargs: Any) -> Baresip:
        ua = Baresip(*args, **kwargs)
        started.append(ua)
        return ua.start()

    try:
        yield make
    finally:
        for ua in started:
            ua.stop()


@pytest.fixture
def bob(kamailio: Kamailio, baresip_factory: Callable[..., Baresip]) -> Baresip:
    ua = baresip_factory("bob", "bobpw", registrar=kamailio.address("udp"))
    assert ua.wait_registered(), ua.log_tail()
    return ua


@pytest.fixture
def pbx_dns(kamailio: Kamailio) -> Iterator[DnsServer]:
    try:
        dns = DnsServer()
    except PermissionError:
        pytest.skip("binding port 53 on loopback needs root")
    dns.add_srv("_sip._udp.pbx.test", "kam.test", kamailio.sip_port)
    dns.add_a("kam.test", "127.0.0.1")
    with dns:
        yield dns
