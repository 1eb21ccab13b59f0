"""``crcgw analyze`` started without the typer app.

Building the typer app (pydantic type adapters for every parameter, rich) costs about as much
as tshark's whole run on a small capture, so :func:`gateway.cli.main` tries :func:`run_quick`
first: plain argument lists are parsed here with argparse, the analysis starts (tshark first,
before numpy is imported, see :mod:`gateway.analysis.analyse`), and the output modules are
imported while tshark runs (for ``--json`` neither typer nor rich). Anything unusual (help,
an unknown or malformed option) returns False, and the typer command handles it with its own
messages.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.analysis.analyse import WhileTsharkRuns
    from gateway.analysis.report import AnalysisReport, StreamReport
    from signaling.ladder import CallSummary

__all__ = ["analyse_or_fail", "run_quick"]


def analyse_or_fail(
    capture: Path,
    sip_ports: Sequence[int] | None,
    diagram: Path | None,
    heuristic: bool,
    full: bool,
    while_tshark_runs: WhileTsharkRuns | None = None,
) -> AnalysisReport:
    """The analysis, or a one-line error (:class:`gateway.cli.output.CliError`, exit code 2)."""
    from gateway.analysis.analyse import analyse_capture
    from gateway.analysis.errors import CaptureError

    if diagram is not None and diagram.suffix.lower() not in (".svg", ".png"):
        from gateway.cli.output import fail

        fail(f"--diagram {diagram}: the picture is written as .svg or .png")
    try:
        return analyse_capture(capture, tuple(sip_ports or ()), heuristic, full,
                               while_tshark_runs)
    except CaptureError as exc:
        from gateway.cli.output import fail

        fail(str(exc))


def run_quick(args: list[str]) -> bool:
    """Run ``crcgw analyze ARGS`` if argparse reads them as the typer command would."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
    parser.add_argument("capture", type=Path)
    parser.add_argument("--sip-port", type=int, action="append")
    parser.add_argument("--diagram", type=Path)
    parser.add_argument("--heuristic", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--ladder", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--json", dest="as_json", action="store_true")
    if any(a in ("-h", "--help") for a in args):
        return False
    try:
        ns, unknown = parser.parse_known_args(args)
    except (argparse.ArgumentError, SystemExit):
        return False
    if unknown:
        return False
    def while_tshark_runs(calls: Sequence[CallSummary], streams: Sequence[StreamReport]) -> None:
        from gateway.cli.analyze_output import prepare  # not before: tshark starts first

        prepare(ns.as_json, ns.diagram, calls, streams)

    report = analyse_or_fail(ns.capture, ns.sip_port, ns.diagram, ns.heuristic, ns.full,
                             while_tshark_runs)
    from gateway.cli.analyze_output import present

    present(report, ns.diagram, ns.ladder, ns.as_json)
    # The report is out: skip the interpreter's teardown (numpy and friends take tens of ms to
    # unload), as nothing is left to clean up (the temporary folder is gone already).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)

