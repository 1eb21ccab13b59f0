"""RFC 4475 torture messages sent to a listening crcgw endpoint (skipped without ../shared).

pjsip's behaviour, checked message by message against RFC 4475's expectations:
- it never answers a response (unreason, noreason, scalarlg, bigcode, bcast);
- it never accepts a strictly invalid message, except the known pjsip 2.15.1 deviation
  listed in ``KNOWN_DEVIATIONS``;
- what it cannot parse or has no handler for, it drops silently (no 400/501): RFC 4475
  allows dropping for the invalid ones; for valid ones this is recorded, not hidden;
- it survives all of them over UDP and TCP, and its registrations and calls keep working.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from signaling.pjsua import SipEngine
from signaling.sip.config import CallOptions
from signaling.sip.errors import SipError
from signaling.sip.events import IncomingCall
from signaling.sip.types import CallPhase, RegState
from tests.harness import Baresip, Kamailio, free_port
from tests.sip.helpers import endpoint, engine_config, run_engine

pytestmark = pytest.mark.sip

TESTDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "rfc4475"

# message -> why pjsip's answer differs from RFC 4475 (kept visible: a change here must be seen)
KNOWN_DEVIATIONS = {
    "invalid/mcl01.dat": "pjsip frames the body by the first of two Content-Length values "
    "and answers 200 instead of treating it as a framing error",
}
# valid only as a single UDP datagram (over TCP the trailing INVITE is a second message)
UDP_ONLY = {"valid/dblreq.dat"}
# RFC 4475 allows a 400 answer to these well-formed messages
MAY_ANSWER_400 = {"valid/badbranch.dat", "valid/sdp01.dat"}


def _index() -> list[dict[str, Any]]:
    if not (TESTDATA / "index.json").exists():
        pytest.skip("RFC 4475 test data (../shared/testdata/rfc4475) not present")
    messages: list[dict[str, Any]] = json.loads((TESTDATA / "index.json").read_text())["messages"]
    return messages


def _is_response(data: bytes) -> bool:
    return data.startswith(b"SIP/")


def _status(reply: bytes) -> int | None:
    if not reply.startswith(b"SIP/2.0 "):
        return None
    try:
        return int(reply.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def _send_tcp(port: int, data: bytes) -> list[int]:
    """Send one message on a fresh connection; the status codes answered within 1 s."""
    codes: list[int] = []
    # pjsip's listen backlog is small: few connections at once, generous connect timeout
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        sock.settimeout(1.0)
        buffer = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
                if b"\r\n\r\n" in buffer and any(
                    _status(line) and _status(line) >= 200  # type: ignore[operator]
                    for line in buffer.split(b"\r\n")
                ):
                    break
        except TimeoutError:
            pass
    for line in buffer.split(b"\r\n"):
        code = _status(line)
        if code is not None:
            codes.append(code)
    return codes


def _send_udp(port: int, data: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(data, ("127.0.0.1", port))


def test_torture_messages(kamailio: Kamailio, bob: Baresip) -> None:
    messages = _index()
    assert len(messages) == 49
    port = free_port()
    results: dict[str, list[int]] = {}

    async def scenario(engine: SipEngine) -> None:
        status = await engine.register(endpoint(kamailio, "room176", "udp"))
        assert status.ok
        for message in messages:  # UDP first: no reply comes back to us (Via is elsewhere)
            await asyncio.to_thread(_send_udp, port, (TESTDATA / message["file"]).read_bytes())
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = {
                m["file"]: pool.submit(_send_tcp, port, (TESTDATA / m["file"]).read_bytes())
                for m in messages
            }
            for name, future in futures.items():
                results[name] = await asyncio.wrap_future(future)
        # the torture INVITEs ring as incoming calls: reject them, as a room would
        for event in engine.events.since(0):
            if isinstance(event, IncomingCall):
                with contextlib.suppress(SipError):
                    await engine.hangup(event.call_id, 486)
        # still serving: registration refresh and a call with DTMF
        assert engine.running
        mark = engine.events.mark()
        await engine.set_registration("room176-udp", True)
        again = await engine.wait_registration("room176-udp", 5, mark, (RegState.REGISTERED,))
        assert again.code == 200
        since = bob.mark()
        call = await engine.dial(
            bob.aor, endpoint="room176-udp", options=CallOptions(dtmf="5#", dtmf_delay_s=0.2)
        )
        assert (await engine.wait_call(call, timeout=10)).phase is CallPhase.CONNECTED
        assert await asyncio.to_thread(bob.wait_dtmf, "5#", 5, since) == "5#"
        await engine.hangup(call)

    run_engine(engine_config(kamailio, sip_port=port, pjsip_log_level=1), scenario)

    problems = []
    for message in messages:
        name = message["file"]
        codes = results[name]
        data = (TESTDATA / name).read_bytes()
        final = [c for c in codes if c >= 200]
        if _is_response(data):
            if codes:
                problems.append(f"{name}: answered a response with {codes}")
        elif message["parse_expectation"] == "reject" and name not in KNOWN_DEVIATIONS:
            if any(c < 400 for c in final):
                problems.append(f"{name}: invalid message accepted ({codes})")
        elif message["parse_expectation"] == "accept" and name not in UDP_ONLY:
            if 400 in final and name not in MAY_ANSWER_400:
                problems.append(f"{name}: well-formed message rejected as bad ({codes})")
    assert not problems, "\n".join(problems)
    assert 200 in results["valid/lwsdisp.dat"]  # a well-formed OPTIONS is answered
    assert 481 in results["valid/wsinv.dat"]  # INVITE with an unknown To tag: no such dialog
    for name in KNOWN_DEVIATIONS:  # keep the deviation list honest
        assert any(c < 300 for c in results[name] if c >= 200), f"{name} is fixed: update the list"
