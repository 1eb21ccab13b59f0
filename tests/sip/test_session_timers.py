"""RFC 4028 session timers on the wire, with SIPp as the far end (Debian ``sip-tester``).

Three SIPp peers at once on one engine (so the test takes one interval, not three), all with
``Session-Expires: 90`` (the smallest interval RFC 4028 and pjsip allow):
- a called far end names crcgw the refresher and answers every refresh: crcgw must refresh
  (pjsip sends UPDATE) at half the interval, and the call stays up;
- a called far end names itself the refresher and never refreshes: crcgw must send BYE before
  the session expires (at 90 s - min(32 s, 90 s / 3) = 60 s) and report the end as local;
- a caller asks crcgw (the UAS) to refresh: crcgw must refresh at half the interval too.

The times are read from SIPp's own message trace (its clock stamps each message it sends and
receives), not from crcgw. Slow by nature: about 65 s.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

import pytest

from signaling.pjsua import SipEngine
from signaling.sip.config import CallOptions, EndpointConfig, EngineConfig
from signaling.sip.types import CallPhase, CauseOrigin, Transport
from tests.harness import free_port
from tests.harness.sipp import Sipp, sipp_available

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(not sipp_available(), reason="sipp (sip-tester) not installed"),
]

SE = 90
_START = re.compile(r"^(SIP/2\.0 \d{3}|[A-Z]+ sips?:)")
_STAMP = re.compile(r"^-{5,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)", re.MULTILINE)


def trace(peer: Sipp) -> list[tuple[float, str]]:
    """(time, start line) of every message in SIPp's trace."""
    text = peer.messages()
    marks = list(_STAMP.finditer(text))
    out = []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        lines = text[mark.end() : end].splitlines()
        start = next((line.strip() for line in lines if _START.match(line.strip())), "")
        out.append((datetime.fromisoformat(mark.group(1)).timestamp(), start))
    return out


def first(rows: list[tuple[float, str]], prefix: str, after: float = 0.0) -> float | None:
    return next((at for at, line in rows if line.startswith(prefix) and at > after), None)


def test_crcgw_refreshes_at_half_the_interval_and_ends_an_unrefreshed_session() -> None:
    refreshed = Sipp("session_timer", keys={"se": str(SE)})
    stale = Sipp("session_not_refreshed", keys={"se": str(SE)})
    port = free_port()
    caller = Sipp("call_in_session_timer", keys={"se": str(SE)}, remote=f"127.0.0.1:{port}")

    async def run() -> None:
        config = EngineConfig(
            pjsip_log_level=1, rtp_timeout_s=5, sip_port=port, transports=(Transport.UDP,)
        )
        async with SipEngine(config) as engine:
            room = EndpointConfig("room", "room", register=False, auto_answer=True)
            await engine.add_endpoint(room)
            mark = engine.events.mark()
            caller.start()
            incoming = (await engine.wait_incoming("room", 10, mark)).call_id
            options = CallOptions(timeout_s=10)
            good = await engine.dial(refreshed.uri, options=options)
            bad = await engine.dial(stale.uri, options=options)
            for call in (good, bad, incoming):
                assert (await engine.wait_call(call, timeout=20)).phase is CallPhase.CONNECTED
            ended = await engine.wait_call(bad, {CallPhase.DISCONNECTED}, SE)
            assert ended.origin is CauseOrigin.LOCAL
            assert "did not refresh the session within 90 s" in (ended.explanation or "")
            assert (await engine.wait_bye(bad, 10)).code == 200
            # the refreshing call is still up past 60 s (SIPp echoes RTP: the 5 s RTP check
            # that runs beside the session timer sees packets)
            for call in (good, incoming):
                assert engine.call_phases[call].phase is CallPhase.CONNECTED
                await engine.hangup(call)
                await engine.wait_call(call, {CallPhase.DISCONNECTED}, 10)

    with refreshed, stale:
        try:  # the caller starts once the engine listens
            asyncio.run(run())
            rows = trace(caller)
        finally:
            caller.stop()
        answered = first(rows, "SIP/2.0 200")
        refresh = first(rows, "UPDATE", answered or 0) or first(rows, "INVITE", answered or 0)
        assert answered is not None and refresh is not None, rows
        assert SE / 2 - 0.5 <= refresh - answered <= SE / 2 + 2.0, (refresh - answered, rows)
        rows = trace(refreshed)
        answered = first(rows, "SIP/2.0 200")
        assert answered is not None, rows
        refresh = first(rows, "UPDATE", answered) or first(rows, "INVITE", answered)
        assert refresh is not None, rows
        assert SE / 2 - 0.5 <= refresh - answered <= SE / 2 + 2.0, (refresh - answered, rows)
        rows = trace(stale)
        answered = first(rows, "SIP/2.0 200")
        bye = first(rows, "BYE")
        assert answered is not None and bye is not None, rows
        assert first(rows, "UPDATE") is None and first(rows, "INVITE", answered) is None
        assert SE - 32 - 0.5 <= bye - answered <= SE - 30 + 3.0, (bye - answered, rows)


def test_422_is_retried_with_the_far_ends_min_se() -> None:
    """A far end that wants at least 2400 s answers 422 with ``Min-SE: 2400``: pjsip retries
    the INVITE with ``Session-Expires: 2400`` and the call machine follows that interval."""

    async def run(peer: Sipp) -> None:
        async with SipEngine(EngineConfig(pjsip_log_level=1)) as engine:
            call = await engine.dial(peer.uri, options=CallOptions(timeout_s=10))
            assert (await engine.wait_call(call, timeout=20)).phase is CallPhase.CONNECTED
            worker = engine._require()
            session = await asyncio.wrap_future(
                worker.submit(lambda: worker.calls[call].machine.session)
            )
            assert session is not None and session.interval_s == 2400 and session.we_refresh
            assert session.offer_s == 2400  # raised by the 422
            await engine.hangup(call)
            ended = await engine.wait_call(call, {CallPhase.DISCONNECTED}, 10)
            assert ended.explanation is None  # a normal hang-up: the 422 ended nothing

    with Sipp("session_too_small", keys={"se": "2400"}) as peer:
        asyncio.run(run(peer))
        text = peer.messages()
        assert "422 Session Interval Too Small" in text
        retried = text.split("422 Session Interval Too Small", 1)[1].split("INVITE sip:", 1)[1]
        assert re.search(r"^Session-Expires: 2400\b", retried, re.MULTILINE), retried
