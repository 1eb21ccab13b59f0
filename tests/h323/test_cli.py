"""``crcgw h323-dial``, ``h323-peer`` and ``register-h323`` end to end on loopback."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import build_app
from gateway.cli.commands.h323 import run_h323_dial
from signaling.h323.gatekeeper import GatekeeperServer

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
app = build_app()


def crcgw(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def read_json_block(process: subprocess.Popen[str]) -> str:
    """One ``emit_json`` block from the process's stdout (it flushes after each)."""
    assert process.stdout is not None
    lines = ""
    line = ""
    while not lines.startswith("{") or line.rstrip("\n") != "}":  # the top level's closing line
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"the peer ended early: {lines!r}")
        lines += line
    return lines


@contextmanager
def peer_process(*args: str) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """``crcgw h323-peer --port 0 --json``; yields its port; stopped with SIGINT by PID."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "h323-peer", "--port", "0", "--json", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(60, process.kill)  # a stuck peer ends the pipe reads too
    watchdog.start()
    try:
        listening = json.loads(read_json_block(process))["listening"]
        yield int(listening.rsplit(":", 1)[1]), process
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=10)  # drains and closes the pipes
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate(timeout=5)


def test_dial_the_peer_process_connect_then_busy() -> None:
    with peer_process("--answer", "connect") as (port, process):
        result = runner.invoke(app, ["h323-dial", f"127.0.0.1:{port}##123456789#97531", "--json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert (
            report["connected"]
            and report["h245_ready"]
            and report["target"] == ("127.0.0.1##123456789#***")
        )
        assert [e["message"] for e in report["events"]][1] == "Setup"
        out = read_json_block(process)  # the peer reports the call when it ends
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    assert process.returncode == 0
    call = json.loads(out)
    assert call["connected"] and call["released_cause"] == 16
    assert "97531" not in out

    with peer_process("--answer", "busy") as (port, _):
        result = runner.invoke(app, ["h323-dial", f"127.0.0.1:{port}##123456789"])
    assert result.exit_code == 1
    assert "released by the far end: cause 17 user busy" in result.stdout
    assert "Release Complete" in result.stdout


@pytest.mark.parametrize(
    ("args", "opened_by", "peer_args"),
    [
        (["h323-dial", "--h245-channels", "--hold", "1"], "OpenLogicalChannel", []),
        (["dial", "--duration", "1"], "fastStart", []),  # crcgw dial offers fastStart itself
        (["h323-dial", "--h245-channels", "--no-tunnel", "--hold", "1"], "OpenLogicalChannel", []),
        (["h323-dial", "--h245-channels", "--hold", "1"], "OpenLogicalChannel", ["--no-tunnel"]),
    ],
)
def test_dial_carries_audio_both_ways_with_the_peer_process(
    args: list[str], opened_by: str, peer_args: list[str]
) -> None:
    with peer_process("--answer", "connect", *peer_args) as (port, process):
        target = f"127.0.0.1:{port}##123456789"
        result = runner.invoke(app, [args[0], target, *args[1:]])
        assert result.exit_code == 0, result.output
        text = " ".join(result.stdout.split())  # the console may wrap the line
        found = re.search(r"audio (\S+) \((\w+)\) .* sent (\d+), received (\d+) packets", text)
        assert found is not None, text
        assert found.group(1, 2) == ("g711Ulaw64k", opened_by)
        sent, received = int(found[3]), int(found[4])
        assert sent >= 10 and received >= 10
        report = json.loads(read_json_block(process))
        peer = report["media"]
    # H.245 on its own connection exactly when one side declined the tunnel
    assert report["h245_separate"] == ("--no-tunnel" in args + peer_args)
    assert peer["codec"] == "g711Ulaw64k"
    # loopback loses nothing, but the last packets may cross the peer's hang-up
    assert sent - 3 <= peer["rx_packets"] <= sent
    assert peer["tx_packets"] >= received


def test_run_h323_dial_is_the_renderer_for_crcgw_dial(capsys: pytest.CaptureFixture[str]) -> None:
    with peer_process("--answer", "reject", "--cause", "88") as (port, _):
        code = run_h323_dial(f"127.0.0.1:{port}##123456789", timeout=5, json_output=True)
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["cause"] == 88
    assert report["cause_text"] == "incompatible destination"


@contextmanager
def gatekeeper_thread(**options: object) -> Iterator[int]:
    ready = threading.Event()
    stop: list[asyncio.Event] = []
    ports: list[int] = []

    async def serve() -> None:
        async with GatekeeperServer(**options) as gk:  # type: ignore[arg-type]
            ports.append(gk.port)
            stop.append(asyncio.Event())
            ready.set()
            await stop[0].wait()

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    try:
        assert ready.wait(10)
        yield ports[0]
    finally:
        loop.call_soon_threadsafe(stop[0].set)
        thread.join(10)
        loop.close()


def test_register_h323_with_keep_alive() -> None:
    with gatekeeper_thread(max_ttl=1) as port:
        result = runner.invoke(
            app,
            [
                "register-h323",
                "--gatekeeper",
                f"127.0.0.1:{port}",
                "--alias",
                "room1",
                "--ttl",
                "30",
                "--hold",
                "1",
                "--json",
            ],
        )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["registered"] and report["granted_ttl"] == 1
    assert report["endpoint_id"] == "ep0001" and report["gatekeeper_id"] == "crcgw-gk"
    events = [e["event"] for e in report["events"]]
    assert events[:3] == ["discovered", "registered", "refreshed"]
    assert events[-1] == "unregistered"


def test_register_h323_rejected_exits_1() -> None:
    with gatekeeper_thread(reject_registration="duplicateAlias") as port:
        result = runner.invoke(
            app, ["register-h323", "--gatekeeper", f"127.0.0.1:{port}", "--alias", "room1"]
        )
    assert result.exit_code == 1
    assert "not registered: gatekeeper answered registrationReject: duplicateAlias" in (
        result.stdout.replace("\n", " ")
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["h323-dial", "127.0.0.1##12"], "crcgw: error: bad dial string: meeting_id"),
        (["h323-dial", "123456789.97531@zoomcrc.com"], "crcgw: error: not an H.323 dial string"),
        (
            ["register-h323", "--gatekeeper", "127.0.0.1", "--alias", "r", "--ttl", "0"],
            "crcgw: error: --ttl must be a positive number of seconds (got 0)",
        ),
        (
            ["h323-peer", "--answer", "maybe"],
            "crcgw: error: --answer must be one of connect, busy, reject, forward (got 'maybe')",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = crcgw(*args)
    assert result.returncode == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr and "97531" not in result.stderr


def test_dial_through_a_gatekeeper() -> None:
    with gatekeeper_thread() as gk_port, peer_process() as (port, _):
        result = runner.invoke(
            app,
            [
                "h323-dial",
                f"127.0.0.1:{port}##123456789",
                "--gatekeeper",
                f"127.0.0.1:{gk_port}",
                "--json",
            ],
        )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [e["message"] for e in report["events"] if e["direction"] == "info"] == [
        "RAS registered",
        "RAS admitted",
        "TCP connected",
        "RAS disengaged",
    ]


def test_dial_with_video_against_the_peer_process() -> None:
    with peer_process("--answer", "connect", "--video", "--rtcp-interval", "0.3") as (
        port,
        process,
    ):
        target = f"127.0.0.1:{port}##123456789"
        args = ["h323-dial", target, "--h245-channels", "--video", "--hold", "2"]
        result = runner.invoke(app, [*args, "--rtcp-interval", "0.3"])
        assert result.exit_code == 0, result.output
        text = " ".join(result.stdout.split())
        found = re.search(r"video H\.264 \S+ <-> \S+: sent (\d+), decoded (\d+) frames", text)
        assert found is not None, text
        assert int(found[1]) >= 5 and int(found[2]) >= 5
        assert re.search(r"RTCP: sent \d+, received \d+ reports; round trip [\d.]+ ms", text)
        report = json.loads(read_json_block(process))
    assert report["video"]["decoded_frames"] >= 5 and report["video"]["frames_sent"] >= 5
