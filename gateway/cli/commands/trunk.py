"""``crcgw trunk assign|remove``: SIP Connected Audio on a sub account."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import typer

from gateway.cli.commands._api_common import ConfigOption, JsonOption, emit, zoom_client
from gateway.cli.output import console

__all__ = ["register"]

AccountOption = typer.Option(
    None, "--account", help="Sub account id (default: the credentials' account)."
)
JsonBodyOption = typer.Option(
    False, "--json-body", help="Send JSON instead of multipart/form-data (the seed's form)."
)


def register(app: typer.Typer) -> None:
    trunk = typer.Typer(help="SIP trunk (SIP Connected Audio) configuration of a sub account.",
                        no_args_is_help=True)
    app.add_typer(trunk, name="trunk")

    def apply(enable: bool, account: str | None, json_body: bool, as_json: bool,
              config: Path | None) -> None:
        encoding: Literal["multipart", "json"] = "json" if json_body else "multipart"
        with zoom_client(config) as zoom:
            if enable:
                zoom.sip_trunk.assign(account_id=account, encoding=encoding)
            else:
                zoom.sip_trunk.remove(account_id=account, encoding=encoding)
            target = account or zoom.credentials.account_id
        verb = "assigned" if enable else "removed"
        emit({"account_id": target, "enable": enable}, as_json,
             lambda _: console.print(f"SIP trunk configuration {verb} on account {target}"))

    @trunk.command("assign")
    def assign(account: str | None = AccountOption, json_body: bool = JsonBodyOption,
               as_json: bool = JsonOption, config: Path | None = ConfigOption) -> None:
        """Copy the master account's SIP trunk configuration to a sub account (enable=true)."""
        apply(True, account, json_body, as_json, config)

    @trunk.command("remove")
    def remove(account: str | None = AccountOption, json_body: bool = JsonBodyOption,
               as_json: bool = JsonOption, config: Path | None = ConfigOption) -> None:
        """Delete the sub account's assigned SIP trunk configuration (enable=false)."""
        apply(False, account, json_body, as_json, config)
