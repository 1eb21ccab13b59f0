"""``crcgw analyze FILE``: calls, ladders, RTP streams and their quality from a capture."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gateway.cli.output import console, fail, print_table

if TYPE_CHECKING:
    from gateway.analysis.report import AnalysisReport

__all__ = ["register"]


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _show(report: AnalysisReport, ladders: bool) -> None:
    from gateway.analysis.report import rtp_digits_by_call
    from signaling.ladder import render_ladder

    calls = report.calls
    digits = rtp_digits_by_call(report.streams)
    print_table(
        f"Calls ({len(calls)})",
        ("call", "from", "to", "set-up ms", "final", "msgs", "auth", "re-INV", "DTMF"),
        (
            (
                c.call_id if len(c.call_id) <= 28 else c.call_id[:27] + "\u2026",
                c.from_uri,
                c.to_uri,
                _fmt(c.setup_ms),
                c.final or "-",
                c.messages,
                c.auth_challenges,
                c.reinvites,
                (c.dtmf_info + " " + digits.get(c.call_id, "")).strip() or "-",
            )
            for c in calls
        ),
    )
    if ladders:
        for call in calls:
            console.print(render_ladder(call), markup=False, highlight=False, soft_wrap=True)
            console.print()
    print_table(
        f"RTP streams ({len(report.streams)}; jitter over audio packets, RFC 3550)",
        ("ssrc", "src", "dst", "codec", "pkts", "lost", "seq err/dup", "jitter ms mean/max",
         "max \u0394 ms", "MOS", "DTMF"),
        (
            (
                f"0x{s.ssrc:08x}", s.src, s.dst, f"{s.codec} ({s.payload_type})",
                s.stats.packets, f"{s.stats.lost} ({100 * s.stats.loss_fraction:.1f}%)",
                f"{s.stats.sequence_errors}/{s.stats.duplicates}",
                f"{s.stats.mean_jitter_ms:.2f}/{s.stats.max_jitter_ms:.2f}",
                f"{s.stats.max_delta_ms:.1f}", _fmt(s.mos, 2), s.dtmf or "-",
            )
            for s in report.streams
        ),
    )
    if report.other_dialogs:
        print_table(
            "Other SIP",
            ("call-id", "method", "messages", "final codes"),
            (
                (o.call_id, o.method, o.messages, " ".join(map(str, o.final_codes)) or "-")
                for o in report.other_dialogs
            ),
        )
    console.print(f"malformed packets: {report.malformed}", markup=False, highlight=False)
    for note in report.notes:
        console.print(f"note: {note}", markup=False, highlight=False)


def analyze(
    capture: Annotated[
        Path,
        typer.Argument(
            metavar="FILE", help="A capture: pcap, pcapng (or .gz), or any format tshark reads."
        ),
    ],
    sip_port: Annotated[
        list[int] | None,
        typer.Option("--sip-port", help="Also decode this UDP/TCP port as SIP (repeatable)."),
    ] = None,
    diagram: Annotated[
        Path | None,
        typer.Option(
            "--diagram",
            help="Write the ladder diagram of every call to this file (.svg or .png).",
        ),
    ] = None,
    heuristic: Annotated[
        bool,
        typer.Option(
            "--heuristic/--no-heuristic",
            help="Find RTP without a visible SDP by its header (tshark rtp.heuristic_rtp).",
        ),
    ] = True,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Let tshark dissect every packet, so that malformed packets of any protocol "
            "are counted (slower; by default only SIP, H.225 and RTP are judged).",
        ),
    ] = False,
    ladder: Annotated[
        bool, typer.Option("--ladder/--no-ladder", help="Print each call's text ladder.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Analyse a SIP or H.323 capture: calls and their ladders, set-up times, final responses,
    auth challenges, re-INVITEs, DTMF; RTP streams with loss, jitter, max delta and MOS."""
    from gateway.cli.quick_analyze import analyse_or_fail

    present(analyse_or_fail(capture, sip_port, diagram, heuristic, full), diagram, ladder,
            as_json)


def emit_report_json(value: dict[str, Any]) -> None:
    """The report as JSON: one line per call, stream or note, top-level keys indented.

    Python's indenting JSON encoder is written in Python (only the compact one is in C): on
    2,000 calls with their ladders it took longer than tshark's whole run."""
    out = ["{"]
    items = list(value.items())
    for k, (key, item) in enumerate(items):
        comma = "," if k + 1 < len(items) else ""
        name = json.dumps(key)
        if isinstance(item, list) and item:
            rows = ",\n".join("    " + json.dumps(x, default=str) for x in item)
            out.append(f"  {name}: [\n{rows}\n  ]{comma}")
        else:
            out.append(f"  {name}: {json.dumps(item, default=str)}{comma}")
    out.append("}")
    sys.stdout.write("\n".join(out) + "\n")


def present(report: AnalysisReport, diagram: Path | None, ladder: bool, as_json: bool) -> None:
    """Write the diagram, print the JSON or the tables."""
    if diagram is not None:
        from gateway.analysis.diagram import ladder_png, ladder_svg

        try:
            if diagram.suffix.lower() == ".png":
                diagram.write_bytes(ladder_png(report.calls))
            else:
                diagram.write_text(ladder_svg(report.calls), encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {diagram}: {exc.strerror or exc}")
    if as_json:
        from gateway.analysis.report import report_json

        emit_report_json(report_json(report))
    else:
        _show(report, ladder)


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
