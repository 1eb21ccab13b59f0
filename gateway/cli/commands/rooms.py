"""``crcgw rooms list|create|show|update|delete``: PortSIP PBX conference rooms."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from api_client.models import ConferenceRoomCreate, ConferenceRoomUpdate
from gateway.cli.commands._api_common import (
    ConfigOption,
    JsonOption,
    emit,
    portsip_client,
    show_rows,
    validated,
)
from gateway.cli.output import console, fail

__all__ = ["register"]

COLUMNS = ("id", "extension_number", "subject", "mode", "capacity", "layout")


def _pins(admin_pin_env: str | None, room_pin_env: str | None) -> dict[str, str]:
    pins = {}
    for name, env in (("admin_pin", admin_pin_env), ("room_pin", room_pin_env)):
        if env is None:
            continue
        if env not in os.environ:
            fail(f"environment variable {env} is not set")
        pins[name] = os.environ[env]
    return pins


def _settings(**options: Any) -> dict[str, Any]:
    return {key: value for key, value in options.items() if value is not None}


AdminPinOption = typer.Option(None, help="Environment variable holding the admin PIN (3-6 digits).")
RoomPinOption = typer.Option(None, help="Environment variable holding the room PIN (3-6 digits).")


def register(app: typer.Typer) -> None:
    rooms = typer.Typer(help="PortSIP PBX conference rooms.", no_args_is_help=True)
    app.add_typer(rooms, name="rooms")

    @rooms.command("list")
    def list_rooms(
        filter: str | None = typer.Option(None, help="PortSIP filter, e.g. \"mode eq 'VIDEO'\"."),
        search: str | None = typer.Option(None, help="Free-text search."),
        orderby: str | None = typer.Option(None, help="Sort, e.g. 'subject desc'."),
        skip: int = typer.Option(0, help="Rooms to skip."),
        top: int = typer.Option(100, help="Rooms per request (1..100)."),
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """List conference rooms (every page)."""
        with portsip_client(config) as pbx:
            items = pbx.conference_rooms.list(top, filter=filter, search=search, orderby=orderby,
                                              skip=skip).to_list()
        emit(items, as_json, show_rows("Conference rooms", COLUMNS, items))

    @rooms.command("create")
    def create(
        extension: str = typer.Option(..., help="Extension number (3-64 digits)."),
        subject: str = typer.Option(..., help="Subject (1-64 characters)."),
        mode: str = typer.Option("VIDEO", help="AUDIO or VIDEO."),
        capacity: int = typer.Option(9, help="Participants (1..200)."),
        control: str | None = typer.Option(None, help="FREE or MASTER."),
        width: int | None = typer.Option(None, help="Video width (144..1920)."),
        height: int | None = typer.Option(None, help="Video height (144..1920)."),
        bitrate: int | None = typer.Option(None, help="Video bitrate kbps (128..10240)."),
        framerate: int | None = typer.Option(None, help="Video framerate (5..30)."),
        layout: str | None = typer.Option(None, help="LAYOUT0/1/2/3/4/6/9."),
        language: str | None = typer.Option(None, help="BCP 47 language, e.g. en-US."),
        timezone: str | None = typer.Option(None, help="IANA time zone, e.g. Europe/Berlin."),
        start: str | None = typer.Option(None, help="Scheduled start (RFC 3339)."),
        end: str | None = typer.Option(None, help="Scheduled end (RFC 3339)."),
        admin_pin_env: str | None = AdminPinOption,
        room_pin_env: str | None = RoomPinOption,
        recording: bool | None = typer.Option(None, "--recording/--no-recording",
                                              help="Record from the start."),
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """Create a conference room."""
        body = validated(ConferenceRoomCreate, _settings(
            extension_number=extension, subject=subject, mode=mode, capacity=capacity,
            control=control, width=width, height=height, bitrate=bitrate, framerate=framerate,
            layout=layout, language=language, timezone=timezone, scheduled_start_at=start,
            scheduled_end_at=end, enable_recording=recording,
            **_pins(admin_pin_env, room_pin_env)))
        with portsip_client(config) as pbx:
            created = pbx.conference_rooms.create(body)
        emit(created, as_json, lambda _: console.print(f"created conference room {created.id}"))

    @rooms.command("show")
    def show(room_id: str = typer.Argument(..., help="The room id."),
             as_json: bool = JsonOption, config: Path | None = ConfigOption) -> None:
        """Show one conference room (PINs masked)."""
        with portsip_client(config) as pbx:
            room = pbx.conference_rooms.get(room_id)
        emit(room, as_json, show_rows("Conference room", COLUMNS, [room]))

    @rooms.command("update")
    def update(
        room_id: str = typer.Argument(..., help="The room id."),
        subject: str | None = typer.Option(None, help="Subject (1-64 characters)."),
        capacity: int | None = typer.Option(None, help="Participants (1..200)."),
        control: str | None = typer.Option(None, help="FREE or MASTER."),
        width: int | None = typer.Option(None, help="Video width (144..1920)."),
        height: int | None = typer.Option(None, help="Video height (144..1920)."),
        bitrate: int | None = typer.Option(None, help="Video bitrate kbps (128..10240)."),
        framerate: int | None = typer.Option(None, help="Video framerate (5..30)."),
        layout: str | None = typer.Option(None, help="LAYOUT0/1/2/3/4/6/9."),
        admin_pin_env: str | None = AdminPinOption,
        room_pin_env: str | None = RoomPinOption,
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """Change a conference room (only the options given)."""
        body = validated(ConferenceRoomUpdate, _settings(
            subject=subject, capacity=capacity, control=control, width=width, height=height,
            bitrate=bitrate, framerate=framerate, layout=layout,
            **_pins(admin_pin_env, room_pin_env)))
        with portsip_client(config) as pbx:
            pbx.conference_rooms.update(room_id, body)
        emit({"id": room_id, "updated": True}, as_json,
             lambda _: console.print(f"updated conference room {room_id}"))

    @rooms.command("delete")
    def delete(room_id: str = typer.Argument(..., help="The room id."),
               as_json: bool = JsonOption, config: Path | None = ConfigOption) -> None:
        """Delete a conference room."""
        with portsip_client(config) as pbx:
            pbx.conference_rooms.delete(room_id)
        emit({"id": room_id, "deleted": True}, as_json,
             lambda _: console.print(f"deleted conference room {room_id}"))
