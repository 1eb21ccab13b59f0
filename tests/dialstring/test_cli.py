"""``crcgw dialstring``: both CLI forms round-trip every grammar form; bad input exits 2 in one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import build_app
from signaling.dialstring import parse
from tests.dialstring.test_grammar import FORMS

runner = CliRunner()
app = build_app()
HERE = Path(__file__).parent


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


@pytest.mark.parametrize("form", FORMS, ids=[f[0].strip() for f in FORMS])
def test_build_command_and_parse_command_agree(form: tuple[object, ...]) -> None:
    target = parse(str(form[0]))
    args = [target.protocol, target.meeting_id]
    for flag, value in (("--passcode", target.passcode), ("--layout", target.layout),
                        ("--host-key", target.host_key)):
        if value:
            args += [flag, value]
    args += ["--host", target.host_port(), "--json"]
    if target.protocol == "sip" and target.params == ";transport=tls":
        args += ["--transport", "tls"]
    if target.params not in ("", ";transport=tls"):
        pytest.skip("the sip builder command sets only ;transport")
    code, out = invoke("dialstring", *args)
    assert code == 0, out
    built = json.loads(out)
    code, out = invoke("dialstring", "parse", built["dial_string"], "--json")
    assert code == 0, out
    parsed = json.loads(out)
    assert parsed == built
    assert parse(parsed["dial_string"]) == target
    keys = {"protocol", "meeting_id", "passcode", "layout", "host_key", "host", "dial_string"}
    assert keys <= set(parsed)
    assert ("sip_uri" in parsed) == (target.protocol == "sip")


def test_h323_all_regions_is_a_list_of_17() -> None:
    code, out = invoke("dialstring", "h323", "123 4567 8901", "-p", "55", "--all-regions", "--json")
    assert code == 0
    items = json.loads(out)
    assert len(items) == 17
    assert items[0]["dial_string"] == "162.255.37.11##12345678901#55"


def test_h323_region_by_name() -> None:
    code, out = invoke("dialstring", "h323", "123456789", "--region", "germany", "--json")
    assert json.loads(out)["host"] == "213.244.140.110"


def test_invitation_command_reads_file_and_stdin() -> None:
    path = HERE / "invitations" / "two_addresses.txt"
    code, out = invoke("dialstring", "invitation", str(path), "--json")
    assert code == 0
    assert [i["protocol"] for i in json.loads(out)] == ["sip", "h323", "h323"]
    result = runner.invoke(app, ["dialstring", "invitation", "-", "--json"],
                           input=path.read_text(encoding="utf-8"))
    assert json.loads(result.stdout) == json.loads(out)


def test_table_output_shows_the_dial_string() -> None:
    code, out = invoke("dialstring", "sip", "123456789", "-l", "308")
    assert code == 0
    assert "123456789..308@zoomcrc.com" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["parse", "1234@zoomcrc.com"], "meeting_id: must be 9 to 11 digits (got '1234')"),
        (["sip", "123456789", "--passcode", "abc"], "passcode: must be 1 to 10 digits"),
        (["sip", "123456789", "--transport", "sctp"], "transport: must be udp, tcp or tls"),
        (["h323", "123456789"], "host: give exactly one of --host IP, --region NAME"),
        (["h323", "123456789", "--region", "mars"], "region: is not a known CRC region"),
        (["invitation", "/nonexistent/invite.txt"], "invitation: cannot read"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "dialstring", *args],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("crcgw: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr
