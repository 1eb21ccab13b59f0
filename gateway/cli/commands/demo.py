"""``crcgw demo``: the main job on embedded defaults, no account and no external server."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from gateway.cli.output import console, emit_json, err_console, fail, print_table

__all__ = ["register"]


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}{unit}"
    return f"{value}{unit}"


def _show(report: dict[str, Any]) -> None:
    reg, call, ports = report["registration"], report["call"], report["ports"]
    rtp, callout = call["rtp"], report["callout"]
    verdict = ("[bold green]OK[/]" if report["ok"]
               else f"[bold red]FAILED[/] ({', '.join(report['failed'])})")
    print_table(
        f"crcgw demo: meeting {report['meeting_id']}",
        ("stage", "result"),
        [
            ("registration", f"{reg['room']} {reg['state']} ({_fmt(reg['code'])}) over "
                             f"{reg['transport']} in {_fmt(reg['duration_ms'], ' ms')}"),
            ("call set-up", f"{'connected' if call['connected'] else 'not connected'}, "
                            f"INVITE to 200 in {_fmt(call['setup_ms'], ' ms')}"),
            ("DTMF (IVR passcode)", "accepted" if call["dtmf_ok"] else "not accepted"),
            ("RTP", f"{rtp['codec'] or '-'}: {rtp['tx_packets']} sent, {rtp['rx_packets']} "
                    f"received, {_fmt(rtp['lost'])} lost, jitter {_fmt(rtp['jitter_ms'], ' ms')}"),
            ("video", f"{call['video']['codec'] or '-'}: {call['video']['sent_frames']} frames "
                      f"sent, {call['video']['received_frames']} received"
                      + (f" (saved {call['video']['snapshot']})" if call["video"]["snapshot"]
                         else "")),
            *(
                (f"CRC ports {when}", f"{ports[when]['in_use']} of {ports[when]['allocated']} "
                                      "in use")
                for when in ("before", "during", "after")
            ),
            ("meeting calls the room", f"{callout['target']}: "
                                       f"{'answered' if callout['answered'] else 'not answered'}"),
        ],
    )
    console.print(f"result: {verdict}")


def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    hold: Annotated[float, typer.Option("--hold", min=0.5, max=60,
                                        help="Seconds to stay in the call.")] = 3.0,
    snapshot: Annotated[Path | None, typer.Option(
        "--snapshot", help="Save the meeting's picture the room received to FILE.png.",
        dir_okay=False)] = None,
) -> None:
    """Run the gateway on embedded defaults: register a room, dial a meeting, report, exit."""
    from gateway.demo import DemoError, run_demo

    logging.getLogger("signaling").setLevel(logging.ERROR)

    def progress(line: str) -> None:
        # With --json, stdout holds only the report; the progress goes to stderr.
        (err_console if as_json else console).print(f"[dim]·[/] {line}", highlight=False,
                                                   soft_wrap=as_json)

    try:
        report = asyncio.run(run_demo(progress, hold_s=hold, snapshot=snapshot))
    except DemoError as exc:
        fail(str(exc), 1)
    if as_json:
        emit_json(report)
    else:
        _show(report)
    if not report["ok"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
