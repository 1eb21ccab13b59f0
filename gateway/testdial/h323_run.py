"""The H.323 test dial: :func:`signaling.h323.dial` and its per-message times as stages.

The H.225 call signalling is timed from the Setup: Call Proceeding (like SIP's 100), Alerting
(180), Connect (200), then the Release Complete we send after the duration. The project's H.323
dial negotiates signalling and H.245 only; it carries no RTP, so no media figures are judged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.testdial.probes import resolve
from gateway.testdial.stages import StageBoard
from signaling.dialstring import DialTarget
from signaling.h323 import DEFAULT_PORT, DialEvent, dial

__all__ = ["H323Outcome", "run_h323"]

_STAGE_OF = {"Call Proceeding": "invite_100", "Alerting": "invite_180", "Connect": "invite_200"}


@dataclass
class H323Outcome:
    error: str | None = None
    notes: list[str] = field(default_factory=list)


def _first(events: list[DialEvent], message: str, direction: str) -> DialEvent | None:
    return next((e for e in events if e.message == message and e.direction == direction), None)


async def run_h323(
    target: DialTarget, board: StageBoard, duration_s: float, timeout_s: float
) -> H323Outcome:
    host = target.host or ""
    port = target.port or DEFAULT_PORT
    board.say(f"resolving {host}")
    resolved = await resolve(host, port)
    if resolved.address is None:
        board.set("dns", "failed", resolved.ms, resolved.error)
        board.skip_pending("not reached")
        return H323Outcome(resolved.error)
    board.set("dns", "ok", resolved.ms,
              "IP literal, no query" if resolved.literal else f"{host} -> {resolved.address}")
    board.say(f"calling {host}:{port} over H.323 (staying {duration_s:g} s once connected)")
    result = await dial(target, timeout=min(timeout_s, 10.0), hold=duration_s,
                        setup_timeout=timeout_s)
    events = result.events
    connected = _first(events, "TCP connected", "info")
    if connected is None:
        board.set("connect", "failed", detail=result.error or "no TCP connection")
        board.skip_pending("not reached")
        return H323Outcome(result.error or "no TCP connection")
    board.set("connect", "ok", connected.at * 1000, connected.detail)
    setup = _first(events, "Setup", "sent")
    start = setup.at if setup is not None else connected.at
    for message, stage in _STAGE_OF.items():
        event = _first(events, message, "received")
        if event is not None:
            board.set(stage, "ok", (event.at - start) * 1000, event.detail or message)
        elif stage == "invite_200":
            board.set(stage, "failed", detail=result.outcome)
        else:
            board.set(stage, "skipped", detail=f"the far end sent no {message}")
    board.set("dtmf", "skipped", detail="not sent over H.323 by this tool")
    board.set("media", "skipped", detail="the H.323 test dial carries no RTP (signalling only)")
    release = _first(events, "Release Complete", "sent")
    if not result.connected:
        board.skip_pending("the call did not connect")
        return H323Outcome(result.outcome)
    if release is not None:
        board.set("bye", "sent", detail=release.detail)
    else:
        far = _first(events, "Release Complete", "received")
        board.set("bye", "failed", detail=f"the far end released first: "
                  f"{far.detail if far else result.outcome}")
    notes = [f"H.323 outcome: {result.outcome}"]
    return H323Outcome(None, notes)
