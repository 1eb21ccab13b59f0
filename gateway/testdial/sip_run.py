"""The SIP test dial: probes, REGISTER, INVITE, IVR digits, media for the duration, BYE.

Runs the pjsua2 engine (:class:`signaling.pjsua.SipEngine`) for one call and fills the stage
board as events arrive. Set-up times come from the engine's wire tap (the INVITE leaving, the
first provisional, 180/183 and 200 arriving); the BYE stage ends with the BYE's own response
(or no answer within ``bye_timeout_s``), timed from the BYE leaving to its response.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from gateway.callcontrol import CallControl, CallPolicy, ControlledCall, Finished
from gateway.calllegs import SipLeg
from gateway.testdial.capture import (
    CallCapture,
    analyse_call_capture,
    capture_filter,
    redact_capture,
)
from gateway.testdial.probes import connect_probe, resolve, route_interface
from gateway.testdial.report import (
    MediaFigures,
    VideoFigures,
    media_figures,
    with_capture_jitter,
)
from gateway.testdial.stages import StageBoard
from gateway.testdial.video_run import video_leg, video_result, watch_video
from gateway.videoleg import VideoLeg
from signaling.callevents import EventKind
from signaling.dialstring import DialTarget
from signaling.dialstring.ivr import IvrStep
from signaling.h323.dial import masked_user_part
from signaling.pjsua import SipEngine
from signaling.sip.config import CallOptions, EndpointConfig, EngineConfig, TlsSettings
from signaling.sip.dtmf import dtmf_plan, hold_s
from signaling.sip.errors import SipError
from signaling.sip.events import CallStateChanged, CallStats, EngineEvent
from signaling.sip.sdpvideo import VideoSettings
from signaling.sip.types import CallPhase, CauseOrigin, DtmfMethod, Transport

__all__ = ["MeetingObserver", "SipOutcome", "SipPlan", "local_address", "run_sip"]

RTP_PORT_COUNT = 16

InCallHook = Callable[[], Awaitable[None]]


class MeetingObserver(Protocol):
    """What a test dial can see of the far end's IVR (the embedded stand-in reports it)."""

    async def wait_prompt(self, timeout: float) -> str | None:
        """What the meeting asks for next (``"passcode"``), or ``None`` if nothing was asked."""
        ...

    async def wait_joined(self, timeout: float) -> tuple[bool, str]:
        """``(True, detail)`` once the caller joined, ``(False, reason)`` if rejected/timeout."""
        ...


@dataclass(frozen=True)
class SipPlan:
    """One SIP test dial. ``dial`` is what the INVITE goes to (no secrets when ``ivr``)."""

    dial: DialTarget | str
    shown: str
    host: str
    port: int | None
    transport: Transport
    ivr: tuple[IvrStep, ...] = ()
    endpoint: EndpointConfig | None = None
    duration_s: float = 10.0
    timeout_s: float = 30.0
    tls: TlsSettings = field(default_factory=TlsSettings)
    capture: Path | None = None
    extra_sip_ports: tuple[int, ...] = ()
    bye_timeout_s: float = 32.0
    video: VideoSettings | None = None
    """Offer video with these settings (``None``: audio only)."""
    snapshot: Path | None = None


@dataclass
class SipOutcome:
    transport: Transport
    media: MediaFigures | None
    error: str | None = None
    capture: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    video: VideoFigures | None = None


