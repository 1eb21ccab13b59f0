"""``crcgw demo``: the whole gateway on embedded defaults, end to end, in about ten seconds.

It starts a private Kamailio as the room's registrar, the gateway with its embedded API emulator
and stand-in connector, registers a demo room, asks the API for the meeting's dial-in
information, dials the meeting from the room (passcode by IVR), stays in the call while RTP
flows, hangs up, and reports registration, set-up time, DTMF, RTP and the CRC ports before,
during and after the call; then the meeting calls the room (a room-system call-out) and the
room answers.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api_client.models import RoomSystemCallout
from gateway.config import GatewayConfig, HttpConfig, RoomConfig, SipConfig
from gateway.daemon import Gateway
from gateway.peers.kamailio import Kamailio
from signaling.dialstring import DialTarget, from_seed_sip_dialing

__all__ = ["DEMO_MEETING", "DemoError", "run_demo"]

DEMO_MEETING = "82419374650"
DEMO_ROOM = "demo-room"
_PASSWORD_ENV = "CRCGW_DEMO_ROOM_PASSWORD"

Progress = Callable[[str], None]


class DemoError(RuntimeError):
    """A part of the demo could not start (the message names it)."""


async def _ports(gateway: Gateway) -> dict[str, int]:
    assert gateway.zoom is not None
    ports = await gateway.zoom.crc.ports()
    return {"allocated": ports.ports_allocated, "in_use": ports.ports_in_use}


async def _wait_ports(gateway: Gateway, in_use: int, timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        ports = await _ports(gateway)
        if ports["in_use"] == in_use or time.monotonic() > deadline:
            return ports
        await asyncio.sleep(0.1)


async def run_demo(
    progress: Progress, *, hold_s: float = 3.0, snapshot: Path | None = None
) -> dict[str, Any]:
    """Run the demo; ``progress`` receives one line per step. Returns the report. The room's
    call carries video both ways; ``snapshot`` saves the meeting's picture the room received."""
    workdir = Path(tempfile.mkdtemp(prefix="crcgw-demo."))
    password = secrets.token_hex(8)
    progress("starting Kamailio as the room's registrar")
    (workdir / "kamailio").mkdir()
    try:
        # Started from this (the main) thread on purpose: the child's PR_SET_PDEATHSIG follows
        # the thread that forked it, and a worker thread may end before the demo does.
        registrar = Kamailio({DEMO_ROOM: password}, workdir=workdir / "kamailio").start()
    except Exception as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        raise DemoError(f"Kamailio could not start: {exc}") from exc
    try:
        config = GatewayConfig(
            data_dir=workdir / "data",
            rooms=[RoomConfig(name=DEMO_ROOM, registrar=registrar.address("udp"),
                              user=DEMO_ROOM, password_env=_PASSWORD_ENV, video=True)],
            sip=SipConfig(listen=["udp://127.0.0.1:0"]),
            http=HttpConfig(bind="127.0.0.1:0"),
        )
        progress("starting the gateway (API emulator, stand-in connector, SIP core)")
        async with Gateway(config, environ={_PASSWORD_ENV: password},
                           ivr_first_delay_s=1.0, ivr_gap_s=0.8) as gateway:
            return await _exercise(gateway, progress, hold_s, snapshot)
    finally:
        registrar.stop()
        shutil.rmtree(workdir, ignore_errors=True)  # the demo's state is throw-away


