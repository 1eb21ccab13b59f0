"""``crcgw demo``: the main job on embedded defaults, no account and no external server.

Until the gateway daemon lands, the demo shows the dial-string engine at work on a sample meeting:
the SIP and H.323 strings a room dials, the IVR digits it sends after answer, the reading of an
invitation, and what a malformed string is told.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gateway.cli.output import console, emit_json, print_table
from signaling.dialstring import (
    CRC_REGIONS,
    DialStringError,
    DialTarget,
    parse,
    parse_invitation,
    split_for_ivr,
)

__all__ = ["register"]

SAMPLE_MEETING = "824 1937 4650"
SAMPLE_PASSCODE = "6083311947"
SAMPLE_HOST_KEY = "271828"
SAMPLE_INVITATION = f"""Join Zoom Meeting
https://example.zoom.us/j/82419374650

Meeting ID: {SAMPLE_MEETING}
Passcode: WebOnly7

Join by SIP
82419374650@zoomcrc.com

Join by H.323
162.255.37.11 (US West)
213.19.144.110 (Amsterdam Netherlands)
Meeting ID: {SAMPLE_MEETING}
Passcode: {SAMPLE_PASSCODE}
"""
ROOM_MACRO_STRINGS = (
    "82419374650.6083311947..271828@zoomcrc.com",
    "sip:82419374650.@zoomcrc.com;transport=tls",
    "162.255.37.11##82419374650##308",
    "82419374650.608331194X@zoomcrc.com",
)


def _demo_report() -> dict[str, Any]:
    sip = DialTarget.sip(SAMPLE_MEETING, passcode=SAMPLE_PASSCODE, layout="308")
    host = DialTarget.sip(SAMPLE_MEETING, passcode=SAMPLE_PASSCODE, host_key=SAMPLE_HOST_KEY)
    h323 = [
        DialTarget.h323(SAMPLE_MEETING, host=r.address, passcode=SAMPLE_PASSCODE)
        for r in CRC_REGIONS[:3]
    ]
    dial, steps = split_for_ivr(host)
    parsed: list[dict[str, Any]] = []
    for text in ROOM_MACRO_STRINGS:
        try:
            parsed.append({"input": text, "ok": True, **parse(text).as_dict()})
        except DialStringError as exc:
            parsed.append({"input": text, "ok": False, "error": str(exc)})
    invitation = parse_invitation(SAMPLE_INVITATION)
    return {
        "ok": all(item["ok"] for item in parsed[:3]) and not parsed[3]["ok"],
        "built": [sip.as_dict(), host.as_dict(), *(t.as_dict() for t in h323)],
        "ivr": {
            "dial": dial.sip_uri(),
            "steps": [{"field": s.field, "digits": s.digits, "at_s": s.at_s} for s in steps],
        },
        "parsed": parsed,
        "invitation": [t.dial_string() for t in invitation.targets],
    }


def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Run the main job on embedded defaults and print a report (no account needed)."""
    report = _demo_report()
    if as_json:
        emit_json(report)
    else:
        console.print("[bold]crcgw demo[/]: dial strings for meeting 824 1937 4650")
        print_table(
            "What a room system dials",
            ("protocol", "dial"),
            ((b["protocol"], b.get("sip_uri") or b["dial_string"]) for b in report["built"]),
        )
        print_table(
            f"IVR after answer (dial {report['ivr']['dial']})",
            ("at", "field", "digits"),
            ((f"+{s['at_s']:.1f} s", s["field"], s["digits"]) for s in report["ivr"]["steps"]),
        )
        print_table(
            "Room-macro strings, parsed",
            ("input", "result"),
            (
                (p["input"], p["dial_string"] if p["ok"] else f"error: {p['error']}")
                for p in report["parsed"]
            ),
        )
        print_table(
            "From the invitation (H.323 passcode, never the web one)",
            ("dial",),
            ((d,) for d in report["invitation"]),
        )
    if not report["ok"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
