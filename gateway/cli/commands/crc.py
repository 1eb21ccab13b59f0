"""``crcgw crc settings|ports``: the account's Cloud Room Connector settings and port usage."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from api_client import NotFoundError
from api_client.realzoom import is_zoom_base
from gateway.cli.commands._api_common import (
    ConfigOption,
    JsonOption,
    emit,
    parse_date,
    show_rows,
    zoom_client,
)
from gateway.cli.output import console, fail, print_table

__all__ = ["register"]


@contextmanager
def _seed_path_hint(base_url: str) -> Iterator[None]:
    """The seed's live CRC paths are not Zoom's: say what to use instead when Zoom answers 404."""
    try:
        yield
    except NotFoundError as exc:
        if not is_zoom_base(base_url):
            raise
        fail(f"{exc} (api.zoom.us has no live CRC port API: use --from/--to, which reads "
             "GET /metrics/crc, or the gateway's configured pool size)", exit_code=1)


def register(app: typer.Typer) -> None:
    crc = typer.Typer(
        help="Cloud Room Connector: settings and port usage (Zoom, or the embedded emulator).",
        no_args_is_help=True,
    )
    app.add_typer(crc, name="crc")

    @crc.command("settings")
    def settings(as_json: bool = JsonOption, config: Path | None = ConfigOption) -> None:
        """Show CRC settings: enabled, SIP URI, H.323 addresses, ports allocated and in use
        (seed path /accounts/{accountId}/crc, served by the emulator; not a Zoom API)."""
        with zoom_client(config) as zoom, _seed_path_hint(zoom.credentials.base_url):
            value = zoom.crc.settings()

        def show(_: Any) -> None:
            print_table(
                "CRC settings",
                ("enabled", "SIP URI", "H.323 addresses", "allocated", "in use", "available"),
                [(value.enabled, value.sip_uri, ", ".join(map(str, value.h323_ip_addresses)),
                  value.ports_allocated, value.ports_in_use, value.ports_available)],
            )

        emit(value, as_json, show)

    @crc.command("ports")
    def ports(
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
        start: str | None = typer.Option(
            None, "--from", help="With --to: hourly usage from Zoom's GET /metrics/crc (date)."
        ),
        end: str | None = typer.Option(None, "--to", help="Last day of the range (YYYY-MM-DD)."),
    ) -> None:
        """Show CRC port usage: live figures (seed /accounts/{accountId}/crc/ports), or with
        --from/--to the hourly peaks from Zoom's GET /metrics/crc (real Zoom accounts)."""
        first, last = parse_date(start, "--from"), parse_date(end, "--to")
        if (first is None) != (last is None):
            fail("--from and --to go together")
        with zoom_client(config) as zoom:
            if first is not None and last is not None:
                metrics = zoom.crc.port_metrics(first, last)

                def show_metrics(_: Any) -> None:
                    rows = [
                        (str(day.date_time), hour.hour, hour.max_usage, hour.total_usage)
                        for day in metrics.crc_ports_usage
                        for hour in day.crc_ports_hour_usage
                    ]
                    print_table("CRC port usage by hour", ("date", "hour", "peak", "calls"), rows)
                    console.print(f"peak: {metrics.peak()}")

                emit(metrics, as_json, show_metrics)
                return
            with _seed_path_hint(zoom.credentials.base_url):
                usage = zoom.crc.ports()

        def show(_: Any) -> None:
            print_table(
                "CRC ports",
                ("allocated", "in use", "available"),
                [(usage.ports_allocated, usage.ports_in_use, usage.ports_available)],
            )

        emit(usage, as_json, show)

    @crc.command("account-setting")
    def account_setting(as_json: bool = JsonOption, config: Path | None = ConfigOption) -> None:
        """Zoom's GET /crc/managed_rooms/account_setting: device management defaults."""
        with zoom_client(config) as zoom:
            value = zoom.crc.account_setting()
        emit(value, as_json, show_rows(
            "CRC account setting", ("account_id", "device_management", "manage_type"), [value]))

    @crc.command("connectors")
    def connectors(as_json: bool = JsonOption, config: Path | None = ConfigOption) -> None:
        """Zoom's GET /crc/api_connectors: the account's API connectors (Medium)."""
        with zoom_client(config) as zoom:
            found = zoom.api_connectors.list().to_list()
        emit(found, as_json, show_rows(
            "API connectors", ("id", "description", "status", "networks", "version"), found))

    @crc.command("dial-in")
    def dial_in(
        meeting_id: str = typer.Argument(..., help="The meeting id (9-11 digits)."),
        passcode_env: str | None = typer.Option(
            None, help="Environment variable holding the passcode for Zoom's POST sip_dialing."
        ),
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """How a room joins a meeting: Zoom's SIP URI (POST /meetings/{id}/sip_dialing) and the
        H.323 addresses of its invitation (GET /meetings/{id}/invitation)."""
        passcode = None
        if passcode_env is not None:
            if passcode_env not in os.environ:
                fail(f"environment variable {passcode_env} is not set")
            passcode = os.environ[passcode_env]
        with zoom_client(config) as zoom:
            uri = zoom.meetings.create_sip_uri(meeting_id, passcode)
            addresses = zoom.meetings.h323_ip_addresses(meeting_id)
        report = {"meeting_id": meeting_id, "sip_uri": uri.sip_dialing,
                  "expire_in": uri.expire_in, "h323_ip_addresses": addresses}

        def show(_: Any) -> None:
            print_table(f"Dial-in for meeting {meeting_id}", ("SIP URI", "valid (s)", "H.323"),
                        [(uri.sip_dialing, uri.expire_in, ", ".join(addresses))])

        emit(report, as_json, show)
