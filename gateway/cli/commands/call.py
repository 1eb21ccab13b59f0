"""``crcgw call`` (dial and hang up through a running gateway) and ``crcgw sync-devices``."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from gateway.cli.output import emit_json, fail, print_table

__all__ = ["register"]

app = typer.Typer(
    help="Dial meetings from a running gateway's rooms (through its control API).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

Api = Annotated[
    str,
    typer.Option("--api", envvar="CRCGW_API", help="The gateway's control API base URL."),
]
TokenEnv = Annotated[
    str,
    typer.Option("--token-env", help="Environment variable holding the control API token."),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
DEFAULT_API = "http://127.0.0.1:8080"


def _request(method: str, api: str, path: str, token_env: str | None = None,
             body: dict[str, Any] | None = None) -> Any:
    headers = {}
    if token_env is not None:
        token = os.environ.get(token_env)
        if not token:
            fail(f"--token-env: environment variable {token_env} is not set")
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = httpx.request(method, api.rstrip("/") + path, json=body, headers=headers,
                                 timeout=30)
    except httpx.HTTPError as exc:
        fail(f"the gateway at {api} does not answer: {exc}", 1)
    if response.status_code >= 400:
        try:
            detail = response.json()
        except ValueError:
            detail = {"error": response.text[:200]}
        message = detail.get("error", "")
        fields = detail.get("detail")
        if fields:
            message += ": " + "; ".join(f"{f.get('field')}: {f.get('message')}" for f in fields)
        fail(f"{response.status_code} {message}", 2 if response.status_code == 422 else 1)
    return response.json()


def _show_calls(calls: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        emit_json(calls)
        return
    print_table(None, ("call", "room", "target", "state", "SIP"),
                ((c["call_id"], c["room"], c["target"], c["state"], c.get("sip_code") or "-")
                 for c in calls))


@app.command("start")
def start(
    room: Annotated[str, typer.Option("--room", help="The configured room that dials.")],
    meeting_id: Annotated[
        str | None, typer.Argument(help="Meeting ID (or give --invitation).")
    ] = None,
    passcode_env: Annotated[
        str | None,
        typer.Option("--passcode-env", help="Environment variable holding the passcode."),
    ] = None,
    invitation: Annotated[
        Path | None, typer.Option("--invitation", help="A file with the invitation text.")
    ] = None,
    host: Annotated[str | None, typer.Option("--host", help="CRC host (SIP).")] = None,
    api: Api = DEFAULT_API,
    token_env: TokenEnv = "CRCGW_TOKEN",
    as_json: Json = False,
) -> None:
    """Dial a meeting from a room; the passcode goes by IVR after answer."""
    body: dict[str, Any] = {"room": room}
    if meeting_id:
        body["meeting_id"] = meeting_id
    if invitation is not None:
        try:
            body["invitation"] = invitation.read_text(encoding="utf-8")
        except OSError as exc:
            fail(f"--invitation: cannot read {invitation}: {exc.strerror or exc}")
    if "meeting_id" not in body and "invitation" not in body:
        fail("give a MEETING_ID or --invitation FILE")
    if passcode_env:
        if passcode_env not in os.environ:
            fail(f"--passcode-env: environment variable {passcode_env} is not set")
        body["passcode"] = os.environ[passcode_env]
    if host:
        body["host"] = host
    _show_calls([_request("POST", api, "/calls", token_env, body)], as_json)


@app.command("list")
def list_calls(api: Api = DEFAULT_API, as_json: Json = False) -> None:
    """The calls in progress."""
    _show_calls(_request("GET", api, "/calls")["calls"], as_json)


@app.command("hangup")
def hangup(
    call_id: Annotated[str, typer.Argument(help="The call to hang up.")],
    api: Api = DEFAULT_API,
    token_env: TokenEnv = "CRCGW_TOKEN",
    as_json: Json = False,
) -> None:
    """Hang up a call; its CRC port is released."""
    _show_calls([_request("DELETE", api, f"/calls/{call_id}", token_env)], as_json)


def sync_devices_command(
    config: Annotated[Path, typer.Option("--config", "-c", help="The gateway's YAML config.")],
    as_json: Json = False,
) -> None:
    """Register the configured rooms with Zoom as SIP phones and H.323 devices."""
    from api_client import ApiError, AsyncZoomClient
    from api_client.clients import ZoomCredentials
    from gateway.config import ConfigError, load_config
    from gateway.devices import sync_devices

    try:
        settings = load_config(config)
    except ConfigError as exc:
        fail(str(exc))
    if settings.zoom is None:
        fail("zoom: the configuration has no Zoom account to register devices with")
    secret = settings.zoom.secret("client_secret")
    if secret is None:
        fail("zoom: set client_secret_env or client_secret_file")
    passwords: dict[str, str] = {}
    for room in settings.rooms:
        value = room.secret("password")
        passwords[room.name] = value.get_secret_value() if value else ""
    credentials = ZoomCredentials(settings.zoom.account_id, settings.zoom.client_id,
                                  secret.get_secret_value(), base_url=settings.zoom.base_url)

    async def run() -> list[Any]:
        async with AsyncZoomClient(credentials) as client:
            return await sync_devices(client, settings.rooms, passwords)

    try:
        done = asyncio.run(run())
    except ApiError as exc:
        fail(f"Zoom API: {exc}", 1)
    rows = [{"room": d.room, "kind": d.kind, "action": d.action, "id": d.device_id}
            for d in done]
    if as_json:
        emit_json(rows)
    else:
        print_table("Zoom devices", ("room", "kind", "action", "id"),
                    ((r["room"], r["kind"], r["action"], r["id"]) for r in rows))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="call")
    root.command("sync-devices")(sync_devices_command)