async def _exercise(
    gateway: Gateway, progress: Progress, hold_s: float, snapshot: Path | None
) -> dict[str, Any]:
    assert gateway.engine is not None and gateway.zoom is not None
    assert gateway.standin is not None and gateway.tracker is not None
    progress(f"gateway up: SIP {', '.join(gateway.listening)}, HTTP {gateway.http_address}")
    status = await gateway.engine.wait_registration(DEMO_ROOM, timeout=15, since=0)
    registration = {
        "room": DEMO_ROOM, "state": status.state.value, "code": status.code,
        "transport": status.transport.value, "duration_ms": status.duration_ms,
    }
    progress(f"room {DEMO_ROOM} {status.state.value} ({status.code}) in "
             f"{status.duration_ms or 0:.1f} ms")
    before = await _ports(gateway)
    progress(f"CRC ports before: {before['in_use']}/{before['allocated']} in use")

    dialing = (await gateway.zoom.meetings.sip_dialing(DEMO_MEETING)).sip_dialing
    password = dialing.password.get_secret_value() if dialing.password else None
    info = from_seed_sip_dialing({"sip_dialing": {
        "uri": dialing.uri, "password": password,
        "ip_addresses": [str(ip) for ip in dialing.ip_addresses],
    }})
    standin = gateway.standin
    target = DialTarget.sip(DEMO_MEETING, passcode=info.passcode, host=standin.host,
                            port=standin.port)
    progress(f"dialling {target.without_secrets().sip_uri()} from {DEMO_ROOM} "
             "(passcode by IVR after answer)")
    call = await gateway.dial(DEMO_ROOM, target)
    tracker = gateway.tracker
    deadline = time.monotonic() + 15
    while (tracker.calls[call.call_id].info.state in ("dialling", "ringing")
           and time.monotonic() < deadline):
        await asyncio.sleep(0.05)
    connected = tracker.calls[call.call_id].info.state == "connected"
    progress("connected" if connected else "the call did not connect")
    dtmf_ok = False
    if connected:
        try:
            joined = await asyncio.to_thread(standin.wait_for, "joined", 10)
            dtmf_ok = True
            progress(f"IVR accepted the passcode: joined meeting {joined['meeting_id']}")
        except Exception as exc:  # noqa: BLE001 - reported in the result
            progress(f"the connector did not accept the DTMF: {exc}")
    during = await _wait_ports(gateway, before["in_use"] + 1, 3)
    progress(f"CRC ports during: {during['in_use']}/{during['allocated']} in use")
    if connected:
        await asyncio.sleep(hold_s)
    tracked = tracker.calls[call.call_id]
    video = _video(gateway, tracked.engine_call_id, snapshot, progress)
    progress("hanging up")
    await gateway.hangup(call.call_id)
    after = await _wait_ports(gateway, before["in_use"], 5)
    progress(f"CRC ports after: {after['in_use']}/{after['allocated']} in use")
    callout = await _callout(gateway, progress)
    stats = tracked.stats
    rtp: dict[str, Any] = {
        "codec": stats.codec if stats else None,
        "rx_packets": stats.rx_packets if stats else 0,
        "tx_packets": stats.tx_packets if stats else 0,
        "lost": stats.rx_lost if stats else None,
        "jitter_ms": stats.rx_jitter_ms if stats else None,
    }
    call_report = {
        "call_id": call.call_id,
        "target": tracked.info.target,
        "connected": connected,
        "setup_ms": stats.invite_to_200_ms if stats else None,
        "dtmf_ok": dtmf_ok,
        "sip_code": tracked.info.sip_code,
        "rtp": rtp,
        "video": video,
    }
    checks = {
        "registered": registration["state"] == "registered",
        "connected": connected,
        "dtmf": dtmf_ok,
        "rtp_both_ways": rtp["rx_packets"] > 0 and rtp["tx_packets"] > 0,
        "video_both_ways": video["received_frames"] > 0 and video["sent_frames"] > 0,
        "port_taken": during["in_use"] == before["in_use"] + 1,
        "port_released": after["in_use"] == before["in_use"],
        "callout_answered": bool(callout["answered"]),
    }
    failed = [name for name, passed in checks.items() if not passed]
    return {
        "ok": not failed,
        "failed": failed,
        "registration": registration,
        "call": call_report,
        "ports": {"before": before, "during": during, "after": after},
        "callout": callout,
        "meeting_id": DEMO_MEETING,
    }


def _video(
    gateway: Gateway, call_id: str | None, snapshot: Path | None, progress: Progress
) -> dict[str, Any]:
    """What the room's video leg saw of the meeting's picture (and sent), before hang-up."""
    leg = gateway.video.outgoing.get(call_id) if gateway.video and call_id else None
    stats = leg.stats() if leg is not None else None
    if leg is None or stats is None or leg.last is None:
        progress("no video on the call")
        return {"codec": None, "received_frames": 0, "sent_frames": 0, "snapshot": None}
    saved = None
    if snapshot is not None and leg.stream is not None and leg.stream.save_snapshot(snapshot):
        saved = str(snapshot)
    progress(f"video {leg.last.codec}: received {stats.decoded_frames} frames "
             f"{stats.width}x{stats.height}, sent {stats.frames_sent}"
             + (f"; the meeting's picture saved to {saved}" if saved else ""))
    return {"codec": leg.last.codec, "received_frames": stats.decoded_frames,
            "width": stats.width, "height": stats.height, "fps": stats.fps,
            "sent_frames": stats.frames_sent, "snapshot": saved}


async def _callout(gateway: Gateway, progress: Progress) -> dict[str, Any]:
    """The meeting calls the room (a room-system call-out): the stand-in dials the room's
    address at its registrar, the room answers."""
    assert gateway.zoom is not None and gateway.standin is not None
    room = gateway.config.rooms[0]
    target = f"{room.user}@{room.registrar}"
    progress(f"the meeting calls the room: room-system call-out to sip:{target}")
    await gateway.zoom.meetings.room_system_callout(DEMO_MEETING, RoomSystemCallout.to(target))
    try:
        await asyncio.to_thread(gateway.standin.wait_for, "callout_answered", 10)
    except Exception as exc:  # noqa: BLE001 - reported in the result
        progress(f"the room did not answer the call-out: {exc}")
        return {"target": target, "answered": False}
    progress(f"room {room.name} answered the meeting's call")
    return {"target": target, "answered": True}
