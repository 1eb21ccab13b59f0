"""``crcgw test-dial``: dial a meeting like a room would, time every stage, judge the call.

A live view shows the stages while the call runs; a table of stages, media figures and verdicts
follows (``--json`` for scripts). Exit code 0 only when every verdict passes, 1 when one fails,
2 for bad input.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from gateway.cli.output import console, emit_json, fail, print_table

__all__ = ["parse_duration", "register"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")
_STATUS_STYLE = {"ok": "green", "sent": "green", "failed": "bold red", "skipped": "dim",
                 "pending": "yellow", "PASS": "green", "FAIL": "bold red", "MISSING": "bold red"}


def parse_duration(text: str) -> float:
    """``10s``, ``1.5s``, ``500ms``, ``2m`` or plain seconds; ``ValueError`` otherwise."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"expected a duration like 10s, 500ms or 2m (got {text!r})")
    value = float(match.group(1))
    unit = match.group(2) or "s"
    return value / 1000 if unit == "ms" else value * 60 if unit == "m" else value


def _styled(status: str) -> Text:
    return Text(status, style=_STATUS_STYLE.get(status, ""))


def _stage_table(board: object) -> Table:
    from gateway.testdial.report import stage_rows
    from gateway.testdial.stages import StageBoard

    assert isinstance(board, StageBoard)
    table = Table(title="test dial", header_style="bold cyan", title_style="bold")
    for column in ("stage", "status", "time", "detail"):
        table.add_column(column, overflow="fold")
    for label, status, time, detail in stage_rows(board.stages):
        table.add_row(label, _styled(status), time, detail)
    return table


def _show(report: object) -> None:
    from gateway.testdial.report import TestDialReport, stage_rows, verdict_rows

    assert isinstance(report, TestDialReport)
    protocol = "H.323" if report.protocol == "h323" else report.protocol.upper()
    print_table(f"test dial {report.target} ({protocol}/{report.transport.upper()})",
                ("stage", "status", "time", "detail"),
                stage_rows(report.stages))
    if report.media is not None:
        m = report.media.as_dict()
        print_table("media (receive side, RFC 3550 jitter)", ("figure", "value"), [
            ("codec", m["codec"] or "-"),
            ("packets received / sent", f"{m['rx_packets']} / {m['tx_packets']}"),
            ("lost", f"{m['lost']} ({m['loss_pct'] if m['loss_pct'] is not None else '-'} %)"),
            ("jitter mean / max", f"{m['jitter_ms']} / {m['max_jitter_ms']} ms"),
            ("one-way delay (estimate)", f"{m['network_delay_ms']} ms"),
            ("MOS (ITU-T G.107)", m["mos"] if m["mos"] is not None else "-"),
        ])
    if report.video is not None:
        v = report.video
        print_table("video (receive side, decoded)", ("figure", "value"), [
            ("codec / direction", f"{v.codec} {v.profile} / {v.direction}".replace("  ", " ")),
            ("picture", f"{v.width}x{v.height} at {v.fps:g} fps, {v.bitrate_kbps:g} kbit/s"),
            ("frames decoded / sent", f"{v.decoded_frames} / {v.frames_sent}"),
            ("packets / lost", f"{v.packets} / {v.lost}"),
            ("first picture", _ms_text(v.first_frame_ms)),
            ("freezes (longest gap)", f"{v.freezes} ({v.max_gap_ms:g} ms)"),
            ("keyframe request round trip", _ms_text(v.keyframe_rtt_ms)),
            ("snapshot", v.snapshot or "-"),
        ])
    if report.capture is not None:
        streams = report.capture.get("rtp_streams", [])
        print_table(f"capture {report.capture.get('file')}: RTP streams",
                    ("ssrc", "from", "to", "codec", "packets", "lost", "jitter ms", "MOS"),
                    [(s["ssrc"], s["src"], s["dst"], s["codec"], s["packets"], s["lost"],
                      s["jitter_ms"], s["mos"]) for s in streams])
    table = Table(title="verdicts", header_style="bold cyan", title_style="bold")
    for column in ("figure", "value", "limit", "verdict"):
        table.add_column(column)
    for metric, value, limit, verdict in verdict_rows(report.verdicts):
        table.add_row(metric, value, limit, _styled(verdict))
    console.print(table)
    if report.ports is not None:
        seen = [f"{p['in_use']}/{p['allocated']} {when}" for when in ("before", "during", "after")
                if (p := report.ports.get(when))]
        console.print(f"CRC ports in use: {', '.join(seen)}", highlight=False)
    for note in report.notes:
        console.print(f"note: {note}", highlight=False, markup=False)
    if report.error:
        console.print(f"[red]{report.error}[/red]", highlight=False)
    verdict = "[bold green]PASS[/]" if report.ok else "[bold red]FAIL[/]"
    console.print(f"result: {verdict}")


