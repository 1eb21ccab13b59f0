"""``crcgw test-dial`` end to end: resolve the target, check a CRC port, dial, judge.

:func:`run_test_dial` is what the command line calls; it starts the embedded meeting when asked
(from the calling thread, which must be the main thread), runs the SIP or H.323 test dial on its
own event loop and returns a :class:`~gateway.testdial.report.TestDialReport`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api_client import ApiError, AsyncZoomClient, ZoomCredentials
from api_client.models.crc import CrcPortUsage
from api_client.realzoom import is_zoom_base
from gateway.callcontrol import planned_dial
from gateway.testdial.embedded import EmbeddedMeeting, StandinObserver, embedded_meeting
from gateway.testdial.h323_run import run_h323
from gateway.testdial.report import TestDialReport, build_report
from gateway.testdial.sip_run import MeetingObserver, SipPlan, run_sip
from gateway.testdial.stages import H323_STAGES, SIP_STAGES, Progress, StageBoard
from gateway.testdial.target import (
    TargetError,
    TargetRequest,
    api_dial_info,
    parse_meeting,
)
from gateway.testdial.video_run import DEFAULT_VIDEO
from media.quality import DEFAULT_THRESHOLDS, Threshold
from signaling.dialstring import DialTarget
from signaling.dialstring.ivr import DEFAULT_FIRST_DELAY_S, DEFAULT_GAP_S, IvrStep
from signaling.h323.dial import masked_user_part
from signaling.sip.address import parse_host_port
from signaling.sip.config import EndpointConfig, TlsSettings
from signaling.sip.grammar import uri_host_port
from signaling.sip.sdpvideo import VideoSettings
from signaling.sip.types import Transport

__all__ = ["TestDialOptions", "run_test_dial"]


@dataclass(frozen=True)
class TestDialOptions:
    """Everything the command line gives a test dial (secrets kept out of ``repr``)."""

    target: TargetRequest
    transport: Transport = Transport.UDP
    registrar: str | None = None
    user: str | None = None
    password: str = field(default="", repr=False)
    duration_s: float = 10.0
    timeout_s: float = 30.0
    bye_timeout_s: float = 32.0
    capture: Path | None = None
    thresholds: Mapping[str, Threshold] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    ivr: bool = False
    ivr_first_s: float = DEFAULT_FIRST_DELAY_S
    ivr_gap_s: float = DEFAULT_GAP_S
    embedded: bool = False
    tls: TlsSettings = field(default_factory=TlsSettings)
    zoom: ZoomCredentials | None = None
    video: VideoSettings | None = DEFAULT_VIDEO
    """Offer video (SIP) with these settings; ``None``: audio only."""
    snapshot: Path | None = None


@dataclass
class _Resolved:
    target: DialTarget | str
    ports: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


def _shown(target: DialTarget | str) -> str:
    """The target as dialled, passcode and host key shown as ``***``."""
    if isinstance(target, str):
        return target
    masked = masked_user_part(target)
    if target.protocol == "h323":
        return f"{target.host_port()}##{masked}"
    return f"{target.scheme}:{masked}@{target.host_port()}{target.params}"


def _port_figures(ports: CrcPortUsage) -> dict[str, Any]:
    return {"allocated": ports.ports_allocated, "in_use": ports.ports_in_use,
            "available": ports.ports_available}


async def _crc_and_dial_info(
    client: AsyncZoomClient, request: TargetRequest, board: StageBoard, target: DialTarget | str
) -> _Resolved:
    resolved = _Resolved(target)
    if is_zoom_base(client.credentials.base_url):
        board.set("crc_port", "skipped", detail="Zoom's API has no live port figure (only "
                  "hourly metrics: crcgw crc metrics)")
    else:
        board.say("asking the API for the CRC ports")
        try:
            ports = await client.crc.ports()
        except ApiError as exc:
            board.set("crc_port", "skipped", detail=f"not checked: {exc}")
        else:
            free = ports.ports_available or 0
            board.set("crc_port", "ok" if free > 0 else "failed",
                      detail=f"{ports.ports_in_use}/{ports.ports_allocated} in use, {free} free")
            resolved.ports = {"before": _port_figures(ports)}
    bare = request.meeting.replace(" ", "").replace("-", "")
    if not (isinstance(target, DialTarget) and bare.isdigit()):
        return resolved  # a full dial string or URI is dialled as given
    board.say(f"asking the API for meeting {target.meeting_id}'s dial-in information")
    info = await api_dial_info(client, target.meeting_id, request.passcode)
    resolved.notes += [f"API: {problem}" for problem in info.problems]
    if target.protocol == "h323":
        if info.passcode and request.passcode is None:
            resolved.target = target._replace(passcode=info.passcode)
        return resolved
    if info.sip_targets:
        api_target = info.sip_targets[0]
        resolved.target = api_target._replace(
            passcode=request.passcode or api_target.passcode,
            layout=target.layout,
            host_key=target.host_key,
            host=target.host if request.host else api_target.host,
            port=target.port if request.host else api_target.port,
        )
    elif info.opaque_sip_uri:
        resolved.target = info.opaque_sip_uri
    resolved.notes.append(f"dial-in information from {info.source}")
    return resolved


def _ivr_plan(
    target: DialTarget | str, options: TestDialOptions
) -> tuple[DialTarget | str, tuple[IvrStep, ...]]:
    if not options.ivr:
        return target, ()
    if not isinstance(target, DialTarget):
        raise TargetError("--ivr needs a Zoom dial string or meeting ID, not an opaque SIP URI")
    plan = planned_dial(target, ivr=True, first_delay_s=options.ivr_first_s,
                        gap_s=options.ivr_gap_s)
    return plan.dial, plan.steps


def _endpoint(options: TestDialOptions) -> EndpointConfig | None:
    if options.registrar is None and options.user is None:
        return None
    if options.registrar is None or options.user is None:
        raise TargetError("--registrar and --user go together")
    try:
        return EndpointConfig(name=options.user, user=options.user, password=options.password,
                              registrar=options.registrar, transport=options.transport)
    except ValueError as exc:
        raise TargetError(str(exc)) from None


async def _run(
    options: TestDialOptions, progress: Progress | None, meeting: EmbeddedMeeting | None
) -> TestDialReport:
    request = options.target
    if meeting is not None and request.host is None:
        request = TargetRequest(request.meeting, request.passcode, request.layout,
                                request.host_key, request.protocol, meeting.standin.address)
    target = parse_meeting(request)
    protocol = target.protocol if isinstance(target, DialTarget) else "sip"
    board = StageBoard(H323_STAGES if protocol == "h323" else SIP_STAGES, progress)
    credentials = meeting.credentials if meeting is not None else options.zoom
    client = AsyncZoomClient(credentials) if credentials is not None else None
    resolved = _Resolved(target)
    try:
        if client is not None:
            resolved = await _crc_and_dial_info(client, request, board, target)
        else:
            board.set("crc_port", "skipped", detail="no API credentials: not checked")
        if protocol == "h323":
            assert isinstance(resolved.target, DialTarget)
            outcome = await run_h323(resolved.target, board, options.duration_s,
                                     options.timeout_s, options.capture)
            report = build_report(_shown(resolved.target), "h323", "tcp", board.stages,
                                  outcome.media,
                                  options.thresholds, error=outcome.error,
                                  capture=outcome.capture,
                                  notes=[*resolved.notes, *outcome.notes],
                                  video=outcome.video)
        else:
            dial, steps = _ivr_plan(resolved.target, options)
            report = await _sip(options, board, meeting, resolved, dial, steps, client)
        if client is not None and resolved.ports is not None:
            resolved.ports["after"] = _port_figures(await client.crc.ports())
            report.ports = resolved.ports
        return report
    finally:
        if client is not None:
            await client.aclose()


async def _sip(
    options: TestDialOptions,
    board: StageBoard,
    meeting: EmbeddedMeeting | None,
    resolved: _Resolved,
    dial: DialTarget | str,
    steps: tuple[IvrStep, ...],
    client: AsyncZoomClient | None,
) -> TestDialReport:
    async def in_call() -> None:
        """The ports while the call is up: the CRC reports a join a moment after the answer,
        so read until the figure moves (at most 2 s or half the duration)."""
        if client is None or resolved.ports is None:
            return
        before = resolved.ports["before"]["in_use"]
        loop = asyncio.get_running_loop()
        until = loop.time() + min(2.0, options.duration_s / 2)
        while True:
            during = _port_figures(await client.crc.ports())
            if during["in_use"] != before or loop.time() >= until:
                resolved.ports["during"] = during
                return
            await asyncio.sleep(0.2)

    if isinstance(dial, DialTarget):
        host, port = dial.host or "zoomcrc.com", dial.port
    else:
        hop = parse_host_port(uri_host_port(dial))
        host, port = hop.host, hop.port
    endpoint = _endpoint(options)
    extra: tuple[int, ...] = ()
    if endpoint is not None and endpoint.registrar_address is not None:
        extra = (endpoint.registrar_address.port or options.transport.default_port,)
    plan = SipPlan(
        dial=dial, shown=_shown(dial), host=host, port=port,
        transport=options.transport, ivr=steps, endpoint=endpoint,
        duration_s=options.duration_s, timeout_s=options.timeout_s, tls=options.tls,
        capture=options.capture, extra_sip_ports=extra, bye_timeout_s=options.bye_timeout_s,
        video=options.video, snapshot=options.snapshot,
    )
    observer: MeetingObserver | None = None
    if meeting is not None:
        observer = StandinObserver(meeting.standin)
    outcome = await run_sip(plan, board, observer, in_call)
    return build_report(plan.shown, "sip", outcome.transport.value, board.stages, outcome.media,
                        options.thresholds, error=outcome.error, capture=outcome.capture,
                        notes=[*resolved.notes, *outcome.notes], video=outcome.video)


@contextlib.contextmanager
def _maybe_embedded(on: bool) -> Iterator[EmbeddedMeeting | None]:
    if not on:
        yield None
        return
    with embedded_meeting() as meeting:
        yield meeting


def run_test_dial(options: TestDialOptions, progress: Progress | None = None) -> TestDialReport:
    """Run one test dial (blocking). Raises :class:`TargetError` for bad input and
    :class:`~api_client.ApiError` when the API refuses; everything on the call's way is in the
    report."""
    with _maybe_embedded(options.embedded) as meeting:
        return asyncio.run(_run(options, progress, meeting))
