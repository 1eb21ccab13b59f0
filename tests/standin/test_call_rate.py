"""The stand-in meeting under a stream of short calls from SIPp (Debian ``sip-tester``): every
call is answered and joined, none declined, and the connector survives.

The connector handles every queued event per turn, and an engine command that fails (answering
a call its caller already abandoned raises ``PJSIP_ESESSIONTERMINATED``) ends that call only;
it used to escape the connector's loop and end the whole stand-in. The rate stays below the stand-in's real ceiling (about 50 calls/s: pjlib's
64 ioqueue slots, two sockets a call kept 0.5 s after it ends, see docs/call-walk.md).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from api_client.emulator import meeting_passcode
from gateway.peers.process import free_port
from gateway.standin.process import StandinProcess

pytestmark = pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp not installed")

MEETING = "82419374650"
CALLS = 150


def test_a_stream_of_short_calls_is_answered_and_joined() -> None:
    with StandinProcess() as crc:
        done = subprocess.run(
            ["sipp", crc.address, "-sn", "uac", "-s", f"{MEETING}.{meeting_passcode(MEETING)}",
             "-r", "40", "-m", str(CALLS), "-l", "16", "-d", "50", "-i", "127.0.0.1",
             "-p", str(free_port()), "-nostdin", "-timeout", "90s", "-recv_timeout", "10000"],
            capture_output=True, text=True, timeout=150,
        )
        screen = done.stdout[-3000:]
        ok = re.search(r"Successful call\s+\|\s+\d+\s+\|\s+(\d+)", screen)
        failed = re.search(r"Failed call\s+\|\s+\d+\s+\|\s+(\d+)", screen)
        assert ok and failed, screen
        assert (int(ok.group(1)), int(failed.group(1))) == (CALLS, 0), screen
        assert crc._process is not None and crc._process.poll() is None, crc._stderr[-5:]
        joined = [e for e in crc.events if e.get("event") == "joined"]
        assert len(joined) == CALLS
        assert not [e for e in crc.events if e.get("event") == "rejected"]
