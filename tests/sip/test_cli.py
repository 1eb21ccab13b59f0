"""``crcgw register`` and ``crcgw dial`` as a user runs them, against the test Kamailio/baresip.

Most cases run the real ``crcgw`` application in-process (its import takes seconds); two run
the installed entry point as a subprocess, end to end.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import build_app
from gateway.cli.output import CliError
from signaling.sip.dtmf import DIGIT_DURATION_MS
from tests.harness import Baresip, Kamailio

pytestmark = pytest.mark.sip

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def crcgw_process(*args: str, **env: str) -> Outcome:
    out = subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "COLUMNS": "200", **env},
    )
    return Outcome(out.returncode, out.stdout, out.stderr)


_APP = None


def crcgw(*args: str, **env: str) -> Outcome:
    """The crcgw app in this process; a CliError becomes exit code + one stderr line, as in
    ``gateway.cli.main``."""
    global _APP
    if _APP is None:
        _APP = build_app()
    result = CliRunner().invoke(_APP, list(args), env={"COLUMNS": "200", **env})
    if isinstance(result.exception, CliError):
        return Outcome(
            result.exception.exit_code, result.stdout, f"crcgw: error: {result.exception}\n"
        )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr)


def test_register_udp_json(kamailio: Kamailio) -> None:
    out = crcgw(
        "register",
        "--registrar",
        kamailio.address("udp"),
        "--user",
        "room160",
        "--password-env",
        "PW",
        "--json",
        PW="room160pw",
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["state"] == "registered" and result["code"] == 200
    assert result["duration_ms"] > 0 and result["unregistered"] is True
    assert kamailio.contacts("room160") == []


def test_register_tls_verifies_the_certificate(
    kamailio: Kamailio, caplog: pytest.LogCaptureFixture
) -> None:
    base = (
        "register",
        "--registrar",
        kamailio.address("tls"),
        "--user",
        "room161",
        "--password-env",
        "PW",
        "--transport",
        "tls",
    )
    ok = crcgw_process(*base, "--ca", str(kamailio.cert), PW="room161pw")
    assert ok.returncode == 0, ok.stderr
    assert "registered" in ok.stdout and "200 OK" in ok.stdout
    refused = crcgw(*base, PW="room161pw")  # system CAs do not know the test certificate
    assert refused.returncode == 1
    assert "certificate" in refused.stderr and "trusted CA" in refused.stderr
    with caplog.at_level(logging.WARNING, logger="signaling.pjsua"):
        insecure = crcgw(*base, "--insecure", PW="room161pw")
    assert insecure.returncode == 0
    assert any("verification is OFF" in r.getMessage() for r in caplog.records)


def test_register_wrong_password_is_one_line_without_the_password(kamailio: Kamailio) -> None:
    out = crcgw(
        "register",
        "--registrar",
        kamailio.address("tcp"),
        "--user",
        "room162",
        "--password-env",
        "PW",
        "--transport",
        "tcp",
        PW="s3cr3t-wrong",
    )
    assert out.returncode == 1
    errors = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "403" in errors[0] and "credentials" in errors[0]
    assert "s3cr3t-wrong" not in out.stdout + out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("register", "--registrar", "127.0.0.1", "--user", "a", "--password-env", "NOPE_X"),
            "NOPE_X is not set",
        ),
        (
            ("register", "--registrar", "bad host", "--user", "a", "--password-env", "PW"),
            "--registrar",
        ),
        (("dial", "not a target"), "TARGET"),
        (("dial", "sip:x@127.0.0.1", "--dtmf", "12", "--ivr"), "exclude"),
        (("dial", "sip:x@127.0.0.1", "--dtmf", "12x"), "not a DTMF digit"),
    ],
)
def test_bad_input_is_a_one_line_error(args: tuple[str, ...], message: str) -> None:
    out = crcgw(*args, PW="x")
    assert out.returncode == 2, out
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_dial_through_the_registrar_with_dtmf(kamailio: Kamailio, bob: Baresip) -> None:
    since = bob.mark()
    out = crcgw(
        "dial",
        bob.aor,
        "--registrar",
        kamailio.address("tcp"),
        "--user",
        "room163",
        "--password-env",
        "PW",
        "--transport",
        "tcp",
        "--dtmf",
        "47#",
        "--duration",
        "1.5",
        "--json",
        PW="room163pw",
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["connected"] is True
    phases = [e["event"] for e in result["events"]]
    assert phases[0] == "calling" and "connected" in phases and phases[-1] == "disconnected"
    assert result["stats"]["invite_to_200_ms"] > 0 and result["stats"]["rx_packets"] > 0
    # the digits start 1 s after answer: 1.5 s would cut "#" off, so the call stays longer
    at = {e["event"]: e["t_ms"] for e in result["events"]}
    # each digit: its tone and three end packets 20 ms apart
    assert at["disconnected"] - at["connected"] >= 1000 + 3 * (DIGIT_DURATION_MS + 60)
    assert bob.wait_dtmf("47#", 5, since) == "47#"


def test_dial_failure_exits_one(kamailio: Kamailio) -> None:
    out = crcgw(
        "dial",
        "sip:nobody@127.0.0.1",
        "--registrar",
        kamailio.address("udp"),
        "--user",
        "room164",
        "--password-env",
        "PW",
        PW="room164pw",
    )
    assert out.returncode == 1
    assert "404" in out.stderr and "did not connect" in out.stderr


def test_dial_zoom_string_with_ivr_keeps_secrets_out_of_the_output(
    baresip_factory: Callable[..., Baresip],
) -> None:
    crc = baresip_factory("123456789")
    target = f"123456789.4321..876543@127.0.0.1:{crc.sip_port}"
    out = crcgw_process(
        "dial", target, "--ivr", "--ivr-first", "0.2", "--ivr-gap", "0.2", "--duration", "3"
    )
    assert out.returncode == 0, out.stderr
    assert "connected" in out.stdout
    assert crc.wait_dtmf("4321#876543#", 5) == "4321#876543#"
    assert "4321" not in out.stdout + out.stderr and "876543" not in out.stdout + out.stderr
