"""The API commands of the CLI against the emulator: --json output, one-line errors with exit
codes, the embedded emulator when no credentials are set, no secret in any output."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from typer.testing import CliRunner

from api_client.emulator import EmulatorServer
from gateway.cli.commands import crc, devices, emulator, numbers, rooms, trunk
from gateway.cli.output import CliError

ENV_NAMES = (
    "CRCGW_ZOOM_ACCOUNT_ID", "CRCGW_ZOOM_CLIENT_ID", "CRCGW_ZOOM_CLIENT_SECRET",
    "CRCGW_ZOOM_BASE_URL", "CRCGW_PORTSIP_URL", "CRCGW_PORTSIP_USER", "CRCGW_PORTSIP_PASSWORD",
    "CRCGW_CONFIG",
)


def build() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)

    @app.callback()
    def root() -> None:
        """crcgw (API commands only)."""

    for module in (crc, devices, emulator, numbers, rooms, trunk):
        module.register(app)
    return app


APP = build()


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    yield


@pytest.fixture
def env(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    monkeypatch.setenv("CRCGW_ZOOM_BASE_URL", emulator.zoom_url)
    monkeypatch.setenv("CRCGW_PORTSIP_URL", emulator.portsip_url)
    monkeypatch.setenv("CRCGW_PORTSIP_USER", "admin")
    monkeypatch.setenv("CRCGW_PORTSIP_PASSWORD", "admin")
    return emulator


def run(*args: str) -> Outcome:
    result = CliRunner().invoke(APP, list(args))
    if isinstance(result.exception, CliError):
        return Outcome(result.exception.exit_code, result.stdout, f"crcgw: error: {result.exception}")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr)


def test_crc_settings_and_ports_follow_calls(env: EmulatorServer) -> None:
    assert run("crc", "settings", "--json").json()["ports_allocated"] == 10
    call = env.start_call("room-1")
    ports = run("crc", "ports", "--json").json()
    assert ports == {"ports_allocated": 10, "ports_in_use": 1, "ports_available": 9}
    table = run("crc", "ports")
    assert table.code == 0 and "CRC ports" in table.stdout
    today = time.strftime("%Y-%m-%d", time.gmtime())
    metrics = run("crc", "ports", "--from", today, "--to", today, "--json").json()
    assert metrics["crc_ports_usage"][0]["crc_ports_hour_usage"][0]["max_usage"] == 1
    env.end_call(call.id)
    assert run("crc", "ports", "--json").json()["ports_in_use"] == 0


def test_devices_sip_and_h323(env: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROOM_SIP_PASSWORD", "very-secret-sip-pw")
    added = run("devices", "sip", "add", "--auth-name", "conf-room-1", "--domain",
                "sip.company.com", "--user", "conference_room_1", "--password-env",
                "ROOM_SIP_PASSWORD", "--expire", "60", "--json")
    assert added.code == 0, added.stderr
    phone_id = added.json()["id"]
    assert run("devices", "sip", "update", phone_id, "--transport", "TLS").code == 0
    listed = run("devices", "sip", "list", "--json")
    assert [(p["id"], p["transport_protocol"]) for p in listed.json()] == [(phone_id, "TLS")]
    assert run("devices", "sip", "remove", phone_id, "--json").json()["removed"] is True
    assert run("devices", "sip", "list", "--json").json() == []
    v2 = run("devices", "sip", "add", "--v2", "--auth-name", "r2", "--domain", "sip.company.com",
             "--user", "u2", "--password-env", "ROOM_SIP_PASSWORD", "--email", "r2@company.com",
             "--registrar", "10.0.0.1:5061", "--transport", "TLS", "--json").json()
    assert v2["server"] == {"register_server": "10.0.0.1:5061", "transport_protocol": "TLS"}

    h323 = run("devices", "h323", "add", "--name", "Lobby", "--ip", "192.0.2.10", "--json").json()
    assert run("devices", "h323", "update", h323["id"], "--encryption", "yes").code == 0
    assert run("devices", "h323", "list", "--json").json()[0]["encryption"] == "yes"
    assert run("devices", "h323", "remove", h323["id"]).code == 0
    everything = " ".join(o.stdout + o.stderr for o in [added, listed])
    assert "very-secret-sip-pw" not in everything


def test_numbers_commands(env: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    found = run("numbers", "search", "--area-code", "415", "--quantity", "2", "--json").json()
    wanted = [n["phone_number"] for n in found]
    provisioned = run("numbers", "provision", *wanted, "--json").json()
    number_id = provisioned[0]["id"]
    assigned = run("numbers", "assign", number_id, "--to-type", "zoom_room", "--to", "room-9",
                   "--json").json()
    assert assigned["assignee"] == {"type": "zoom_room", "id": "room-9"}
    assert [n["id"] for n in run("numbers", "list", "--unassigned", "--json").json()] == [
        provisioned[1]["id"]]
    assert run("numbers", "unassign", number_id).code == 0
    assert run("numbers", "list", "--inventory", "--json").json()["total"] == 2
    assert len(run("numbers", "list", "--managed", "--json").json()) == 2
    monkeypatch.setenv("PORT_ACCOUNT", "acct-777")
    monkeypatch.setenv("PORT_PIN", "9911")
    order = run("numbers", "port", "create", "+14155559999", "--carrier", "Old Co",
                "--account-number-env", "PORT_ACCOUNT", "--pin-env", "PORT_PIN",
                "--authorized-person", "John Doe", "--address", "123 Main St", "--city", "SF",
                "--state", "CA", "--zip", "94105", "--date", "2024-02-01", "--json")
    assert order.code == 0 and "9911" not in order.stdout and "acct-777" not in order.stdout
    order_id = order.json()["order_id"]
    assert run("numbers", "port", "show", order_id, "--json").json()["status"] == "submitted"
    assert run("numbers", "port", "cancel", order_id).code == 0
    assert run("numbers", "port", "list", "--json").json()[0]["status"] == "cancelled"
    checks = run("numbers", "port", "validate", "+19005550100", "--json").json()
    assert checks[0]["portable"] is False


def test_rooms_commands(env: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROOM_PIN", "424242")
    created = run("rooms", "create", "--extension", "8001", "--subject", "Board", "--layout",
                  "LAYOUT4", "--room-pin-env", "ROOM_PIN", "--timezone", "Europe/Berlin", "--json")
    assert created.code == 0, created.stderr
    room_id = created.json()["id"]
    assert run("rooms", "update", room_id, "--capacity", "50").code == 0
    shown = run("rooms", "show", room_id, "--json")
    assert shown.json()["capacity"] == 50 and shown.json()["room_pin"] == "**********"
    assert "424242" not in shown.stdout
    assert [r["id"] for r in run("rooms", "list", "--search", "board", "--json").json()] == [room_id]
    assert run("rooms", "delete", room_id).code == 0
    assert run("rooms", "list", "--json").json() == []


def test_trunk_commands_and_api_errors(env: EmulatorServer) -> None:
    assert run("trunk", "assign", "--json").json() == {"account_id": "me", "enable": True}
    assert run("trunk", "remove", "--json-body").code == 0
    missing = run("trunk", "remove", "--account", "stranger")
    assert missing.code == 1
    assert missing.stderr.strip().count("\n") == 0
    assert "HTTP 404 (code 2001)" in missing.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("devices", "h323", "add", "--name", "x", "--ip", "not an ip!"), "ip:"),
        (("devices", "h323", "add", "--name", "x", "--ip", "1.2.3.4", "--protocol", "H.999"), "protocol"),
        (("crc", "ports", "--from", "2026-01-01"), "--from and --to go together"),
        (("crc", "ports", "--from", "yesterday", "--to", "today"), "--from: expected a date"),
        (("rooms", "create", "--extension", "12", "--subject", "s"), "extension_number"),
        (("rooms", "create", "--extension", "800", "--subject", "s", "--bitrate", "99999"), "bitrate"),
        (("numbers", "provision", "4155551001"), "phone_numbers.0"),
        (("numbers", "search", "--quantity", "500"), "quantity must be 1..100"),
        (("devices", "sip", "list", "--page-size", "301"), "page_size must be 1..300"),
        (("devices", "sip", "add", "--auth-name", "a", "--domain", "d", "--user", "u",
          "--password-env", "NOT_SET_ANYWHERE"), "NOT_SET_ANYWHERE is not set"),
        (("emulator", "--rate-limit", "turbo=9"), "unknown label 'turbo'"),
        (("emulator", "--port", "70000"), "--port must be 1..65535"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(env: EmulatorServer, args: tuple[str, ...], needle: str) -> None:
    outcome = run(*args)
    assert outcome.code == 2, outcome
    assert needle in outcome.stderr and "\n" not in outcome.stderr.strip()
    assert "Traceback" not in outcome.stderr + outcome.stdout


def test_incomplete_credentials_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRCGW_ZOOM_ACCOUNT_ID", "acct")
    outcome = run("crc", "settings")
    assert outcome.code == 2
    assert "CRCGW_ZOOM_CLIENT_ID, CRCGW_ZOOM_CLIENT_SECRET" in outcome.stderr


def test_real_credentials_are_used_and_never_printed(
    env: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "zoom-client-secret-never-printed"
    monkeypatch.setenv("CRCGW_ZOOM_ACCOUNT_ID", "acct-42")
    monkeypatch.setenv("CRCGW_ZOOM_CLIENT_ID", "client-42")
    monkeypatch.setenv("CRCGW_ZOOM_CLIENT_SECRET", secret)
    ok = run("trunk", "assign", "--json")
    assert ok.json()["account_id"] == "acct-42"
    failing = run("trunk", "assign", "--account", "other")
    assert failing.code == 1
    for outcome in (ok, failing):
        assert secret not in outcome.stdout + outcome.stderr


def test_no_credentials_start_the_embedded_emulator(tmp_path: Path) -> None:
    first = run("devices", "h323", "add", "--name", "Kept", "--ip", "10.9.9.9", "--json")
    assert first.code == 0
    assert "using the embedded emulator" in first.stderr
    db = tmp_path / "data" / "crcgw" / "emulator.sqlite"
    assert db.exists()
    listed = run("devices", "h323", "list", "--json").json()
    assert [d["name"] for d in listed] == ["Kept"]  # the state survives between commands


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_crcgw_emulator_serves_until_stopped(tmp_path: Path) -> None:
    port = _free_port()
    db = tmp_path / "served.sqlite"
    code = (
        "import typer, sys\n"
        "from gateway.cli.commands import emulator\n"
        "app = typer.Typer()\n"
        "@app.callback()\n"
        "def root() -> None: pass\n"
        "emulator.register(app)\n"
        "app()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "emulator", "--port", str(port), "--db", str(db),
         "--ports-allocated", "3"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ},
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                token = httpx.post(f"http://127.0.0.1:{port}/oauth/token", auth=("a", "b"),
                                   data={"grant_type": "account_credentials", "account_id": "x"})
                break
            except httpx.ConnectError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        crc_ports = httpx.get(f"http://127.0.0.1:{port}/v2/accounts/me/crc/ports", headers=bearer)
        assert crc_ports.json()["ports_allocated"] == 3
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=10)
    assert db.exists()
    assert b"Zoom at http://127.0.0.1:" in stderr


def test_dial_in_and_number_blocks(env: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEETING_PASSCODE", "777123")
    dial = run("crc", "dial-in", "12345678910", "--passcode-env", "MEETING_PASSCODE", "--json")
    report = dial.json()
    assert report["sip_uri"].startswith("12345678910.") and "777123" not in dial.stdout
    assert report["h323_ip_addresses"][:2] == ["162.255.37.11", "162.255.36.11"]
    block = run("numbers", "blocks", "create", "--size", "3", "--area-code", "312", "--json").json()
    assert len(block["phone_numbers"]) == 3
    assert [b["id"] for b in run("numbers", "blocks", "list", "--json").json()] == [block["id"]]
    assert run("numbers", "blocks", "release", block["id"]).code == 0
    assert run("numbers", "blocks", "list", "--json").json() == []


def test_real_zoom_seed_paths_are_refused_unsent_naming_the_alternative(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gateway.cli.commands import crc as crc_module

    sent: list[str] = []

    def not_found(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(404, json={"code": 404, "message": "Not found"})

    def fake_client(config: object = None) -> object:
        from api_client import ZoomClient, ZoomCredentials

        return _closing(ZoomClient(ZoomCredentials("a", "c", "s"),
                                   transport=httpx.MockTransport(not_found)))

    monkeypatch.setattr(crc_module, "zoom_client", fake_client)
    outcome = run("crc", "ports")
    assert outcome.code == 1
    assert "GET /metrics/crc" in outcome.stderr and "not in Zoom's published API" in outcome.stderr
    assert sent == []  # refused before any request, the token included


def _closing(client: Any) -> Any:
    from contextlib import contextmanager

    from gateway.cli.commands._api_common import api_errors

    @contextmanager
    def managed() -> Iterator[Any]:
        with api_errors(), client:
            yield client

    return managed()


def test_credentials_from_the_gateway_config_file(
    emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "crcgw.yaml"
    config.write_text(
        "zoom:\n"
        "  account_id: acct-from-file\n"
        "  client_id: client-from-file\n"
        "  client_secret_env: FILE_ZOOM_SECRET\n"
        f"  base_url: {emulator.zoom_url}\n"
        "portsip:\n"
        f"  url: {emulator.portsip_url}\n"
        "  user: admin\n"
        "  password_env: FILE_PBX_PASSWORD\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("FILE_ZOOM_SECRET", "file-secret-value")
    monkeypatch.setenv("FILE_PBX_PASSWORD", "admin")
    assigned = run("trunk", "assign", "--config", str(config), "--json")
    assert assigned.json()["account_id"] == "acct-from-file"
    assert "using the embedded emulator" not in assigned.stderr
    assert run("rooms", "list", "--config", str(config), "--json").json() == []
    monkeypatch.setenv("CRCGW_CONFIG", str(config))
    assert run("crc", "ports", "--json").json()["ports_allocated"] == 10
    monkeypatch.delenv("FILE_ZOOM_SECRET")
    broken = run("crc", "ports")
    assert broken.code == 2 and "FILE_ZOOM_SECRET" in broken.stderr
    assert "file-secret-value" not in broken.stderr