def local_address(address: str, port: int) -> str:
    """The local address the kernel would use towards ``address`` (no packet is sent)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((address, port))
        except OSError:
            return "127.0.0.1" if family == socket.AF_INET else "::1"
        return str(probe.getsockname()[0])


def _free_rtp_range(host: str) -> int:
    """A base port with RTP_PORT_COUNT free UDP ports above it (even, so RTP/RTCP pair), and
    two more for video."""
    from gateway.peers.process import free_port_range

    low, _ = free_port_range(RTP_PORT_COUNT + 2, host, 30000, 40000)
    return low


async def _transport_stage(board: StageBoard, plan: SipPlan, address: str) -> Transport | None:
    """Probe TCP/TLS (AUTO tries TLS, then TCP, then takes UDP); ``None`` when it failed."""
    candidates = (
        [Transport.TLS, Transport.TCP, Transport.UDP]
        if plan.transport is Transport.AUTO else [plan.transport]
    )
    last_error = ""
    for transport in candidates:
        if transport is Transport.UDP:
            detail = "UDP: no connection to set up"
            if plan.transport is Transport.AUTO:
                detail = f"AUTO chose UDP ({last_error})"
            board.set("connect", "skipped", detail=detail)
            return transport
        port = plan.port or transport.default_port
        board.say(f"connecting to {address}:{port} over {transport.value.upper()}")
        auto = plan.transport is Transport.AUTO
        result = await connect_probe(address, port, transport is Transport.TLS, plan.host,
                                     timeout=1.0 if auto else min(plan.timeout_s, 10.0))
        if result.error is None:
            parts = [f"TCP {result.tcp_ms:.1f} ms"]
            if last_error:
                parts.append(f"AUTO, after {last_error}")
            if result.tls_ms is not None:
                parts.append(f"TLS handshake {result.tls_ms:.1f} ms ({result.tls_version})")
            board.set("connect", "ok", result.total_ms, f"{transport.value.upper()}: "
                      + ", ".join(parts))
            return transport
        last_error = result.error
    board.set("connect", "failed", detail=last_error)
    return None


async def run_sip(
    plan: SipPlan,
    board: StageBoard,
    observer: MeetingObserver | None,
    in_call: InCallHook | None = None,
) -> SipOutcome:
    """Run the whole SIP test dial; never raises for network or peer trouble. ``in_call`` runs
    once the call is up and the IVR is done (the runner reads the CRC ports there)."""
    first_hop = plan.endpoint.registrar if plan.endpoint and plan.endpoint.registrar else None
    host, port = plan.host, plan.port
    if first_hop is not None:
        from signaling.sip.address import parse_host_port

        hop = parse_host_port(first_hop)
        host, port = hop.host, hop.port
    board.say(f"resolving {host}")
    resolved = await resolve(host, port or 5060)
    if resolved.address is None:
        board.set("dns", "failed", resolved.ms, resolved.error)
        board.skip_pending("not reached")
        return SipOutcome(plan.transport, None, resolved.error)
    what = "IP literal, no query" if resolved.literal else f"{host} -> {resolved.address}"
    board.set("dns", "ok", resolved.ms, what)
    transport = await _transport_stage(board, replace(plan, host=host, port=port),
                                       resolved.address)
    if transport is None:
        board.skip_pending("not reached")
        return SipOutcome(plan.transport, None, board["connect"].detail)
    return await _call(plan, board, observer, resolved.address, port, transport, in_call)


async def _call(
    plan: SipPlan,
    board: StageBoard,
    observer: MeetingObserver | None,
    address: str,
    port: int | None,
    transport: Transport,
    in_call: InCallHook | None,
) -> SipOutcome:
    bind = local_address(address, port or transport.default_port)
    rtp_low = _free_rtp_range(bind if ":" not in bind else "127.0.0.1")
    config = EngineConfig(
        bind_address=bind if ":" not in bind else "127.0.0.1",
        bind_address6=bind if ":" in bind else None,
        tls=plan.tls,
        rtp_port=rtp_low,
        rtp_port_range=RTP_PORT_COUNT,
        register_timeout_s=min(plan.timeout_s, 32.0),
        bye_timeout_s=plan.bye_timeout_s,
        pjsip_log_level=1,
    )
    outcome = SipOutcome(transport, None)
    capture: CallCapture | None = None
    if plan.capture is not None:
        sip_ports = {port or transport.default_port, *plan.extra_sip_ports}
        bpf = capture_filter(sorted(sip_ports), rtp_low, rtp_low + RTP_PORT_COUNT + 1)
        interface = route_interface(address)
        board.say(f"starting tshark on {interface} ({bpf})")
        capture = CallCapture(plan.capture, interface, bpf,
                              rtp_low + RTP_PORT_COUNT - 1 if interface == "lo" else None)
        capture.start()
    try:
        async with SipEngine(config) as engine:
            await _in_engine(engine, plan, board, observer, transport, outcome, in_call)
    except (SipError, TimeoutError) as exc:
        outcome.error = str(exc) or "no answer in time"
        board.skip_pending("not reached")
    finally:
        if capture is not None:
            capture.stop()
    if capture is not None and plan.capture is not None:
        board.say("analysing the capture")
        ports = sorted({port or transport.default_port, *plan.extra_sip_ports})
        analysis = await asyncio.to_thread(analyse_call_capture, plan.capture, ports)
        secret_part = None
        if isinstance(plan.dial, DialTarget) and (plan.dial.passcode or plan.dial.host_key):
            secret_part = plan.dial.user_part()
        masked = masked_user_part(plan.dial) if isinstance(plan.dial, DialTarget) else ""
        secret_digits = any(step.field != "meeting_id" for step in plan.ivr)
        outcome.capture = {"interface": capture.interface, "filter": capture.bpf,
                           **redact_capture(analysis, secret_part, masked, secret_digits)}
        if outcome.media is not None:
            outcome.media = with_capture_jitter(outcome.media, analysis["rtp_streams"], rtp_low,
                                                rtp_low + RTP_PORT_COUNT - 1)
    return outcome


async def _register(
    engine: SipEngine, plan: SipPlan, board: StageBoard, transport: Transport
) -> str | None:
    """REGISTER when an account is given; the endpoint name to call from (``None``: direct)."""
    if plan.endpoint is None:
        board.set("register", "skipped", detail="no account given: calling directly")
        return None
    endpoint = replace(plan.endpoint, transport=transport)
    board.say(f"registering {endpoint.user} at {endpoint.registrar}")
    status = await engine.register(endpoint, timeout=plan.timeout_s)
    if not status.ok:
        board.set("register", "failed", status.duration_ms,
                  status.explanation or f"{status.code} {status.reason}")
        raise SipError(status.explanation or "registration failed")
    board.set("register", "ok", status.duration_ms,
              f"{status.code} {status.reason} over {status.transport.value.upper()}, expires "
              f"{status.expires_s} s (time includes the 401 challenge round when challenged)")
    return endpoint.name


def _progress_listener(board: StageBoard, call: list[str], started: float) -> Any:
    def listen(event: EngineEvent) -> None:
        if not isinstance(event, CallStateChanged) or not call or event.call_id != call[0]:
            return
        ms = (event.at - started) * 1000
        if event.phase is CallPhase.TRYING and board["invite_100"].status == "pending":
            board.set("invite_100", "ok", ms, "100 Trying")
        elif event.phase in (CallPhase.RINGING, CallPhase.EARLY_MEDIA):
            if board["invite_180"].status == "pending":
                board.set("invite_180", "ok", ms, f"{event.code} {event.reason}".strip())
        elif event.phase is CallPhase.CONNECTED:
            board.set("invite_200", "ok", ms, f"{event.code} {event.reason}".strip())

    return listen


async def _in_engine(
    engine: SipEngine,
    plan: SipPlan,
    board: StageBoard,
    observer: MeetingObserver | None,
    transport: Transport,
    outcome: SipOutcome,
    in_call: InCallHook | None,
) -> None:
    name = await _register(engine, plan, board, transport)
    call_box: list[str] = []
    leg = None
    if plan.video is not None:
        host = engine.config.bind_address6 or engine.config.bind_address
        video_port = engine.config.rtp_port + RTP_PORT_COUNT if engine.config.rtp_port else 0
        leg = video_leg(engine, plan.video, host, video_port)
        engine.add_listener(leg.on_event)
    else:
        board.set("video", "skipped", detail="video not offered (--no-video)")
    options = CallOptions(timeout_s=plan.timeout_s, transport=None if name else transport,
                          video=leg.settings if leg is not None else None)
    board.say(f"dialling {plan.shown}")
    started = time.monotonic()
    engine.add_listener(_progress_listener(board, call_box, started))
    # the call's life is the call controller's, as in the daemon and crcgw dial
    control = CallControl()
    policy = CallPolicy(answer_timeout_s=plan.timeout_s + 5,
                        end_timeout_s=plan.bye_timeout_s + 5)
    answered = asyncio.Event()
    try:
        controlled = await control.place(
            SipLeg(engine), plan.dial, endpoint=name, options=options, policy=policy,
            listener=lambda e: answered.set() if e.kind is EventKind.ANSWERED else None,
        )
        call_box.append(controlled.call_id)
        if leg is not None:
            leg.attach(controlled.call_id)
        await _in_call(engine, control, controlled, answered,
                       _CallPlan(plan, board, observer, outcome, in_call, leg))
    finally:
        if leg is not None:
            leg.stop()


@dataclass
class _CallPlan:
    plan: SipPlan
    board: StageBoard
    observer: MeetingObserver | None
    outcome: SipOutcome
    in_call: InCallHook | None
    leg: VideoLeg | None


async def _in_call(
    engine: SipEngine,
    control: CallControl,
    controlled: ControlledCall,
    answered: asyncio.Event,
    run: _CallPlan,
) -> None:
    plan, board, outcome, leg = run.plan, run.board, run.outcome, run.leg
    call = controlled.call_id
    answer = asyncio.ensure_future(answered.wait())
    either: list[asyncio.Future[Any]] = [answer, controlled.done]
    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    answer.cancel()
    end = engine.call_phases[call]
    stats = await engine.call_stats(call)
    _setup_stages(board, stats, end)
    if end.phase is not CallPhase.CONNECTED or controlled.done.done():
        finished = controlled.done.result() if controlled.done.done() else None
        why = finished.cause.reason if finished and finished.answered else None
        outcome.error = why or end.explanation or (
            f"the call did not connect ({end.code} {end.reason})")
        board.skip_pending("the call did not connect")
        return
    connected_at = end.at
    until = connected_at + plan.duration_s
    watcher = asyncio.ensure_future(watch_video(leg, board, until)) if leg is not None else None
    await _ivr(engine, call, plan, board, run.observer, connected_at)
    if run.in_call is not None:
        await run.in_call()
    hung_up_by_far_end = await _stay(engine, controlled, board, until)
    if watcher is not None:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    if leg is not None:
        outcome.video, notes = video_result(leg, board, plan.snapshot)
        outcome.notes += notes
    before = await engine.call_stats(call)
    if hung_up_by_far_end is not None:
        cause = hung_up_by_far_end.cause
        board.set("bye", "failed", detail=f"the far end hung up first: {cause.text()}"
                  if cause.origin is CauseOrigin.RECEIVED else f"the call ended: {cause.text()}")
        outcome.notes.append("the far end ended the call before the test duration")
        if not hung_up_by_far_end.connected:
            outcome.error = cause.reason
    else:
        board.say("hanging up")
        control.hangup(controlled)
        await _bye_stage(engine, call, board)
        with contextlib.suppress(TimeoutError):
            await controlled.wait(plan.bye_timeout_s + 10)
    after = await engine.call_stats(call)
    final = after if after.rx_packets >= before.rx_packets else before
    outcome.media = _media(final, board)
    events = len(engine.dtmf_received(call))
    if events:
        outcome.notes.append(
            f"the far end sent {events} RFC 4733 DTMF digits: pjmedia's jitter counts those "
            "packets too (use --capture for the audio-only jitter)"
            if plan.capture is None else
            f"the far end sent {events} RFC 4733 DTMF digits; jitter taken from the capture "
            "(audio only)"
        )


async def _bye_stage(engine: SipEngine, call: str, board: StageBoard) -> None:
    """The BYE's own outcome: its final response (received) or no answer in time (local)."""
    try:
        bye = await engine.wait_bye(call)
    except TimeoutError:
        board.set("bye", "failed", detail="no BYE left this side (the engine did not send it)")
        return
    if bye.code is None:
        board.set("bye", "failed", bye.ms, f"{bye.reason} ({bye.origin.value})")
        return
    said = f"{bye.code} {bye.reason}".strip() + f" ({bye.origin.value})"
    board.set("bye", "ok" if 200 <= bye.code < 300 else "failed", bye.ms, said)


