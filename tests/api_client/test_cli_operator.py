"""The operator commands against the emulator: meeting show/live/participants, callout,
zoom-rooms, dialstring --from-api; --json output, exit codes, passcodes masked by default."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from api_client.emulator import EmulatorServer, meeting_passcode
from gateway.cli.commands import crc, dialstring, meetings
from gateway.cli.output import CliError
from tests.api_client.test_cli import Outcome, clean_env, env  # noqa: F401 - fixtures

MEETING = "85746065432"


@pytest.fixture
def api(request: pytest.FixtureRequest) -> EmulatorServer:
    """The emulator, with the CLI pointed at it (test_cli's ``env`` fixture)."""
    server: EmulatorServer = request.getfixturevalue("env")
    return server


def build() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)

    @app.callback()
    def root() -> None:
        """crcgw (operator commands only)."""

    meetings.register(app)
    dialstring.register(app)
    crc.register(app)
    return app


APP = build()


def run(*args: str) -> Outcome:
    result = CliRunner().invoke(APP, list(args))
    if isinstance(result.exception, CliError):
        return Outcome(result.exception.exit_code, result.stdout,
                       f"crcgw: error: {result.exception}")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr)


def test_meeting_show_masks_passcodes_unless_asked(api: EmulatorServer) -> None:
    shown = run("meeting", "show", MEETING, "--json")
    assert shown.code == 0, shown.stderr
    assert shown.json()["h323_password"] == "**********"
    assert meeting_passcode(MEETING) not in shown.stdout
    revealed = run("meeting", "show", MEETING, "--json", "--show-passcodes").json()
    assert revealed["h323_password"] == meeting_passcode(MEETING)
    assert run("meeting", "show", "12-ab", "--json").code == 2


def test_dialstring_from_api(api: EmulatorServer) -> None:
    sip = run("dialstring", "sip", MEETING, "--from-api", "--json").json()
    assert sip["passcode"] == meeting_passcode(MEETING)
    h323 = run("dialstring", "h323", MEETING, "--from-api", "--json").json()
    assert isinstance(h323, list) and len(h323) == 4
    assert {t["passcode"] for t in h323} == {meeting_passcode(MEETING)}
    assert h323[0]["host"] == "162.255.37.11"
    given = run("dialstring", "h323", MEETING, "--from-api", "--passcode", "111222",
                "--host", "162.255.36.11", "--json").json()
    assert given["passcode"] == "111222" and given["host"] == "162.255.36.11"


def test_callout_live_and_participants(
    api: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROOM_PW", "room-secret")
    monkeypatch.setenv("ZSECRET", "x")
    config = tmp_path / "crcgw.yaml"
    config.write_text(yaml.safe_dump({
        "rooms": [{"name": "boardroom", "registrar": "192.0.2.10:5070", "user": "board",
                   "password_env": "ROOM_PW", "h323_ip": "192.0.2.44"}],
        "zoom": {"account_id": "me", "client_id": "c", "client_secret_env": "ZSECRET",
                 "base_url": api.zoom_url},
    }))
    sip = run("callout", MEETING, "--room", "boardroom", "--config", str(config), "--json")
    assert sip.code == 0, sip.stderr
    assert sip.json()["device_ip"] == "board@192.0.2.10:5070"
    h323 = run("callout", MEETING, "--room", "boardroom", "--h323", "--config", str(config))
    assert h323.code == 0 and "192.0.2.44" in h323.stdout
    missing = run("callout", MEETING, "--room", "nope", "--config", str(config))
    assert missing.code == 2 and "boardroom" in missing.stderr
    assert run("callout", MEETING).code == 2  # neither --room nor --device
    live: Any = run("meeting", "live", "--json").json()
    assert [(m["id"], m["participants"]) for m in live] == [(int(MEETING), 2)]
    people = run("meeting", "participants", MEETING, "--json").json()
    assert people["crc_ports_in_use"] == 2
    table = run("meeting", "participants", MEETING)
    assert "room systems (CRC ports in use): 2" in table.stdout


def test_zoom_rooms(api: EmulatorServer) -> None:
    rooms = run("zoom-rooms", "list", "--json").json()
    assert [r["name"] for r in rooms] == ["Boardroom", "Huddle 2"]
    shown = run("zoom-rooms", "show", rooms[0]["id"], "--json")
    assert "0000-1111-2222" not in shown.stdout  # the activation code stays masked
    devices = run("zoom-rooms", "devices", rooms[0]["id"], "--json").json()
    assert devices[0]["device_type"] == "Zoom Rooms Computer"
    assert run("zoom-rooms", "devices", "no-such-room").code == 1


@pytest.mark.parametrize("args", [("meeting", "live", "--from", "2026-13-01")])
def test_bad_input_exits_2(api: EmulatorServer, args: tuple[str, ...]) -> None:
    assert run(*args).code == 2
    json.dumps(args)


def test_crc_account_setting_and_connectors(api: EmulatorServer) -> None:
    setting = run("crc", "account-setting", "--json")
    assert setting.code == 0 and setting.json()["manage_type"] == "SIP Proxy"
    assert run("crc", "connectors", "--json").json() == []
    table = run("crc", "connectors")
    assert table.code == 0 and "API connectors (0)" in table.stdout


def test_sip_device_with_backup_servers(api: EmulatorServer, monkeypatch: pytest.MonkeyPatch,
                                        ) -> None:
    from gateway.cli.commands import devices

    monkeypatch.setenv("PW", "pw-123")
    app = typer.Typer(pretty_exceptions_enable=False)

    @app.callback()
    def root() -> None:
        """devices only."""

    devices.register(app)
    common = ["devices", "sip", "add", "--auth-name", "r1", "--domain", "sip.example.com",
              "--user", "u1", "--password-env", "PW", "--email", "r1@example.com",
              "--proxy", "192.0.2.10", "--registrar", "192.0.2.10", "--json"]
    flat = CliRunner().invoke(app, [*common, "--backup", "192.0.2.11,192.0.2.11,tls",
                                    "--backup", "192.0.2.12,192.0.2.12"])
    assert flat.exit_code == 0, flat.output
    added = json.loads(flat.stdout)
    assert (added["proxy_server2"], added["transport_protocol2"]) == ("192.0.2.11", "TLS")
    assert added["register_server3"] == "192.0.2.12"
    nested = CliRunner().invoke(app, [*common[:3], "--v2", *common[3:],
                                      "--backup", "192.0.2.11,192.0.2.11,TCP"])
    assert nested.exit_code == 0, nested.output
    assert json.loads(nested.stdout)["server_2"]["transport_protocol"] == "TCP"
    bad = CliRunner().invoke(app, [*common, "--backup", "only-one"])
    assert isinstance(bad.exception, CliError) and bad.exception.exit_code == 2
