"""Configuration: the example file, every error kind with its line, secrets, environment."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import build_app
from gateway.config import ConfigError, GatewayConfig, check_config, load_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "configs" / "crcgw.example.yaml"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.upper().startswith("CRCGW_"):
            monkeypatch.delenv(key)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "crcgw.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def test_no_file_is_valid_embedded_defaults() -> None:
    config = load_config(None)
    assert config.rooms == [] and config.uses_emulator
    assert config.http.host_port == ("127.0.0.1", 8080)
    assert config.sip.listen == ["udp://127.0.0.1:5060"]
    assert config.store_url.startswith("sqlite:///") and config.store_url.endswith(".sqlite3")
    plan = config.dial_plan()
    assert plan.resolve("87654321012").dial_string() == "87654321012@zoomcrc.com"
    assert plan.resolve("87654321012*4321").dial_string() == "87654321012.4321@zoomcrc.com"


def test_the_example_file_is_valid(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config, issues = check_config(EXAMPLE, secrets=False)
    assert issues == [] and config is not None
    assert [room.name for room in config.rooms] == ["boardroom", "huddle-3"]
    assert config.dial_plan().resolve("00123456789").dial_string() == "162.255.37.11##123456789"
    for name in ("CRCGW_BOARDROOM_PASSWORD", "CRCGW_ZOOM_CLIENT_SECRET",
                 "CRCGW_PORTSIP_PASSWORD", "CRCGW_HTTP_TOKEN"):
        monkeypatch.setenv(name, f"value-of-{name}")
    # every reference resolves except the password file, which exists on a real host only
    _, issues = check_config(EXAMPLE)
    line = 1 + EXAMPLE.read_text().splitlines().index(
        "    password_file: /etc/crcgw/huddle-3.password")
    assert [(i.line, i.location) for i in issues] == [(line, "rooms[1].password_file")]
    assert "cannot read /etc/crcgw/huddle-3.password" in issues[0].message


def test_every_error_kind_is_reported_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, """
        rooms:
          - name: boardroom
            registrar: "pbx.example.com:99999"
            user: "2001"
            password: hunter2
            transport: sctp
            expires: 5
          - name: huddle
            registrar: pbx
        ports:
          pool_size: -1
          lease_tll: 90
        http:
          token: abc
          bind: 127.0.0.1:8080
          bind: 127.0.0.1:8081
        sip:
          listen: [ "sctp://127.0.0.1:5060" ]
          busy_status: 500
        dialplan:
          - pattern: '('
          - pattern: '\\d+'
            transform: '{mid}'
        store:
          url: mysql://db/crcgw
        zoom:
          account_id: abc
        lifecycle:
          on_shutdown: explode
        colour: blue
    """)
    config, issues = check_config(path)
    assert config is None
    got = {(issue.line, issue.location): issue.message for issue in issues}
    expected = {
        (3, "rooms[0].registrar"): "port: must be a number from 1 to 65535",
        (5, "rooms[0].password"): "use password_env: VARIABLE",
        (6, "rooms[0].transport"): "'udp', 'tcp', 'tls' or 'auto'",
        (7, "rooms[0].expires"): "greater than or equal to 30",
        (8, "rooms[1].user"): "required setting is missing",
        (11, "ports.pool_size"): "greater than or equal to 0",
        (12, "ports.lease_tll"): "unknown key",
        (14, "http.token"): "use token_env: VARIABLE",
        (16, "http.bind"): "key appears twice",
        (18, "sip.listen"): "expected udp://HOST:PORT or tcp://HOST:PORT",
        (19, "sip.busy_status"): "486 or 503",
        (21, "dialplan[0]"): "not a valid regular expression",
        (22, "dialplan[1]"): "transform uses {mid} but the pattern has no group",
        (25, "store.url"): "expected sqlite:///PATH or postgresql://",
        (26, "zoom.client_id"): "required setting is missing",
        (29, "lifecycle.on_shutdown"): "'hangup' or 'handover'",
        (30, "colour"): "unknown key",
    }
    for key, fragment in expected.items():
        assert key in got, (key, sorted(got))
        assert fragment in got[key], (key, got[key])
    assert "hunter2" not in " ".join(got.values()) and "abc" not in got[(14, "http.token")]
    assert [issue.line for issue in issues] == sorted(issue.line for issue in issues)


@pytest.mark.parametrize("text,line,fragment", [
    ("rooms: [\n  - name: x\n", 2, "YAML syntax"),
    ("- just\n- a list\n", 1, "must be a mapping"),
    ("http:\n  bind: [1, 2]\n", 2, "valid string"),
    ("rooms:\n  - {name: a, registrar: p, user: u}\n  - {name: a, registrar: p, user: u}\n",
     1, "room name 'a' is used twice"),
    ("http:\n  token_env: A\n  token_file: /x\n", 1, "either token_env or token_file"),
    ("ports:\n  lease_ttl: 10\n  heartbeat_interval: 8\n", 1, "at most half of lease_ttl"),
    ("rooms:\n  - {name: a, registrar: p, user: u, transport: udp, tls_insecure: true}\n", 2,
     "apply to transport tls or auto only"),
    ("dialplan:\n  - {pattern: '(?P<meeting_id>1)', kind: h323}\n", 2, "needs 'host'"),
])
def test_more_error_kinds(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    config, issues = check_config(write(tmp_path, text))
    assert config is None
    assert any(issue.line == line and fragment in issue.message for issue in issues), issues


def test_secrets_come_from_environment_or_file_and_never_show(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_file = tmp_path / "pw"
    secret_file.write_text("from-a-file\n")
    path = write(tmp_path, f"""
        rooms:
          - name: a
            registrar: 127.0.0.1
            user: "100"
            password_file: {secret_file}
        http:
          token_env: GW_TOKEN
    """)
    _, issues = check_config(path)
    assert [(i.line, i.location) for i in issues] == [(7, "http.token_env")]
    assert "GW_TOKEN is not set" in issues[0].message
    monkeypatch.setenv("GW_TOKEN", "from-the-env")
    config = load_config(path)
    token = config.http_token()
    assert token is not None and token.get_secret_value() == "from-the-env"
    password = config.rooms[0].secret("password")
    assert password is not None and password.get_secret_value() == "from-a-file"
    shown = repr(config) + str(config.model_dump()) + config.model_dump_json()
    assert "from-the-env" not in shown and "from-a-file" not in shown


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "http:\n  bind: 127.0.0.1:8080\nports:\n  pool_size: 4\n")
    monkeypatch.setenv("CRCGW_HTTP__BIND", "127.0.0.1:9000")
    monkeypatch.setenv("CRCGW_PORTS__POOL_SIZE", "12")
    monkeypatch.setenv("CRCGW_SIP__LISTEN", '["udp://127.0.0.1:5070", "tcp://127.0.0.1:5070"]')
    config = load_config(path)
    assert config.http.bind == "127.0.0.1:9000" and config.ports.pool_size == 12
    assert config.sip.listen == ["udp://127.0.0.1:5070", "tcp://127.0.0.1:5070"]
    monkeypatch.setenv("CRCGW_PORTS__POOL_SIZE", "many")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    (issue,) = caught.value.issues
    assert issue.line == 4 and "from the environment: CRCGW_PORTS__POOL_SIZE" in issue.message
    monkeypatch.setenv("CRCGW_PORTS__POOL_SIZE", "1")
    monkeypatch.setenv("CRCGW_HTTP__TOKEN", "literal")
    with pytest.raises(ConfigError, match="literal secret is not allowed"):
        load_config(path)


@pytest.mark.parametrize("status", ["486", "503", " 486"])
def test_busy_status_from_the_environment_as_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: str
) -> None:
    assert load_config(write(tmp_path, f"sip:\n  busy_status: {status}\n")).sip.busy_status \
        == int(status)
    monkeypatch.setenv("CRCGW_SIP__BUSY_STATUS", status)
    assert load_config(None).sip.busy_status == int(status)
    monkeypatch.setenv("CRCGW_SIP__BUSY_STATUS", "404")
    with pytest.raises(ConfigError, match="486 or 503.*CRCGW_SIP__BUSY_STATUS"):
        load_config(None)


def test_redirect_access_settings_from_file_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, """
        sip:
          redirect:
            trusted: [192.0.2.0/24, "2001:db8::/32"]
            rate: 1.5
            auth: {user: room, password_env: GW_DIGEST}
        """)
    with pytest.raises(ConfigError, match="GW_DIGEST is not set"):
        load_config(path)
    monkeypatch.setenv("GW_DIGEST", "s3cret-digest")
    monkeypatch.setenv("CRCGW_SIP__REDIRECT__BURST", "3")
    access = load_config(path).sip.redirect
    assert [str(n) for n in access.trusted] == ["192.0.2.0/24", "2001:db8::/32"]
    assert access.rate == 1.5 and access.burst == 3 and access.auth is not None
    assert "s3cret-digest" not in repr(access)
    bad = write(tmp_path, "sip:\n  redirect:\n    trusted: [not-a-network]\n")
    with pytest.raises(ConfigError, match="sip.redirect.trusted"):
        load_config(bad)


def test_defaults_without_a_file_object(tmp_path: Path) -> None:
    config = GatewayConfig(data_dir=tmp_path)
    assert config.lifecycle.on_shutdown == "hangup"
    assert config.owner_id == GatewayConfig(data_dir=tmp_path).owner_id  # stable
    assert config.owner_id != GatewayConfig(data_dir=tmp_path / "other").owner_id
    assert GatewayConfig(instance_id="gw-a").owner_id == "gw-a"


# -- the command line -------------------------------------------------------------------------


def test_cli_config_check(tmp_path: Path) -> None:
    runner = CliRunner()
    app = build_app()
    ok = runner.invoke(app, ["config", "check", str(EXAMPLE), "--no-secrets"])
    assert ok.exit_code == 0 and "valid" in ok.stdout
    bad = write(tmp_path, "ports:\n  pool_size: -1\nhttp:\n  token: hunter2\nextra: 1\n")
    result = runner.invoke(app, ["config", "check", str(bad)])
    assert result.exit_code == 2
    lines = result.stdout.strip().splitlines()
    assert [line.split(":")[1] for line in lines] == ["2", "4", "5"]
    assert "hunter2" not in result.stdout
    as_json = runner.invoke(app, ["config", "check", str(bad), "--json"])
    assert as_json.exit_code == 2
    report = json.loads(as_json.stdout)
    assert report["valid"] is False
    assert [e["location"] for e in report["errors"]] == ["ports.pool_size", "http.token", "extra"]
    missing = runner.invoke(app, ["config", "check", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "cannot read" in missing.stdout
    lookaround = write(tmp_path, "dialplan:\n  - pattern: '(?P<meeting_id>\\d+)(?!#)'\n")
    refused = runner.invoke(app, ["config", "check", str(lookaround)])
    assert refused.exit_code == 2 and ":2:" in refused.stdout
    assert "linear-time matcher (RE2)" in refused.stdout and "lookahead" in refused.stdout


def test_cli_config_show(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(build_app(), ["config", "show", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["http"]["bind"] == "127.0.0.1:8080" and "password" not in json.dumps(data["rooms"])


def test_odd_keys_and_unreadable_environment_values_are_errors_not_crashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, issues = check_config(write(tmp_path, "1: foo\n"))
    assert [(i.line, i.location) for i in issues] == [(1, "1")]
    monkeypatch.setenv("CRCGW_SIP__LISTEN", "not json")
    _, issues = check_config(write(tmp_path, "ports: {}\nsip: {}\n"))
    assert [(i.line, i.location) for i in issues] == [(2, "sip")]
    assert "CRCGW_SIP" in issues[0].message and "JSON" in issues[0].message
