"""The pure parts of ``crcgw test-dial``: figures and verdicts from stages, redaction of the
capture analysis, durations, targets, and the command's one-line errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli.commands.testdial import parse_duration
from gateway.testdial.capture import capture_filter, redact_capture
from gateway.testdial.report import (
    Stage,
    build_report,
    figures,
    media_figures,
    report_json,
    verdict_rows,
)
from gateway.testdial.target import TargetError, TargetRequest, parse_meeting
from media.quality import estimate_mos, load_thresholds
from signaling.dialstring import DialTarget
from tests.testdial.conftest import run_crcgw


def _stages(**overrides: tuple[str, float | None]) -> list[Stage]:
    base = {
        "dns": ("ok", 0.0), "connect": ("skipped", None), "crc_port": ("ok", None),
        "register": ("ok", 12.0), "invite_100": ("ok", 2.0), "invite_180": ("skipped", None),
        "invite_200": ("ok", 40.0), "dtmf": ("sent", None), "media": ("ok", None),
        "bye": ("ok", 5.0),
    }
    base.update(overrides)
    return [Stage(name, name, status, ms) for name, (status, ms) in base.items()]  # type: ignore[arg-type]


def test_figures_take_timed_stages_and_leave_out_what_was_not_needed() -> None:
    media = media_figures("PCMU", 500, 500, 0, 1.0, 2.0, 10.0)
    got = figures(_stages(), media)
    assert got == {
        "dns_ms": 0.0, "register_ms": 12.0, "invite_to_100_ms": 2.0, "setup_ms": 40.0,
        "bye_ms": 5.0, "packets": 500.0, "loss_pct": 0.0, "jitter_ms": 1.0,
        "max_jitter_ms": 2.0, "mos": media.mos,
    }


def test_a_failed_stage_is_a_missing_figure_and_fails_the_report() -> None:
    stages = _stages(invite_200=("failed", None))
    report = build_report("sip:x@y", "sip", "udp", stages, None)
    assert report.ok is False
    setup = next(v for v in report.verdicts if v.metric == "setup_ms")
    assert setup.status == "missing"


def test_mos_uses_loss_delay_and_the_jitter_buffer() -> None:
    clean = media_figures("PCMU", 1000, 1000, 0, 0.5, 1.0, 0.0)
    assert clean.mos == pytest.approx(estimate_mos("PCMU", 0.0, 0.0, 40.0))
    lossy = media_figures("PCMU", 900, 1000, 100, 0.5, 1.0, 0.0)
    assert lossy.loss_pct == pytest.approx(10.0)
    assert lossy.mos == pytest.approx(estimate_mos("PCMU", 0.1, 0.0, 40.0))
    # a 100 ms max jitter asks for a 200 ms buffer: more delay, lower MOS
    jittery = media_figures("PCMU", 1000, 1000, 0, 50.0, 100.0, 100.0)
    assert jittery.mos == pytest.approx(estimate_mos("PCMU", 0.0, 100.0, 200.0))
    assert jittery.mos is not None and clean.mos is not None and jittery.mos < clean.mos
    assert media_figures("PCMU", 0, 10, 0, None, None, 0.0).mos is None


def test_verdicts_follow_a_thresholds_file_and_render_as_rows() -> None:
    limits = load_thresholds("loss_pct: 0.5\nmos: {min: 4.4}\n")
    media = media_figures("PCMU", 990, 1000, 10, 3.0, 9.0, 20.0)
    report = build_report("sip:x@y", "sip", "udp", _stages(), media, limits)
    status = {v.metric: v.status for v in report.verdicts}
    assert status["loss_pct"] == "fail" and status["mos"] == "fail"
    assert status["jitter_ms"] == "pass"
    assert report.ok is False
    rows = {row[0]: row for row in verdict_rows(report.verdicts)}
    assert rows["loss_pct"] == ("loss_pct", "1 %", "<= 0.5 %", "FAIL")
    data = report_json(report)
    assert data["ok"] is False and data["media"]["lost"] == 10
    assert {"metric", "value", "limit", "kind", "status", "unit", "description"} <= set(
        data["verdicts"][0])


def test_all_passing_figures_make_an_ok_report() -> None:
    media = media_figures("G722", 500, 500, 0, 0.3, 0.6, 1.0)
    assert build_report("sip:x@y", "sip", "udp", _stages(), media).ok is True


def test_capture_redaction_hides_the_dialled_secrets_and_ivr_digits() -> None:
    data = {"calls": [{"to": "sip:82419374650.123456@h", "dtmf_rtp": "123456#", "ladder": [
        {"message": "INVITE sip:82419374650.123456@h"}]}], "rtp_streams": [{"dtmf": "123456#"}]}
    target = DialTarget.sip("82419374650", passcode="123456", host="h")
    out = redact_capture(data, target.user_part(), "82419374650.***", True)
    text = repr(out)
    assert "123456" not in text.replace("82419374650", "")
    assert out["calls"][0]["to"] == "sip:82419374650.***@h"
    assert out["rtp_streams"][0]["dtmf"] == "***"
    kept = redact_capture(data, None, "", False)
    assert kept == data


def test_capture_filter_names_the_ports_not_the_interface() -> None:
    assert capture_filter([5060, 5060, 40000], 30000, 30015) == (
        "port 5060 or port 40000 or udp portrange 30000-30015")


@pytest.mark.parametrize(("text", "seconds"), [
    ("10s", 10.0), ("10", 10.0), ("1.5s", 1.5), ("500ms", 0.5), ("2m", 120.0), (" 3 s ", 3.0)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "ten", "-1s", "5h", "1e3"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_targets_from_ids_dial_strings_and_uris() -> None:
    sip = parse_meeting(TargetRequest("824 1937 4650", passcode="1234", layout="308"))
    assert isinstance(sip, DialTarget)
    assert sip.dial_string() == "82419374650.1234.308@zoomcrc.com"
    moved = parse_meeting(TargetRequest("82419374650.99@zoomcrc.com", host="127.0.0.1:5070"))
    assert isinstance(moved, DialTarget)
    assert moved.dial_string() == "82419374650.99@127.0.0.1:5070"
    h323 = parse_meeting(TargetRequest("162.255.37.11##824193746#55"))
    assert isinstance(h323, DialTarget) and h323.protocol == "h323" and h323.passcode == "55"
    assert parse_meeting(TargetRequest("sip:bob@127.0.0.1")) == "sip:bob@127.0.0.1"
    with pytest.raises(TargetError, match="needs --host"):
        parse_meeting(TargetRequest("824193746", protocol="h323"))
    with pytest.raises(TargetError, match="MEETING"):
        parse_meeting(TargetRequest("12"))
    with pytest.raises(TargetError, match="need a Zoom dial string"):
        parse_meeting(TargetRequest("sip:bob@127.0.0.1", passcode="1"))
    with pytest.raises(TargetError, match="H323 dial string but --protocol"):
        parse_meeting(TargetRequest("1.2.3.4##824193746", protocol="sip"))


@pytest.mark.parametrize(("args", "message"), [
    (["82419374650", "--duration", "soon"], "--duration/--timeout: expected a duration"),
    (["82419374650", "--transport", "sctp"], "--transport must be udp, tcp, tls or auto"),
    (["82419374650", "--protocol", "iax"], "--protocol must be sip or h323"),
    (["82419374650", "--capture", "x.txt"], "must end in .pcap or .pcapng"),
    (["12", "--duration", "1s"], "MEETING: "),
    (["82419374650", "--user", "alice"], "--user needs --password-env"),
])
def test_bad_input_is_one_line_and_exit_code_2(args: list[str], message: str) -> None:
    run = run_crcgw(["test-dial", *args], timeout=60)
    assert run.code == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crcgw: error: ") and message in lines[0]


def test_bad_thresholds_file_is_one_line(tmp_path: Path) -> None:
    limits = tmp_path / "limits.json"
    limits.write_text('{"latency": 5}')
    run = run_crcgw(["test-dial", "82419374650", "--thresholds", str(limits)], timeout=60)
    assert run.code == 2
    assert "unknown threshold 'latency'" in run.stderr and len(run.stderr.splitlines()) == 1


def test_the_stage_board_drives_the_live_view() -> None:
    from rich.console import Console

    from gateway.cli.commands.testdial import _stage_table
    from gateway.testdial.stages import SIP_STAGES, StageBoard

    seen: list[str] = []
    board = StageBoard(SIP_STAGES, lambda b: seen.append(b.activity))
    board.say("dialling")
    board.set("dns", "ok", 0.0, "IP literal, no query")
    board.set("invite_200", "failed", detail="486 Busy Here")
    board.skip_pending("not reached")
    assert seen == ["dialling"] * 4
    assert board["bye"].status == "skipped" and board["bye"].detail == "not reached"
    assert board["dns"].status == "ok"
    console = Console(record=True, width=120)
    console.print(_stage_table(board))
    text = console.export_text()
    assert "INVITE -> 200" in text and "486 Busy Here" in text and "failed" in text
    assert text.count("skipped") == len(SIP_STAGES) - 2
