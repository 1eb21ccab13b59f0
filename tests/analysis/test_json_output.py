"""``crcgw analyze --json`` encodes calls and streams while tshark runs
(gateway/cli/analyze_output.py): the JSON must be the one encoded from the finished report, for
calls whose streams carry RFC 4733 digits (encoded again) as for the others, and for many calls."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from bench.short_calls import write_short_calls
from gateway.analysis.analyse import analyse_capture
from gateway.analysis.report import AnalysisReport, report_json
from gateway.cli import analyze_output
from tests.analysis.conftest import need_tshark
from tests.analysis.synthetic import write_synthetic_call

pytestmark = [need_tshark, pytest.mark.capture]


def _printed(report: AnalysisReport) -> str:
    out, sys.stdout = sys.stdout, io.StringIO()
    try:
        analyze_output.present(report, None, False, True)
        return sys.stdout.getvalue()
    finally:
        sys.stdout = out


@pytest.mark.parametrize("kind", ["dtmf call", "short calls"])
def test_json_encoded_while_tshark_runs_is_the_report(tmp_path: Path, kind: str) -> None:
    capture = tmp_path / "c.pcap"
    if kind == "dtmf call":
        write_synthetic_call(capture)
    else:
        write_short_calls(capture, 30)
    early = analyse_capture(capture, while_tshark_runs=lambda calls, streams: (
        analyze_output.prepare(True, None, calls, streams)))
    hits = sum(analyze_output._early(x) is not None for x in [*early.calls, *early.streams])
    assert hits >= len(early.streams)  # the early lines are used...
    text = _printed(early)
    assert json.loads(text) == json.loads(json.dumps(report_json(early), default=str))
    late = analyse_capture(capture)  # ...and give what encoding the finished report gives
    assert text == _printed(late)
    if kind == "dtmf call":
        assert any(c["dtmf_rtp"] for c in json.loads(text)["calls"])
    else:
        assert len(json.loads(text)["calls"]) == 30
