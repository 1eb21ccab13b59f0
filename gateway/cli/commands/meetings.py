"""``crcgw meeting show|live|participants``, ``crcgw callout`` and ``crcgw zoom-rooms``: the Zoom
calls a room-system operator uses (Zoom's real API, or the embedded emulator).

- ``meeting show MEETING``: ``GET /meetings/{id}`` (passcodes masked unless
  ``--show-passcodes``);
- ``meeting live``: ``GET /metrics/meetings?type=live`` (Resource-intensive);
- ``meeting participants MEETING``: ``GET /metrics/meetings/{id}/participants?type=live`` (Heavy);
  participants whose device is ``H.323/SIP`` are CRC ports in use;
- ``callout MEETING --room NAME``: ``PATCH /live_meetings/{id}/events`` with
  ``participant.invite.room_system_callout``: the meeting calls the configured room by SIP (its
  AOR) or ``--h323`` (its ``h323_ip``); ``--device`` names any target instead;
- ``zoom-rooms list|show|devices``: ``GET /rooms``, ``/rooms/{id}``, ``/rooms/{id}/devices``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import typer

from api_client.models import RoomSystemCallout
from gateway.cli.commands._api_common import (
    ConfigOption,
    JsonOption,
    emit,
    parse_date,
    show_rows,
    zoom_client,
)
from gateway.cli.output import emit_json, fail, print_table

__all__ = ["register", "room_callout_target"]


def room_callout_target(config: Path | None, room: str, h323: bool) -> str:
    """The address a meeting calls for the configured room ``room``: its SIP AOR, or its H.323
    IP with ``h323``; exits 2 with the reason when the configuration does not say."""
    if config is None:
        fail("--room needs --config (the gateway configuration that lists the rooms)")
    from gateway.config import ConfigError, load_config, parse_host_port

    try:
        loaded = load_config(config)
    except ConfigError as exc:
        fail(f"{config}: {exc}")
    found = next((r for r in loaded.rooms if r.name == room), None)
    if found is None:
        names = ", ".join(r.name for r in loaded.rooms) or "none"
        fail(f"--room: no room {room!r} in {config} (rooms: {names})")
    if h323:
        if not found.h323_ip:
            fail(f"--room: room {room!r} has no h323_ip for an H.323 call-out")
        return found.h323_ip
    host, port = parse_host_port(found.registrar)
    return f"{found.user}@{host}" + (f":{port}" if port else "")


def register(app: typer.Typer) -> None:
    meeting = typer.Typer(help="A Zoom meeting: details, live metrics, participants.",
                          no_args_is_help=True)
    app.add_typer(meeting, name="meeting")

    @meeting.command("show")
    def show_meeting(
        meeting_id: str = typer.Argument(..., help="The meeting id."),
        show_passcodes: bool = typer.Option(
            False, "--show-passcodes", help="Print the passcodes instead of masking them."
        ),
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """GET /meetings/{id}: topic, status and the room-system (H.323/SIP) passcode."""
        with zoom_client(config) as zoom:
            found = zoom.meetings.get(meeting_id)

        def secret(value: Any) -> str | None:
            if value is None:
                return None
            return str(value.get_secret_value()) if show_passcodes else "**********"

        report = {
            "id": found.id, "topic": found.topic, "status": found.status, "type": found.type,
            "h323_password": secret(found.h323_password),
            "pstn_password": secret(found.pstn_password),
            "password": secret(found.password), "join_url": found.join_url,
            "dial_in": [n.number for n in (found.settings.global_dial_in_numbers
                                            if found.settings else [])],
        }
        if as_json:
            emit_json(report)
            return
        print_table(f"Meeting {found.id}", ("field", "value"),
                    [(k, "-" if v is None else str(v)) for k, v in report.items()])

    @meeting.command("live")
    def live(
        start: str | None = typer.Option(None, "--from", help="First day (default today, UTC)."),
        end: str | None = typer.Option(None, "--to", help="Last day (default --from)."),
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """GET /metrics/meetings?type=live: meetings in progress (Resource-intensive)."""
        first = parse_date(start, "--from") or dt.datetime.now(dt.UTC).date()
        last = parse_date(end, "--to") or first
        with zoom_client(config) as zoom:
            meetings = zoom.meetings.live(first, last).to_list()
        emit(meetings, as_json, show_rows(
            "Live meetings", ("id", "topic", "participants", "has_sip", "start_time"), meetings))

    @meeting.command("participants")
    def participants(
        meeting_id: str = typer.Argument(..., help="The meeting id (or UUID)."),
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """GET /metrics/meetings/{id}/participants?type=live; H.323/SIP = CRC ports in use."""
        with zoom_client(config) as zoom:
            people = zoom.meetings.live_participants(meeting_id).to_list()
        rooms = sum(person.is_room_system for person in people)
        if as_json:
            emit_json({"meeting_id": meeting_id, "crc_ports_in_use": rooms,
                       "participants": [p.model_dump(mode="json", exclude_none=True)
                                        for p in people]})
            return
        show_rows("Participants", ("user_name", "device", "status", "join_time", "sip_uri"),
                  people)(None)
        typer.echo(f"room systems (CRC ports in use): {rooms}")

    @app.command("callout")
    def callout(
        meeting_id: str = typer.Argument(..., help="The live meeting that calls the room."),
        room: str | None = typer.Option(None, "--room", help="A room of the configuration."),
        device: str | None = typer.Option(
            None, "--device", help="Call this IP address or URI instead of a configured room."
        ),
        h323: bool = typer.Option(False, "--h323", help="Call by H.323 (default SIP)."),
        display_name: str | None = typer.Option(
            None, "--display-name", help="The caller's display name the room shows (<= 64)."
        ),
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """A live meeting calls a room system by SIP or H.323.

        PATCH /live_meetings/{id}/events, participant.invite.room_system_callout. Zoom answers
        202: the call is placed after."""
        if (room is None) == (device is None):
            fail("give exactly one of --room NAME or --device ADDRESS")
        target = device if device is not None else room_callout_target(config, room or "", h323)
        call_type: Literal["h323", "sip"] = "h323" if h323 else "sip"
        try:
            body = RoomSystemCallout.to(target, call_type, from_display_name=display_name)
        except ValueError as exc:
            fail(f"callout: {exc}")
        with zoom_client(config) as zoom:
            zoom.meetings.room_system_callout(meeting_id, body)
        report = {"meeting_id": meeting_id, "room": room, "call_type": call_type,
                  "device_ip": target, "status": "accepted (202)"}
        if as_json:
            emit_json(report)
        else:
            typer.echo(f"meeting {meeting_id} is calling {target} by {call_type.upper()} "
                       "(Zoom accepted the request; the call itself follows)")

    zoom_rooms = typer.Typer(help="Zoom Rooms: list, show, devices.", no_args_is_help=True)
    app.add_typer(zoom_rooms, name="zoom-rooms")

    @zoom_rooms.command("list")
    def list_rooms(
        status: str | None = typer.Option(
            None, help="Offline, Available, InMeeting or UnderConstruction."
        ),
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """GET /rooms."""
        with zoom_client(config) as zoom:
            rooms = zoom.zoom_rooms.list(status=status).to_list()
        emit(rooms, as_json, show_rows("Zoom Rooms", ("id", "name", "status", "location_id"),
                                       rooms))

    @zoom_rooms.command("show")
    def show_room(
        room_id: str = typer.Argument(..., help="The room id."),
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """GET /rooms/{roomId}."""
        with zoom_client(config) as zoom:
            found = zoom.zoom_rooms.get(room_id)
        emit(found, as_json, show_rows("Zoom Room", ("id", "name", "status", "location_id"),
                                       [found]))

    @zoom_rooms.command("devices")
    def devices(
        room_id: str = typer.Argument(..., help="The room id."),
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """GET /rooms/{roomId}/devices."""
        with zoom_client(config) as zoom:
            found = list(zoom.zoom_rooms.devices(room_id))
        emit(found, as_json, show_rows(
            "Devices", ("device_type", "status", "app_version", "ip_address"), found))
