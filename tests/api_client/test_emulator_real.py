"""The emulator at Zoom's real paths, over real HTTP: the token endpoint in Zoom's documented
forms (and Zoom's error body for malformed requests), and the CRC management API's shapes."""

from __future__ import annotations

import base64

import httpx
import pytest

from api_client import NotFoundError, ZoomClient
from api_client.emulator import EmulatorServer
from api_client.models import (
    ApiConnectorCreate,
    ApiConnectorUpdate,
    CrcAccountSettingUpdate,
    ManagedRoomCreate,
    RoomTemplateCreate,
)

BASIC = "Basic " + base64.b64encode(b"client-1:secret-1").decode()


def test_token_from_the_query_string_as_zoom_documents_it(emulator: EmulatorServer) -> None:
    answer = httpx.post(
        emulator.base_url + "/oauth/token",
        params={"grant_type": "account_credentials", "account_id": "acct-q"},
        headers={"Authorization": BASIC},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600 and body["scope"]
    crc = httpx.get(emulator.zoom_url + "/accounts/me/crc",
                    headers={"Authorization": "Bearer " + body["access_token"]})
    assert crc.status_code == 200


def test_token_from_a_form_body(emulator: EmulatorServer) -> None:
    answer = httpx.post(
        emulator.base_url + "/oauth/token",
        data={"grant_type": "account_credentials", "account_id": "acct-f"},
        headers={"Authorization": BASIC},
    )
    assert answer.status_code == 200 and answer.json()["access_token"]


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        ({"params": {"grant_type": "account_credentials", "account_id": "a"}}, 401,
         "invalid_client"),  # no Basic header
        ({"params": {"grant_type": "account_credentials", "account_id": "a"},
          "headers": {"Authorization": "Basic !!!not-base64"}}, 401, "invalid_client"),
        ({"params": {"grant_type": "password", "account_id": "a"},
          "headers": {"Authorization": BASIC}}, 400, "unsupported_grant_type"),
        ({"params": {"grant_type": "account_credentials"},
          "headers": {"Authorization": BASIC}}, 400, "invalid_request"),
        ({"json": {"grant_type": "account_credentials", "account_id": "a"},
          "headers": {"Authorization": BASIC}}, 400, "invalid_request"),
        ({"content": b"\xff\xfe\x00garbage", "headers": {"Authorization": BASIC,
                                                         "Content-Type": "text/plain"}},
         400, "invalid_request"),
        ({"content": b"--x\r\nbroken", "headers": {
            "Authorization": BASIC, "Content-Type": "multipart/form-data; boundary=x"}},
         400, "invalid_request"),
    ],
    ids=["no-basic", "bad-basic", "wrong-grant", "no-account", "json-body", "binary-body",
         "broken-multipart"],
)
def test_malformed_token_requests_get_zoom_error_bodies(
    emulator: EmulatorServer, kwargs: dict[str, object], status: int, error: str
) -> None:
    answer = httpx.post(emulator.base_url + "/oauth/token", **kwargs)  # type: ignore[arg-type]
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == error and body["reason"]
    assert "Traceback" not in answer.text


def test_crc_management_api_has_zoom_shapes(emulator: EmulatorServer) -> None:
    with ZoomClient(emulator.zoom_credentials()) as zoom:
        template = zoom.room_templates.create(
            RoomTemplateCreate(name="HD", device_type="Polycom Trio"))
        raw = zoom.http.get("crc/room_templates").json()
        assert [t["template_id"] for t in raw["templates"]] == [template.template_id]
        room = zoom.managed_rooms.create(ManagedRoomCreate(
            name="Huddle", manage_type="SIP Proxy", device_type="Cisco Series",
            template_id=template.template_id, auth_password="sip-pass-1234"))
        assert room.auth_username == f"{room.device_id}@generic-device" and room.server_address
        listed = zoom.http.get("crc/managed_rooms").json()["managed_rooms"]
        assert [r["device_id"] for r in listed] == [room.device_id]
        assert "auth_password" not in listed[0]
        assert zoom.managed_rooms.get(room.device_id).device_management is False
        with pytest.raises(NotFoundError) as missing:
            zoom.managed_rooms.get("nope")
        assert missing.value.code == 60061003

        made = zoom.api_connectors.create(ApiConnectorCreate(
            description="HQ", networks="192.0.2.0/24", log_level="DEBUG"))
        first_key = zoom.api_connectors.private_key(made.connector_id).private_key
        rotated = zoom.api_connectors.rotate_private_key(made.connector_id).private_key
        assert first_key.get_secret_value() != rotated.get_secret_value()
        zoom.api_connectors.update(made.connector_id, ApiConnectorUpdate(log_level="OFF"))
        connector = zoom.api_connectors.get(made.connector_id)
        assert connector.log_level == "OFF" and connector.networks == "192.0.2.0/24"
        assert "private_key" not in (connector.model_extra or {})
        with pytest.raises(NotFoundError) as gone:
            zoom.api_connectors.private_key("nope")
        assert gone.value.code == 60071008

        assert zoom.crc.account_setting().manage_type == "SIP Proxy"
        zoom.crc.update_account_setting(
            CrcAccountSettingUpdate(manage_type="Full Management", enable_1080p=True))
        setting = zoom.crc.account_setting()
        assert setting.manage_type == "Full Management"
        assert setting.model_extra == {"enable_1080p": True}


def test_operator_calls_against_the_emulator(emulator: EmulatorServer) -> None:
    import datetime as dt

    from api_client.emulator import meeting_passcode
    from api_client.models import RoomSystemCallout

    meeting = "85746065432"
    today = dt.datetime.now(dt.UTC).date()
    with ZoomClient(emulator.zoom_credentials()) as zoom:
        got = zoom.meetings.get(meeting)
        assert got.id == int(meeting) and got.status == "waiting"
        assert got.h323_password is not None
        assert got.h323_password.get_secret_value() == meeting_passcode(meeting)
        assert zoom.meetings.live(today, today).to_list() == []
        with pytest.raises(NotFoundError) as not_live:
            zoom.meetings.live_participants(meeting).to_list()
        assert not_live.value.code == 3001
        zoom.emulator.start_call("lobby", meeting, "H.323")
        zoom.meetings.room_system_callout(meeting, RoomSystemCallout.to("room@example.com"))
        live = zoom.meetings.live(today, today).to_list()
        assert [(m.id, m.participants) for m in live] == [(int(meeting), 2)]
        people = zoom.meetings.live_participants(meeting).to_list()
        assert sorted(p.user_name or "" for p in people) == ["lobby", "room@example.com"]
        assert all(p.is_room_system for p in people)
        assert zoom.meetings.get(meeting).status == "started"
        assert zoom.crc.ports().ports_in_use == 2  # the call-out holds a port
        rooms = zoom.zoom_rooms.list().to_list()
        assert [r.name for r in rooms] == ["Boardroom", "Huddle 2"]
        assert zoom.zoom_rooms.get(rooms[0].id).activation_code is not None
        assert zoom.zoom_rooms.devices(rooms[0].id)[0].device_type == "Zoom Rooms Computer"
        bad = zoom.http.get("metrics/meetings", params={"type": "live"})
        assert bad.status_code == 400 and bad.json()["code"] == 300  # from/to are required
        assert zoom.room_connectors.list().to_list()  # the seed's /rooms/connectors still works