def _ms_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def test_dial(
    meeting: Annotated[str, typer.Argument(
        help="Meeting ID, Zoom dial string (MID.PASS@host, IP##MID#PASS) or SIP URI.")],
    passcode: Annotated[str | None, typer.Option(
        "--passcode", help="Numeric room passcode (never printed).")] = None,
    layout: Annotated[str | None, typer.Option("--layout", help="Layout code.")] = None,
    host_key: Annotated[str | None, typer.Option(
        "--host-key", help="Host key (never printed).")] = None,
    protocol: Annotated[str | None, typer.Option(
        "--protocol", help="sip or h323 (default: from the form of MEETING, else sip).")] = None,
    host: Annotated[str | None, typer.Option(
        "--host", help="Dial this HOST[:PORT] instead of the dial string's or the API's.")] = None,
    transport: Annotated[str, typer.Option(
        "--transport", help="udp, tcp, tls or auto (TLS, TCP, UDP in turn).")] = "udp",
    registrar: Annotated[str | None, typer.Option(
        "--registrar", help="Register at HOST[:PORT] first and call through it.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="SIP user to register.")] = None,
    password_env: Annotated[str | None, typer.Option(
        "--password-env", help="Environment variable holding the SIP password.")] = None,
    duration: Annotated[str, typer.Option(
        "--duration", help="How long to stay in the call (10s, 500ms, 2m).")] = "10s",
    timeout: Annotated[str, typer.Option(
        "--timeout", help="How long to wait for the answer.")] = "30s",
    bye_timeout: Annotated[str, typer.Option(
        "--bye-timeout", help="How long the BYE may go unanswered (RFC 3261 Timer F: 32s).")
    ] = "32s",
    capture: Annotated[Path | None, typer.Option(
        "--capture", help="Record the call with tshark to FILE.pcap(ng) and analyse it.",
        dir_okay=False)] = None,
    thresholds: Annotated[Path | None, typer.Option(
        "--thresholds", help="YAML/JSON file overriding the verdict limits.",
        dir_okay=False)] = None,
    ivr: Annotated[bool, typer.Option(
        "--ivr", help="Leave passcode and host key out of the URI and enter them by DTMF when "
        "the meeting asks.")] = False,
    ivr_first: Annotated[float, typer.Option(
        "--ivr-first", help="Seconds after answer for the first IVR entry when the meeting's "
        "prompt cannot be observed.")] = 3.0,
    ivr_gap: Annotated[float, typer.Option(
        "--ivr-gap", help="Seconds between IVR entries (same case).")] = 2.0,
    embedded: Annotated[bool, typer.Option(
        "--embedded", help="Dial a local stand-in meeting (API emulator + stand-in connector): "
        "no account needed.")] = False,
    ca: Annotated[str | None, typer.Option("--ca", help="CA file for TLS.")] = None,
    insecure: Annotated[bool, typer.Option(
        "--insecure", help="Accept any TLS certificate.")] = False,
    video: Annotated[bool, typer.Option(
        "--video/--no-video", help="Offer video (SIP: H.264 and VP8, a test pattern) and judge "
        "the far end's picture.")] = True,
    snapshot: Annotated[Path | None, typer.Option(
        "--snapshot", help="Save a decoded frame of the far end's video to FILE.png.",
        dir_okay=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Dial a meeting like a room system, time each stage, measure the media, judge the call.

    Exit code 0 only when every verdict passes.
    """
    from api_client import ApiError
    from gateway.cli.commands._api_common import zoom_credentials
    from gateway.standin.process import StandinError
    from gateway.testdial import TargetError, TargetRequest, TestDialOptions, run_test_dial
    from gateway.testdial.capture import CaptureError
    from gateway.testdial.report import report_json
    from media.quality import DEFAULT_THRESHOLDS, load_thresholds
    from signaling.sip.config import TlsSettings
    from signaling.sip.errors import SipError
    from signaling.sip.types import Transport

    try:
        duration_s, timeout_s = parse_duration(duration), parse_duration(timeout)
    except ValueError as exc:
        fail(f"--duration/--timeout: {exc}")
    try:
        bye_timeout_s = parse_duration(bye_timeout)
    except ValueError as exc:
        fail(f"--bye-timeout: {exc}")
    if not 0 < duration_s <= 3600 or not 0 < timeout_s <= 300 or not 0 < bye_timeout_s <= 300:
        fail("--duration must be 0-3600 s, --timeout and --bye-timeout 0-300 s")
    if protocol not in (None, "sip", "h323"):
        fail(f"--protocol must be sip or h323 (got {protocol!r})")
    try:
        chosen = Transport(transport.lower())
    except ValueError:
        fail(f"--transport must be udp, tcp, tls or auto (got {transport!r})")
    limits = dict(DEFAULT_THRESHOLDS)
    if thresholds is not None:
        try:
            limits = load_thresholds(thresholds.read_text())
        except OSError as exc:
            fail(f"--thresholds: cannot read {thresholds}: {exc.strerror}")
        except ValueError as exc:
            fail(f"--thresholds: {exc}")
    password = ""
    if user is not None:
        if password_env is None or password_env not in os.environ:
            fail("--user needs --password-env naming a set environment variable")
        password = os.environ[password_env]
    if ca is not None and not os.path.isfile(ca):
        fail(f"--ca: no such file: {ca}")
    if capture is not None and capture.suffix not in (".pcap", ".pcapng"):
        fail("--capture: the file name must end in .pcap or .pcapng")
    if not (0 <= ivr_first <= 60 and 0 <= ivr_gap <= 60):
        fail("--ivr-first and --ivr-gap must be 0-60 s")
    if snapshot is not None and (snapshot.suffix.lower() != ".png" or not video):
        fail("--snapshot: the file name must end in .png, and video must be on")
    if embedded and (registrar or user):
        fail("--embedded dials the stand-in directly: leave out --registrar and --user")
    options = TestDialOptions(
        target=TargetRequest(meeting, passcode, layout, host_key, protocol, host),
        transport=chosen, registrar=registrar, user=user, password=password,
        duration_s=duration_s, timeout_s=timeout_s, capture=capture, thresholds=limits,
        bye_timeout_s=bye_timeout_s,
        ivr=ivr, ivr_first_s=ivr_first, ivr_gap_s=ivr_gap, embedded=embedded,
        tls=TlsSettings(verify=not insecure, ca_file=ca),
        zoom=None if embedded else zoom_credentials(os.environ, None),
        **({} if video else {"video": None}), snapshot=snapshot,
    )
    if logging.getLogger().getEffectiveLevel() >= logging.WARNING:
        logging.getLogger("signaling").setLevel(logging.CRITICAL)
    live_console = Console(stderr=True)
    show_live = not as_json and live_console.is_terminal
    try:
        if show_live:
            with Live(console=live_console, transient=True, refresh_per_second=8) as live:

                def progress(board: object) -> None:
                    from gateway.testdial.stages import StageBoard

                    assert isinstance(board, StageBoard)
                    live.update(Group(_stage_table(board), Text(board.activity, style="dim")))

                report = run_test_dial(options, progress)
        else:
            report = run_test_dial(options)
    except TargetError as exc:
        fail(str(exc))
    except ApiError as exc:
        fail(f"API: {exc}", 1)
    except (CaptureError, SipError, StandinError) as exc:
        fail(str(exc), 1)
    if as_json:
        emit_json(report_json(report))
        sys.stdout.flush()
    else:
        _show(report)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("test-dial")(test_dial)