def _setup_stages(board: StageBoard, stats: CallStats, end: CallStateChanged) -> None:
    if stats.invite_to_provisional_ms is not None:
        board.set("invite_100", "ok", stats.invite_to_provisional_ms,
                  board["invite_100"].detail or "first provisional response")
    else:
        board.set("invite_100", "skipped", detail="the far end sent no provisional response")
    if stats.invite_to_ringing_ms is not None:
        board.set("invite_180", "ok", stats.invite_to_ringing_ms)
    else:
        board.set("invite_180", "skipped", detail="the far end answered without ringing")
    if end.phase is CallPhase.CONNECTED:
        board.set("invite_200", "ok", stats.invite_to_200_ms,
                  f"{end.code} {end.reason}".strip() or "200 OK")
    else:
        board.set("invite_200", "failed", stats.invite_to_200_ms,
                  end.explanation or f"{end.code} {end.reason}".strip())


async def _ivr(
    engine: SipEngine,
    call: str,
    plan: SipPlan,
    board: StageBoard,
    observer: MeetingObserver | None,
    connected_at: float,
) -> None:
    """Send the IVR entries when the meeting asks (or on the usual timing when it cannot be
    seen asking), then wait for the meeting's acknowledgement where it can be observed."""
    if not plan.ivr:
        if observer is None:
            board.set("dtmf", "skipped", detail="not needed (nothing to enter by IVR)")
            return
        joined, detail = await observer.wait_joined(10)
        board.set("dtmf", "skipped" if joined else "failed",
                  detail=f"not needed: {detail}" if joined else detail)
        return
    first_sent: float | None = None
    for step in plan.ivr:
        if observer is not None:
            board.say(f"waiting for the meeting to ask for the {step.field.replace('_', ' ')}")
            asked = await observer.wait_prompt(10)
            if asked is None:
                board.set("dtmf", "failed", detail="the meeting did not ask for an entry")
                return
        else:
            await asyncio.sleep(max(0.0, connected_at + step.at_s - time.monotonic()))
        board.say(f"sending the {step.field.replace('_', ' ')} by DTMF")
        first_sent = first_sent or time.monotonic()
        await engine.send_dtmf(call, step.digits, DtmfMethod.RFC4733)
    assert first_sent is not None
    entries = ", ".join(step.field for step in plan.ivr)
    if observer is None:
        # pjsua queues the digits: wait until the last one is out (and had time to arrive), so
        # that "sent" is true and neither the in-call checks nor the BYE come before it
        out_at = connected_at + hold_s(0.0, dtmf_plan(ivr=plan.ivr))
        await asyncio.sleep(max(0.0, out_at - time.monotonic()))
        board.set("dtmf", "sent", detail=f"sent {entries} (RFC 4733); no acknowledgement visible")
        return
    board.say("waiting for the meeting to accept the digits")
    joined, detail = await observer.wait_joined(15)
    ms = (time.monotonic() - first_sent) * 1000
    board.set("dtmf", "ok" if joined else "failed", ms if joined else None,
              f"{entries} accepted: {detail}" if joined else detail)


