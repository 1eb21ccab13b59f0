"""Calls from crcgw to Linphone (Debian ``linphone-cli``) through the project's Kamailio.

Linphone registers with a GRUU (RFC 5627) and answers with its public GRUU as Contact, so every
in-dialog request travels Kamailio's ``GRUU`` route: the ACK and the BYE must reach Linphone and
be answered, whichever side hangs up. (pjsua's codec-locking UPDATE, which this test also saw
before, is off since calls carry video: ``lockCodecEnabled`` in ``signaling/pjsua/_configs.py``.)
Linphone's own log (belle-sip at level 6) is the judge of what reached it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.harness import Kamailio
from tests.harness.linphone import Linphone, linphone_available

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(not linphone_available(), reason="linphonec (linphone-cli) not installed"),
]

ROOT = Path(__file__).resolve().parents[2]
ROOM, ROOM_PW = "room173", "room173pw"


@pytest.fixture
def linphone(kamailio_factory: Callable[..., Kamailio]) -> Iterator[tuple[Kamailio, Linphone]]:
    kamailio = kamailio_factory(users={"linph": "linphpw", ROOM: ROOM_PW})
    with Linphone(kamailio.address("udp"), "linph", "linphpw") as peer:
        yield kamailio, peer


def _dial(kamailio: Kamailio, duration: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gateway", "dial", "sip:linph@127.0.0.1",
         "--registrar", kamailio.address("udp"), "--user", ROOM, "--password-env", "PW",
         "--duration", duration, "--bye-timeout", "5", "--json"],
        cwd=ROOT, env={**os.environ, "PW": ROOM_PW}, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def _wait_for(peer: Linphone, first_line: str, direction: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not any(line.startswith(first_line) for line in peer.first_lines(direction)):
        assert time.monotonic() < deadline, (first_line, peer.first_lines(direction))
        time.sleep(0.1)


def _answered_with_gruu(peer: Linphone) -> bool:
    for direction, text in peer.messages():
        lines = text.splitlines()
        if direction == "sent" and lines[0].startswith("SIP/2.0 200") and any(
            ln.lower().startswith("cseq:") and "INVITE" in ln for ln in lines
        ):
            return any(ln.lower().startswith(("contact:", "m:")) and ";gr=" in ln for ln in lines)
    return False


def _requests_answered(peer: Linphone, method: str) -> list[str]:
    """The responses Linphone sent to the ``method`` requests it received."""
    return [text.splitlines()[0] for direction, text in peer.messages()
            if direction == "sent" and text.startswith("SIP/2.0")
            and any(ln.lower().startswith("cseq:") and ln.split()[-1] == method
                    for ln in text.splitlines())]


def test_crcgw_hangs_up_and_linphone_gets_ack_and_bye(
    linphone: tuple[Kamailio, Linphone],
) -> None:
    kamailio, peer = linphone
    dial = _dial(kamailio, "3")
    out, err = dial.communicate(timeout=90)
    report = json.loads(out)
    assert dial.returncode == 0, err
    assert report["connected"] is True
    assert (report["bye"]["code"], report["bye"]["origin"]) == (200, "received")
    assert _answered_with_gruu(peer)  # the in-dialog requests below went by the GRUU
    received = peer.first_lines("received")
    for method in ("INVITE", "ACK", "BYE"):
        assert any(line.startswith(f"{method} sip:linph@") for line in received), (method,
                                                                                    received)
    assert _requests_answered(peer, "BYE") == ["SIP/2.0 200 Ok"]


def test_linphone_hangs_up_and_crcgw_answers_its_bye(linphone: tuple[Kamailio, Linphone]) -> None:
    kamailio, peer = linphone
    dial = _dial(kamailio, "60")
    try:
        _wait_for(peer, "ACK sip:linph@", "received")
        started = time.monotonic()
        peer.command("terminate")
        out, err = dial.communicate(timeout=60)
    finally:
        if dial.poll() is None:
            dial.kill()
            dial.communicate(timeout=10)  # reaps it and closes its pipes
    report = json.loads(out)
    assert dial.returncode == 0, err
    assert time.monotonic() - started < 30  # ended by Linphone's BYE, not by --duration 60
    assert report["connected"] is True
    assert report["cause"]["origin"] == "received", report["cause"]
    assert report["bye"] is None  # Linphone's BYE ended it: crcgw sent none
    assert any(line.startswith("BYE sip:") for line in peer.first_lines("sent"))
    assert "SIP/2.0 200" in peer.responses_to("BYE")  # crcgw's answer came back to Linphone
