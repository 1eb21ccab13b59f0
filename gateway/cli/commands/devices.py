"""``crcgw devices sip|h323 list|add|update|remove``: room devices registered with Zoom."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from api_client.models import (
    H323DeviceCreate,
    H323DeviceUpdate,
    SipPhoneCreate,
    SipPhoneServer,
    SipPhoneUpdate,
    SipPhoneV2Create,
    SipPhoneV2Update,
)
from gateway.cli.commands._api_common import (
    ConfigOption,
    JsonOption,
    emit,
    show_rows,
    validated,
    zoom_client,
)
from gateway.cli.output import console, fail

__all__ = ["register"]

V2Option = typer.Option(
    False, "--v2", help="Use Zoom's newer /sip_phones/phones API instead of /sip_phones."
)
PasswordEnvOption = typer.Option(
    None,
    "--password-env",
    help="Read the SIP password from this environment variable (else it is prompted for).",
)
SIP_COLUMNS = ("id", "authorization_name", "user_name", "domain", "transport_protocol",
               "registration_expire_time")
SIP_V2_COLUMNS = ("phone_id", "authorization_name", "user_name", "domain", "server")
H323_COLUMNS = ("id", "name", "protocol", "ip", "encryption")


def _password(env: str | None, *, required: bool) -> str | None:
    if env:
        if env not in os.environ:
            fail(f"--password-env: environment variable {env} is not set")
        return os.environ[env]
    if required:
        value: str = typer.prompt("SIP password", hide_input=True)
        return value
    return None


def _done(what: str, value: Any, as_json: bool) -> None:
    emit(value, as_json, lambda _: console.print(what))


def _register_sip(devices: typer.Typer) -> None:
    sip = typer.Typer(help="SIP devices (Zoom SIP phones).", no_args_is_help=True)
    devices.add_typer(sip, name="sip")

    @sip.command("list")
    def sip_list(
        as_json: bool = JsonOption, config: Path | None = ConfigOption, v2: bool = V2Option,
        page_size: int = typer.Option(100, help="Items per request (1..300)."),
    ) -> None:
        """List the account's SIP devices (every page)."""
        with zoom_client(config) as zoom:
            resource = zoom.sip_phones_v2 if v2 else zoom.sip_phones
            items = resource.list(page_size=page_size).to_list()
        emit(items, as_json, show_rows("SIP devices", SIP_V2_COLUMNS if v2 else SIP_COLUMNS, items))

    @sip.command("add")
    def sip_add(
        authorization_name: str = typer.Option(..., "--auth-name", help="Authorization name."),
        domain: str = typer.Option(..., help="SIP domain or IP."),
        user_name: str = typer.Option(..., "--user", help="Registration user name."),
        password_env: str | None = PasswordEnvOption,
        voice_mail: str | None = typer.Option(None, help="Voice-mail number or label."),
        expire: int | None = typer.Option(None, help="Registration expiry in minutes (1..127)."),
        proxy: str | None = typer.Option(None, help="Outbound proxy host[:port]."),
        registrar: str | None = typer.Option(None, help="Registrar host[:port]."),
        transport: str | None = typer.Option(None, help="UDP, TCP, TLS or AUTO."),
        email: str | None = typer.Option(None, help="Zoom user e-mail (Zoom requires it)."),
        backup: list[str] | None = BackupOption,
        v2: bool = V2Option,
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """Register a SIP device with Zoom."""
        backups = _backups(backup or [])
        fields = {
            "authorization_name": authorization_name, "domain": domain, "user_name": user_name,
            "password": _password(password_env, required=True), "voice_mail": voice_mail,
            "registration_expire_time": expire,
        }
        with zoom_client(config) as zoom:
            if v2:
                server = {"proxy_server": proxy, "register_server": registrar,
                          "transport_protocol": transport}
                body = validated(SipPhoneV2Create, {
                    **fields, "user_email": email,
                    "server": validated(SipPhoneServer, server) if any(server.values()) else None,
                    **{f"server_{n}": validated(SipPhoneServer, b)
                       for n, b in enumerate(backups, start=2)},
                })
                created: Any = zoom.sip_phones_v2.create(body)
                ident = created.phone_id
            else:
                flat = {f"{key}{n}": value for n, b in enumerate(backups, start=2)
                        for key, value in b.items()}
                body1 = validated(SipPhoneCreate, {
                    **fields, "user_email": email, "proxy_server": proxy,
                    "register_server": registrar, "transport_protocol": transport, **flat,
                })
                created = zoom.sip_phones.create(body1)
                ident = created.id
        _done(f"added SIP device {ident}", created, as_json)

    @sip.command("update")
    def sip_update(
        device_id: str = typer.Argument(..., help="The device id."),
        authorization_name: str | None = typer.Option(
            None, "--auth-name", help="Authorization name."
        ),
        domain: str | None = typer.Option(None, help="SIP domain or IP."),
        user_name: str | None = typer.Option(None, "--user", help="Registration user name."),
        password_env: str | None = PasswordEnvOption,
        voice_mail: str | None = typer.Option(None, help="Voice-mail number or label."),
        expire: int | None = typer.Option(None, help="Registration expiry in minutes (1..127)."),
        transport: str | None = typer.Option(None, help="UDP, TCP, TLS or AUTO."),
        v2: bool = V2Option,
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """Change a SIP device (only the options given)."""
        fields = {
            "authorization_name": authorization_name, "domain": domain, "user_name": user_name,
            "password": _password(password_env, required=False), "voice_mail": voice_mail,
            "registration_expire_time": expire,
        }
        with zoom_client(config) as zoom:
            if v2:
                server = {"transport_protocol": transport} if transport else None
                zoom.sip_phones_v2.update(device_id, validated(SipPhoneV2Update, {
                    **fields, "server": validated(SipPhoneServer, server) if server else None}))
            else:
                zoom.sip_phones.update(device_id, validated(SipPhoneUpdate, {
                    **fields, "transport_protocol": transport}))
        _done(f"updated SIP device {device_id}", {"id": device_id, "updated": True}, as_json)

    @sip.command("remove")
    def sip_remove(
        device_id: str = typer.Argument(..., help="The device id."),
        v2: bool = V2Option,
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """Remove a SIP device."""
        with zoom_client(config) as zoom:
            (zoom.sip_phones_v2 if v2 else zoom.sip_phones).delete(device_id)
        _done(f"removed SIP device {device_id}", {"id": device_id, "removed": True}, as_json)


def _register_h323(devices: typer.Typer) -> None:
    h323 = typer.Typer(help="H.323/SIP room devices (Zoom /h323/devices).", no_args_is_help=True)
    devices.add_typer(h323, name="h323")

    @h323.command("list")
    def h323_list(
        as_json: bool = JsonOption, config: Path | None = ConfigOption,
        page_size: int = typer.Option(100, help="Items per request (1..300)."),
    ) -> None:
        """List the account's H.323/SIP devices (every page)."""
        with zoom_client(config) as zoom:
            items = zoom.h323_devices.list(page_size=page_size).to_list()
        emit(items, as_json, show_rows("H.323 devices", H323_COLUMNS, items))

    @h323.command("add")
    def h323_add(
        name: str = typer.Option(..., help="Device name."),
        ip: str = typer.Option(..., help="Device IP address or host."),
        protocol: str = typer.Option("H.323", help="H.323 or SIP."),
        encryption: str = typer.Option("auto", help="auto, yes or no."),
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """Register an H.323 (or SIP) room device."""
        body = validated(H323DeviceCreate, {"name": name, "ip": ip, "protocol": protocol,
                                            "encryption": encryption})
        with zoom_client(config) as zoom:
            created = zoom.h323_devices.create(body)
        _done(f"added H.323 device {created.id}", created, as_json)

    @h323.command("update")
    def h323_update(
        device_id: str = typer.Argument(..., help="The device id."),
        name: str | None = typer.Option(None, help="Device name."),
        ip: str | None = typer.Option(None, help="Device IP address or host."),
        protocol: str | None = typer.Option(None, help="H.323 or SIP."),
        encryption: str | None = typer.Option(None, help="auto, yes or no."),
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """Change an H.323 device (only the options given)."""
        body = validated(H323DeviceUpdate, {"name": name, "ip": ip, "protocol": protocol,
                                            "encryption": encryption})
        with zoom_client(config) as zoom:
            zoom.h323_devices.update(device_id, body)
        _done(f"updated H.323 device {device_id}", {"id": device_id, "updated": True}, as_json)

    @h323.command("remove")
    def h323_remove(
        device_id: str = typer.Argument(..., help="The device id."),
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """Remove an H.323 device."""
        with zoom_client(config) as zoom:
            zoom.h323_devices.delete(device_id)
        _done(f"removed H.323 device {device_id}", {"id": device_id, "removed": True}, as_json)


BackupOption = typer.Option(
    None, "--backup",
    help="A backup server PROXY,REGISTRAR[,TRANSPORT] (up to two; Zoom's servers 2 and 3).",
)


def _backups(values: list[str]) -> list[dict[str, str | None]]:
    """``--backup PROXY,REGISTRAR[,TRANSPORT]`` options as Zoom's backup server fields."""
    if len(values) > 2:
        fail("--backup: Zoom takes at most two backup servers")
    found: list[dict[str, str | None]] = []
    for value in values:
        parts = [part.strip() for part in value.split(",")]
        if len(parts) not in (2, 3) or not all(parts):
            fail(f"--backup: expected PROXY,REGISTRAR[,TRANSPORT] (got {value!r})")
        found.append({"proxy_server": parts[0], "register_server": parts[1],
                      "transport_protocol": parts[2].upper() if len(parts) == 3 else None})
    return found


def register(app: typer.Typer) -> None:
    devices = typer.Typer(help="Room devices registered with Zoom: SIP and H.323.",
                          no_args_is_help=True)
    app.add_typer(devices, name="devices")
    _register_sip(devices)
    _register_h323(devices)
