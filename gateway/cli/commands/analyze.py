"""``crcgw analyze FILE``: calls, ladders, RTP streams and their quality from a capture."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gateway.cli.analyze_output import present

__all__ = ["register"]


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


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
