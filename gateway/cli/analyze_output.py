"""What ``crcgw analyze`` prints: the JSON report, or rich tables and text ladders.

Kept apart from the typer command (:mod:`gateway.cli.commands.analyze`) so that ``--json``
imports neither typer nor rich: on a small capture their import alone is a sixth of tshark's
whole run, and it competes with tshark for the CPU while tshark runs.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from gateway.analysis.report import AnalysisReport, StreamReport
    from signaling.ladder import CallSummary

__all__ = ["emit_report_json", "prepare", "present"]

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _encode(value: object) -> str:
    """One JSON line, compact (orjson: on 2,000 calls the standard library's encoder, C as it
    is, took 40 ms, about a tenth of tshark's whole run; this takes a fifth of that)."""
    return orjson.dumps(value, default=str, option=_OPTIONS).decode()


# JSON lines of calls and streams encoded while tshark ran: by identity, with the object kept
_early_lines: dict[int, tuple[object, str]] = {}


def prepare(as_json: bool, diagram: Path | None, calls: Sequence[CallSummary],
            streams: Sequence[StreamReport]) -> None:
    """Import what :func:`present` will use and, for ``--json``, encode the calls (as if their
    streams carried no RFC 4733 digits) and the streams known so far: called while tshark runs,
    so that little is left to do once it is done."""
    import gateway.analysis.report

    _early_lines.clear()  # one analysis per process, but keep nothing of another one
    if as_json:
        for call in calls:
            _early_lines[id(call)] = (call, _encode(gateway.analysis.report.call_json(call, "")))
        for stream in streams:
            _early_lines[id(stream)] = (stream, _encode(stream.as_dict()))
    else:
        import gateway.cli.output  # noqa: F401 - rich
        import signaling.ladder  # noqa: F401
    if diagram is not None:
        import gateway.analysis.diagram  # noqa: F401


def _early(obj: object) -> str | None:
    hit = _early_lines.get(id(obj))
    return hit[1] if hit is not None and hit[0] is obj else None


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _show(report: AnalysisReport, ladders: bool) -> None:
    from gateway.analysis.report import rtp_digits_by_call
    from gateway.cli.output import console, print_table
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


def emit_report_json(value: dict[str, Any], encoded: dict[str, list[str]] | None = None) -> None:
    """The report as JSON: one line per call, stream or note, top-level keys indented
    (``encoded``: lists given as their items' JSON already).

    Python's indenting JSON encoder is written in Python (only the compact one is in C): on
    2,000 calls with their ladders it took longer than tshark's whole run."""
    out = ["{"]
    items = list(value.items())
    encoded = encoded or {}
    for k, (key, item) in enumerate(items):
        comma = "," if k + 1 < len(items) else ""
        name = _encode(key)
        lines = encoded.get(key)
        if lines is None and isinstance(item, list) and item:
            lines = list(map(_encode, item))
        if lines:
            rows = ",\n    ".join(lines)
            out.append(f"  {name}: [\n    {rows}\n  ]{comma}")
        else:
            out.append(f"  {name}: {_encode(item)}{comma}")
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
            from gateway.cli.output import fail

            fail(f"cannot write {diagram}: {exc.strerror or exc}")
    if as_json:
        _emit_json(report)
    else:
        _show(report, ladder)




def _emit_json(report: AnalysisReport) -> None:
    from gateway.analysis.report import call_json, report_json, rtp_digits_by_call

    digits = rtp_digits_by_call(report.streams)
    calls = []
    for call in report.calls:
        mine = digits.get(call.call_id, "")
        line = None if mine else _early(call)
        calls.append(line if line is not None else _encode(call_json(call, mine)))
    streams = [_early(s) or _encode(s.as_dict()) for s in report.streams]
    rest = report_json(dataclasses.replace(report, calls=[], streams=[]))
    emit_report_json(rest, {"calls": calls, "rtp_streams": streams})