async def _stay(
    engine: SipEngine, call: ControlledCall, board: StageBoard, until: float
) -> Finished | None:
    """Stay in the call, updating the media stage (the engine is in this process: asking it
    for figures is no IPC); how the call ended if it ended first (the far end left, no media)."""
    while True:
        stats = await engine.call_stats(call.call_id)
        left = until - time.monotonic()
        board.set("media", "pending", detail=f"rx {stats.rx_packets} / tx {stats.tx_packets} "
                  f"packets, {stats.codec or '?'}; {max(0.0, left):.0f} s left")
        if left <= 0:
            return None
        with contextlib.suppress(TimeoutError):
            return await call.wait(min(0.5, left))


def _media(stats: CallStats, board: StageBoard) -> MediaFigures:
    invite_100 = board["invite_100"].ms
    connect = board["connect"].ms if board["connect"].status == "ok" else None
    rtt = invite_100 if invite_100 is not None else connect
    media = media_figures(
        stats.codec, stats.rx_packets, stats.tx_packets, stats.rx_lost,
        stats.rx_jitter_ms, stats.rx_jitter_max_ms, (rtt or 0.0) / 2,
    )
    both = stats.rx_packets > 0 and stats.tx_packets > 0
    board.set("media", "ok" if both else "failed", None,
              f"{stats.codec or 'no codec'}: rx {stats.rx_packets}, tx {stats.tx_packets} packets")
    return media
