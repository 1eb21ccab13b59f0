"""Calls through the project's Kamailio to a far end whose Contact is its public GRUU (RFC 5627),
as Linphone's is: the ACK and the BYE must reach it, whoever hangs up.

The far end here is SIPp, registered with ``+sip.instance`` and ``Supported: gruu`` and
answering with the GRUU Kamailio gave it; ``tests/sip/test_linphone.py`` does the same with
Linphone itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.harness import Kamailio, free_port
from tests.harness.gruu import register_with_gruu
from tests.harness.sipp import Sipp, sipp_available
from tests.sip.test_cli import crcgw

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(not sipp_available(), reason="sipp (sip-tester) not installed"),
]


def _call(kamailio: Kamailio, scenario: str, duration: str) -> tuple[Any, ...]:
    """Register the far end with a GRUU, start SIPp on its port, dial it through Kamailio:
    ``(exit code, JSON report, stderr, SIPp's message trace)``."""
    port = free_port(udp=True, tcp=False)
    gruu = register_with_gruu(kamailio.address("udp"), "carol", "carolpw", port)
    assert ";gr=urn:uuid:" in gruu
    peer = Sipp(scenario, port=port, keys={"gruu": gruu}).start()
    try:
        out = crcgw(
            "dial", "sip:carol@127.0.0.1", "--registrar", kamailio.address("udp"),
            "--user", "room171", "--password-env", "PW", "--duration", duration,
            "--bye-timeout", "5", "--json", PW="room171pw",
        )
        return out.returncode, json.loads(out.stdout), out.stderr, peer.messages()
    finally:
        peer.stop()


@pytest.fixture
def kamailio(kamailio_factory: Callable[..., Kamailio]) -> Kamailio:
    """A private registrar: the far end's GRUU registrations outlive each test."""
    return kamailio_factory(users={"carol": "carolpw", "room171": "room171pw"})


def test_caller_hangs_up_and_the_gruu_gets_ack_and_bye(kamailio: Kamailio) -> None:
    code, report, stderr, trace = _call(kamailio, "gruu_answer", "2")
    # the proxy rewrites the GRUU to the registered contact: what matters is that they came
    assert "\nACK sip:carol@127.0.0.1:" in trace, trace[-2000:]
    assert "\nBYE sip:carol@127.0.0.1:" in trace, trace[-2000:]
    assert code == 0, stderr
    assert report["connected"] is True
    assert (report["bye"]["code"], report["bye"]["origin"]) == (200, "received")


def test_far_end_hangs_up_through_the_route_set(kamailio: Kamailio) -> None:
    code, report, stderr, trace = _call(kamailio, "gruu_far_end_hangs_up", "20")
    assert "\nACK sip:carol@127.0.0.1:" in trace, trace[-2000:]
    assert "SIP/2.0 200 OK" in trace.rsplit("BYE sip:", 1)[-1]  # crcgw answered its BYE
    assert code == 0, stderr
    assert report["cause"]["origin"] == "received", report["cause"]
    assert report["stats"]["connected_s"] < 15
    assert report["bye"] is None  # the far end's BYE ended it, we sent none
