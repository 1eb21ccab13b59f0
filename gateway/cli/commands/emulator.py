"""``crcgw emulator --port N [--db FILE]``: serve the Zoom and PortSIP API emulator."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from api_client.emulator import EmulatorSettings, serve
from api_client.ratelimit import ZOOM_PLAN_RATES
from gateway.cli.output import fail

__all__ = ["register"]


def _limits(pairs: list[str], name: str) -> dict[str, float]:
    limits: dict[str, float] = {}
    for pair in pairs:
        label, _, value = pair.partition("=")
        if label not in ("light", "medium", "heavy", "resource_intensive"):
            fail(f"{name}: unknown label {label!r} (light, medium, heavy, resource_intensive)")
        try:
            limits[label] = float(value)
        except ValueError:
            fail(f"{name}: expected LABEL=NUMBER (got {pair!r})")
        if limits[label] <= 0:
            fail(f"{name}: {label} must be > 0")
    return limits


def _env(name: str) -> str:
    value = os.environ.get(name)
    if value is None:
        fail(f"environment variable {name} is not set")
    return value


def register(app: typer.Typer) -> None:
    @app.command("emulator")
    def emulator(
        port: int = typer.Option(8808, help="TCP port to listen on."),
        host: str = typer.Option("127.0.0.1", help="Address to bind (loopback by default)."),
        db: Annotated[
            Path | None, typer.Option(help="SQLite file for the state (default: memory).")
        ] = None,
        ports_allocated: int = typer.Option(10, help="CRC ports of the emulated account."),
        plan: str | None = typer.Option(
            None, help="Rate-limit like a Zoom plan: free, pro or business (default: no limit)."
        ),
        rate_limit: Annotated[
            list[str] | None,
            typer.Option(help="Requests per second of a label, e.g. light=30 (repeatable)."),
        ] = None,
        daily_limit: Annotated[
            list[str] | None,
            typer.Option(help="Requests per day of a label, e.g. heavy=1000 (repeatable)."),
        ] = None,
        token_ttl: int = typer.Option(3600, help="Lifetime of Zoom access tokens (seconds)."),
        client_id: str | None = typer.Option(
            None, help="Accept only this Zoom client id (default: any credentials)."
        ),
        client_secret_env: str | None = typer.Option(
            None, help="Environment variable holding the only Zoom client secret accepted."
        ),
        portsip_user: str = typer.Option("admin", help="PortSIP user name."),
        portsip_password_env: str | None = typer.Option(
            None, help="Environment variable holding the PortSIP password (default: admin)."
        ),
    ) -> None:
        """Serve the local emulator: Zoom under /v2 (token at /oauth/token, any client
        credentials) and PortSIP under /api (admin/admin). Calls reported to
        POST /v2/_emulator/calls hold CRC ports until DELETE /v2/_emulator/calls/{id}."""
        if not 0 < port < 65536:
            fail(f"--port must be 1..65535 (got {port})")
        rates = _limits(rate_limit or [], "--rate-limit")
        if plan is not None:
            if plan not in ZOOM_PLAN_RATES:
                fail(f"--plan: expected one of {', '.join(ZOOM_PLAN_RATES)} (got {plan!r})")
            rates = {str(k): v for k, v in ZOOM_PLAN_RATES[plan].items()} | rates
        daily = {k: int(v) for k, v in _limits(daily_limit or [], "--daily-limit").items()}
        if (client_id is None) != (client_secret_env is None):
            fail("--client-id and --client-secret-env go together")
        settings = EmulatorSettings(
            ports_allocated=ports_allocated,
            token_ttl=token_ttl,
            rate_limits=rates,
            daily_limits=daily,
            accept_any_credentials=client_id is None,
            client_id=client_id,
            client_secret=_env(client_secret_env) if client_secret_env else None,
            portsip_users={portsip_user: _env(portsip_password_env) if portsip_password_env
                           else "admin"},
        )
        typer.echo(f"crcgw emulator: Zoom at http://{host}:{port}/v2, PortSIP at "
                   f"http://{host}:{port}/api (Ctrl-C stops)", err=True)
        try:
            serve(host, port, db, settings)
        except OSError as exc:
            fail(f"cannot serve on {host}:{port}: {exc.strerror or exc}")
