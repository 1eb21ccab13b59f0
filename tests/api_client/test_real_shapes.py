"""Zoom's documented answers and requests, decoded by both twins through ``httpx.MockTransport``.

The examples are written from Zoom's published API reference (CRC, H.323, SIP phones, Zoom
Phone numbers, Number Management, meeting invitation): keys, nesting and status codes as Zoom
documents them. Beside them: seed-only calls refused unsent when the base URL is api.zoom.us,
and Zoom Phone calls drawing from their own rate-limit buckets.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from api_client import AsyncZoomClient, NotAtZoomError, ZoomClient, ZoomCredentials
from api_client.endpoints import crc as crc_ep
from api_client.endpoints import numbers as numbers_ep
from api_client.models import (
    ApiConnectorCreate,
    CrcAccountSettingUpdate,
    H323DeviceCreate,
    H323DeviceUpdate,
    ManagedRoomCreate,
    RoomSystemCallout,
    RoomTemplateCreate,
    SipPhoneCreate,
    SipPhoneServer,
    SipPhoneUpdate,
    SipPhoneV2Create,
)
from api_client.ratelimit import RateLabel, RateLimiter
from tests.api_client.conftest import FakeZoom
from tests.api_client.test_endpoints_mock import (
    Case,
    answer_for,
    check_request,
    run_async,
    run_sync,
)

MANAGED_ROOM = {
    "device_id": "aBcDeFgHiJ",
    "name": "Boardroom",
    "device_management": True,
    "manage_type": "Full Management",
    "device_type": "Polycom Trio",
    "serial_number": "8L1234567890",
    "ip_address": "192.0.2.40",
}
MANAGED_ROOM_DETAIL = {
    **MANAGED_ROOM,
    "connector_id": "conn-1",
    "create_time": "2025-06-01T09:00:00Z",
    "dynamic_ip_address": "Configured",
    "firmware_version": "9.1.2",
    "connection_status": "connected",
    "provisioning_status": "provisioned",
    "sip_status": "registered",
    "call_status": "InMeeting",
    "call_rate": 1920,
    "enable_1080p": True,  # one of the provisioning switches: kept as an extra field
}
CONNECTOR = {"id": "conn-1", "description": "HQ", "status": "online",
             "networks": "192.0.2.0/24,198.51.100.0/24", "enable_automatic_update": True,
             "version": "1.4.0"}
OLD_PHONE = {
    "id": "p-1", "authorization_name": "room-1", "domain": "sip.example.com",
    "user_name": "room1", "user_email": "room1@example.com", "voice_mail": "100",
    "registration_expire_time": 60,
    "proxy_server": "192.0.2.10", "proxy_server2": "192.0.2.11", "proxy_server3": "192.0.2.12",
    "register_server": "192.0.2.10", "register_server2": "192.0.2.11",
    "register_server3": "192.0.2.12",
    "transport_protocol": "UDP", "transport_protocol2": "TLS", "transport_protocol3": "AUTO",
}
NEW_PHONE = {
    "phone_id": "np-1", "authorization_name": "room-2", "domain": "sip.example.com",
    "user_name": "room2", "user_email": "room2@example.com", "registration_expire_time": 127,
    "server": {"proxy_server": "192.0.2.10", "register_server": "192.0.2.10",
               "transport_protocol": "UDP"},
    "server_2": {"proxy_server": "192.0.2.11", "register_server": "192.0.2.11",
                 "transport_protocol": "TCP"},
    "server_3": {"proxy_server": "192.0.2.12", "register_server": "192.0.2.12",
                 "transport_protocol": "SCTP"},  # a transport the client does not know
}
PHONE_NUMBERS = {
    "next_page_token": "", "page_size": 30, "total_records": 3,
    "phone_numbers": [
        {"id": "n-1", "number": "+12055550100", "display_name": "Sales",
         "number_type": "toll", "capability": ["incoming", "outgoing"], "status": "normal",
         "source": "internal", "location": "San Jose, CA",
         "carrier": {"code": 1, "name": "Bandwidth"},
         "site": {"id": "s-1", "name": "Main"},
         "assignee": {"id": "cq-1", "name": "Support queue", "extension_number": 8001,
                      "type": "callQueue"}},
        {"id": "n-2", "number": "+12055550101", "number_type": "toll",
         "capability": ["incoming"], "status": "normal",
         "assignee": {"id": "ca-1", "name": "Lobby phone", "extension_number": 8002,
                      "type": "commonArea"},
         "sip_group": {"id": "g-1", "display_name": "Trunk A"}},
        {"id": "n-3", "number": "+12055550102", "number_type": "tollfree",
         "capability": ["outgoing", "sms"], "status": "pending", "source": "external",
         "emergency_address": {"country": "US", "address_line1": "1 Main St"}},
    ],
}
MANAGED_NUMBERS = {
    "next_page_token": "", "total_records": 1,
    "numbers": [{"number": "+12055550100", "number_id": "mn-1", "number_type": "Toll",
                 "number_status": "Normal", "capability": ["Incoming", "Outgoing"],
                 "assigned_list": [{"assigned_to_type": "CallQueue", "assigned_to_id": "cq-1",
                                    "assigned_to_name": "Support queue"},
                                   {"assigned_to_type": "SomethingNew"}]}],
}
INVITATION = {
    "invitation": "Jane Doe is inviting you to a scheduled Zoom meeting.\r\n\r\n"
                  "Join by SIP\r\n5550100@zoomcrc.com\r\n\r\nJoin by H.323\r\n"
                  "162.255.37.11 (US West)\r\n162.255.36.11 (US East)\r\n\r\n"
                  "Meeting ID: 555 0100\r\n",
    "sip_links": ["5550100@zoomcrc.com"],
}

SIP_PHONE = SipPhoneCreate(
    authorization_name="room-1", domain="sip.example.com", user_name="room1",
    password="s3cret!", user_email="room1@example.com", voice_mail="100",
    registration_expire_time=90,
    proxy_server="192.0.2.10", register_server="192.0.2.10", transport_protocol="UDP",
    proxy_server2="192.0.2.11", register_server2="192.0.2.11", transport_protocol2="TLS",
)


def page(key: str, *items: dict[str, Any]) -> dict[str, Any]:
    return {key: list(items), "next_page_token": "", "page_size": 10,
            "total_records": len(items)}


REAL_CASES = [
    Case("managed rooms list", "managed_rooms.list", (), "GET", "/v2/crc/managed_rooms",
         page("managed_rooms", MANAGED_ROOM, {**MANAGED_ROOM, "device_id": "x2",
                                              "device_type": "Neat Bar Pro",
                                              "manage_type": "Something New"}),
         check=lambda r: [m.device_id for m in r] == ["aBcDeFgHiJ", "x2"]
         and r[1].device_type == "Neat Bar Pro" and r[0].device_management is True),
    Case("managed room detail", "managed_rooms.get", ("aBcDeFgHiJ",), "GET",
         "/v2/crc/managed_rooms/aBcDeFgHiJ", MANAGED_ROOM_DETAIL,
         check=lambda r: r.sip_status == "registered" and r.call_rate == 1920
         and r.model_extra == {"enable_1080p": True}),
    Case("managed room create 201", "managed_rooms.create",
         (ManagedRoomCreate(name="Huddle", manage_type="SIP Proxy", device_type="Cisco Series",
                            auth_password="sip-pass-1234"),),
         "POST", "/v2/crc/managed_rooms",
         {"device_id": "new-1", "server_address": "sip.zoomcrc.com",
          "auth_username": "new-1@generic-device", "reminder": "Configure the device."},
         status=201,
         body={"name": "Huddle", "manage_type": "SIP Proxy", "device_type": "Cisco Series",
               "auth_password": "sip-pass-1234"},
         check=lambda r: r.device_id == "new-1" and r.auth_username == "new-1@generic-device"),
    Case("room templates list", "room_templates.list", (), "GET", "/v2/crc/room_templates",
         page("templates", {"template_id": "t-1", "name": "HD rooms",
                            "device_type": "Polycom Group Series"}),
         check=lambda r: r[0].template_id == "t-1" and r[0].device_type == "Polycom Group Series"),
    Case("room template create 201", "room_templates.create",
         (RoomTemplateCreate(name="HD rooms", device_type="Polycom Group Series"),),
         "POST", "/v2/crc/room_templates", {"template_id": "t-2"}, status=201,
         body={"name": "HD rooms", "device_type": "Polycom Group Series"},
         check=lambda r: r.template_id == "t-2"),
    Case("api connectors list", "api_connectors.list", (), "GET", "/v2/crc/api_connectors",
         page("api_connectors", CONNECTOR), check=lambda r: r[0].networks.startswith("192.0.2")),
    Case("api connector detail", "api_connectors.get", ("conn-1",), "GET",
         "/v2/crc/api_connectors/conn-1",
         {**CONNECTOR, "log_level": "INFO",
          "managed_rooms": [{"device_id": "aBcDeFgHiJ", "name": "Boardroom"}]},
         check=lambda r: r.log_level == "INFO" and len(r.managed_rooms) == 1),
    Case("api connector create 201", "api_connectors.create",
         (ApiConnectorCreate(description="HQ", networks="192.0.2.0/24", log_level="WARN",
                             enable_automatic_update=True),),
         "POST", "/v2/crc/api_connectors", {"connector_id": "conn-2"}, status=201,
         body={"description": "HQ", "networks": "192.0.2.0/24", "log_level": "WARN",
               "enable_automatic_update": True},
         check=lambda r: r.connector_id == "conn-2"),
    Case("api connector private key", "api_connectors.private_key", ("conn-1",), "GET",
         "/v2/crc/api_connectors/conn-1/private_key", {"private_key": "-----BEGIN..."},
         check=lambda r: "BEGIN" not in repr(r)
         and r.private_key.get_secret_value() == "-----BEGIN..."),
    Case("crc account setting", "crc.account_setting", (), "GET",
         "/v2/crc/managed_rooms/account_setting",
         {"account_id": "acct-1", "device_management": True, "manage_type": "Full Management",
          "enable_1080p": False},
         check=lambda r: r.device_management is True and r.model_extra == {"enable_1080p": False}),
    Case("crc account setting update (multipart)", "crc.update_account_setting",
         (CrcAccountSettingUpdate(device_management=True, enable_1080p=True),), "PATCH",
         "/v2/crc/managed_rooms/account_setting", status=204,
         multipart={"device_management": "true", "enable_1080p": "true"}),
    Case("sip phones list with backups", "sip_phones.list", (), "GET", "/v2/sip_phones",
         {"page_number": 1, "page_size": 30, "total_records": 1, "next_page_token": "",
          "phones": [OLD_PHONE]},
         check=lambda r: r[0].register_server3 == "192.0.2.12"
         and r[0].transport_protocol2 == "TLS"),
    Case("sip phone create with backups", "sip_phones.create", (SIP_PHONE,), "POST",
         "/v2/sip_phones", status=201,
         body={"authorization_name": "room-1", "domain": "sip.example.com",
               "user_name": "room1", "password": "s3cret!", "user_email": "room1@example.com",
               "voice_mail": "100", "registration_expire_time": 90,
               "proxy_server": "192.0.2.10", "register_server": "192.0.2.10",
               "transport_protocol": "UDP", "proxy_server2": "192.0.2.11",
               "register_server2": "192.0.2.11", "transport_protocol2": "TLS"},
         check=lambda r: r.id is None),  # Zoom documents no 201 body
    Case("sip phones (new) list", "sip_phones_v2.list", (), "GET", "/v2/sip_phones/phones",
         {"next_page_token": "", "page_size": 30, "total_records": 1, "phones": [NEW_PHONE]},
         check=lambda r: r[0].server_2.transport_protocol == "TCP"
         and r[0].server_3.transport_protocol == "SCTP"),
    Case("sip phone (new) create", "sip_phones_v2.create",
         (SipPhoneV2Create(authorization_name="room-2", domain="sip.example.com",
                           user_name="room2", password="pw", user_email="room2@example.com",
                           server=SipPhoneServer(proxy_server="192.0.2.10",
                                                 register_server="192.0.2.10"),
                           server_2=SipPhoneServer(register_server="192.0.2.11",
                                                   transport_protocol="TCP")),),
         "POST", "/v2/sip_phones/phones", status=201,
         body={"authorization_name": "room-2", "domain": "sip.example.com",
               "user_name": "room2", "password": "pw", "user_email": "room2@example.com",
               "server": {"proxy_server": "192.0.2.10", "register_server": "192.0.2.10"},
               "server_2": {"register_server": "192.0.2.11", "transport_protocol": "TCP"}}),
    Case("h323 devices list", "h323_devices.list", (), "GET", "/v2/h323/devices",
         {"page_size": 30, "total_records": 2, "next_page_token": "", "devices": [
             {"id": "d-1", "name": "Lobby", "protocol": "H.323", "ip": "192.0.2.60",
              "encryption": "auto"},
             {"id": "d-2", "name": "Lab", "protocol": "WebRTC", "ip": "lab@example.com",
              "encryption": "maybe"}]},
         check=lambda r: r[1].protocol == "WebRTC" and r[1].encryption == "maybe"),
    Case("h323 device create 201", "h323_devices.create",
         (H323DeviceCreate(name="Lobby", protocol="SIP", ip="lobby@example.com",
                           encryption="no"),),
         "POST", "/v2/h323/devices",
         {"id": "d-3", "name": "Lobby", "protocol": "SIP", "ip": "lobby@example.com",
          "encryption": "no"}, status=201,
         body={"name": "Lobby", "protocol": "SIP", "ip": "lobby@example.com",
               "encryption": "no"},
         check=lambda r: r.id == "d-3"),
    Case("zoom phone numbers: call queue, common area", "numbers.list", (), "GET",
         "/v2/phone/numbers", PHONE_NUMBERS,
         check=lambda r: [n.assignee.type if n.assignee else None for n in r]
         == ["callQueue", "commonArea", None]
         and r[0].assignee.extension_number == 8001 and r[0].carrier.name == "Bandwidth"
         and r[2].capability == ["outgoing", "sms"]),
    Case("number management", "numbers.managed", (), "GET", "/v2/number_management/numbers",
         MANAGED_NUMBERS,
         check=lambda r: [a.assigned_to_type for a in r[0].assigned_list]
         == ["CallQueue", "SomethingNew"] and r[0].capability == ["Incoming", "Outgoing"]),
    Case("meeting: room-system and phone passcodes", "meetings.get", ("85746065432",), "GET",
         "/v2/meetings/85746065432",
         {"id": 85746065432, "uuid": "aDYlohsHRtCd4ii1uC2+hA==", "topic": "Weekly",
          "type": 2, "status": "waiting", "password": "aBc123", "h323_password": "123456",
          "pstn_password": "123456", "encrypted_password": "8pEkRweVXPV3Ob",
          "start_url": "https://zoom.us/s/85746065432?zak=SECRET",
          "settings": {"audio": "both", "global_dial_in_numbers": [
              {"city": "New York", "country": "US", "country_name": "US",
               "number": "+1 6465588656", "type": "toll"}]}},
         check=lambda r: r.h323_password.get_secret_value() == "123456"
         and "123456" not in repr(r) and "zak=" not in repr(r)
         and r.settings.global_dial_in_numbers[0].type == "toll"),
    Case("live meetings", "meetings.live", (dt.date(2026, 12, 4), dt.date(2026, 12, 4)), "GET",
         "/v2/metrics/meetings",
         {"from": "2026-12-04", "to": "2026-12-04", "page_count": 1, "page_size": 30,
          "total_records": 1, "next_page_token": "", "meetings": [
              {"uuid": "u1==", "id": 85746065432, "topic": "Weekly", "host": "Jane",
               "email": "jane@example.com", "user_type": "Licensed",
               "start_time": "2026-12-04T03:00:00Z", "duration": "12:34", "participants": 4,
               "has_sip": True, "has_pstn": False}]},
         query={"type": "live", "from": "2026-12-04", "to": "2026-12-04"},
         check=lambda r: r[0].has_sip is True and r[0].duration == "12:34"),
    Case("live participants", "meetings.live_participants", ("85746065432",), "GET",
         "/v2/metrics/meetings/85746065432/participants",
         {"meeting_number": 85746065432, "page_count": 1, "page_size": 30, "total_records": 2,
          "next_page_token": "", "participants": [
              {"id": "p1", "user_id": "16778240", "user_name": "Boardroom",
               "device": "H.323/SIP", "ip_address": "192.0.2.40",
               "join_time": "2026-12-04T03:01:00Z", "status": "in_meeting",
               "sip_uri": "sip:boardroom@example.com",
               "from_sip_uri": "sip:boardroom@example.com"},
              {"id": "p2", "user_name": "Jane", "device": "Mac", "status": "in_waiting_room",
               "audio_call": [{"call_number": "+1555", "call_type": "call-in",
                               "zoom_number": "+1646"}]}]},
         query={"type": "live"},
         check=lambda r: [p.is_room_system for p in r] == [True, False]),
    Case("room-system call-out (SIP)", "meetings.room_system_callout",
         ("85746065432", RoomSystemCallout.to("boardroom@example.com", "sip",
                                              from_display_name="Weekly")),
         "PATCH", "/v2/live_meetings/85746065432/events", status=202,
         body={"method": "participant.invite.room_system_callout",
               "params": {"call_type": "sip", "device_ip": "boardroom@example.com",
                          "sip_headers": {"from_display_name": "Weekly"}}},
         check=lambda r: r is None),
    Case("zoom rooms", "zoom_rooms.list", (), "GET", "/v2/rooms",
         {"page_size": 30, "next_page_token": "", "rooms": [
             {"id": "r-1", "room_id": "qMOLddnySIGGVycz8aX_JQ", "name": "Boardroom",
              "activation_code": "123-456", "status": "InMeeting", "location_id": "l-1",
              "tag_ids": ["t-1"]}]},
         check=lambda r: r[0].status == "InMeeting" and "123-456" not in repr(r[0])),
    Case("zoom room", "zoom_rooms.get", ("r-1",), "GET", "/v2/rooms/r-1",
         {"id": "r-1", "name": "Boardroom", "status": "UnderConstruction"},
         check=lambda r: r.status == "UnderConstruction"),
    Case("zoom room devices", "zoom_rooms.devices", ("r-1",), "GET", "/v2/rooms/r-1/devices",
         {"devices": [{"id": "d1", "room_name": "Boardroom", "device_type": "Zoom Rooms Computer",
                       "status": "Online", "app_version": "6.2.0",
                       "device_mac_addresses": ["02:00:00:00:00:01"]},
                      {"id": "d2", "device_type": "Companion Whiteboard", "status": "Offline"}]},
         check=lambda r: [d.device_type for d in r]
         == ["Zoom Rooms Computer", "Companion Whiteboard"]),
    Case("invitation sip_links", "meetings.invitation", ("5550100",), "GET",
         "/v2/meetings/5550100/invitation", INVITATION,
         check=lambda r: r.sip_links == ["5550100@zoomcrc.com"]
         and r.h323_ip_addresses() == ["162.255.37.11", "162.255.36.11"]),
]


def _client(twin: str, credentials: ZoomCredentials, fake: FakeZoom) -> Any:
    transport = httpx.MockTransport(fake)
    if twin == "sync":
        return ZoomClient(credentials, transport=transport)
    return AsyncZoomClient(credentials, transport=transport)


def _run(twin: str, api: Any, case: Case) -> Any:
    if twin == "sync":
        with api:
            return run_sync(api, case)
    return run_async(api, case)


@pytest.mark.parametrize("twin", ["sync", "async"])
@pytest.mark.parametrize("case", REAL_CASES, ids=[c.name for c in REAL_CASES])
def test_documented_answer_decodes(case: Case, twin: str, fake: FakeZoom) -> None:
    """Against a base URL of api.zoom.us: every real call goes out and its answer decodes."""
    fake.on(case.method, case.path, answer_for(case))
    real = ZoomCredentials("acct-1", "client-1", "secret-1")
    result = _run(twin, _client(twin, real, fake), case)
    check_request(fake, case)
    assert case.check(result)


SEED_ONLY = [
    ("crc.settings", (), "GET /accounts/{accountId}/crc", "account_setting"),
    ("crc.ports", (), "GET /accounts/{accountId}/crc/ports", "/metrics/"),
    ("meetings.sip_dialing", ("5550100",), "GET /meetings/{meetingId}/sip_dialing",
     "POST /meetings/{meetingId}/sip_dialing"),
    ("meetings.h323_dialing", ("5550100",), "GET /meetings/{meetingId}/h323_dialing",
     "h323_password"),
    ("room_connectors.list", (), "GET /rooms/connectors", "/crc/api_connectors"),
    ("sip_phones.get", ("p-1",), "GET /sip_phones/{phoneId}", "search_key"),
    ("h323_devices.get", ("d-1",), "GET /h323/devices/{deviceId}", "list /h323/devices"),
    ("numbers.inventory", (), "GET /phone/numbers/inventory", "GET /phone/numbers"),
    ("numbers.search", (), "GET /phone/numbers/available", "web portal"),
    ("porting.list", (), "GET /phone/porting/orders", "web portal"),
    ("sip_phones.create",
     (SipPhoneCreate(authorization_name="conf-room-1", domain="sip.company.com",
                     user_name="conference_room_1", password="secure_password",
                     voice_mail="Conference Room 1", registration_expire_time=60),),
     "POST /sip_phones", "proxy_server, register_server, user_email"),
    ("sip_phones.update", ("p-1", SipPhoneUpdate(transport_protocol="TLS")),
     "PATCH /sip_phones/{phoneId}", "authorization_name"),
    ("h323_devices.update", ("d-1", H323DeviceUpdate(encryption="no")),
     "PATCH /h323/devices/{deviceId}", "name, protocol, ip"),
]


@pytest.mark.parametrize("twin", ["sync", "async"])
@pytest.mark.parametrize(("call", "args", "endpoint", "hint"), SEED_ONLY,
                         ids=[s[2] for s in SEED_ONLY])
def test_calls_zoom_does_not_serve_are_refused_unsent(
    call: str, args: tuple[Any, ...], endpoint: str, hint: str, twin: str, fake: FakeZoom,
    zoom_credentials: ZoomCredentials,
) -> None:
    real = ZoomCredentials("acct-1", "client-1", "secret-1")
    case = Case(call, call, args, "", "")
    with pytest.raises(NotAtZoomError) as caught:
        _run(twin, _client(twin, real, fake), case)
    assert caught.value.endpoint == endpoint and hint in str(caught.value)
    assert fake.requests == [] and fake.token_requests == []
    # the same call is sent to any other base URL (the emulator, a compatible service)
    method, path_template = endpoint.split(" ", 1)
    sent_path = "/v2" + path_template.format(accountId="acct-1", meetingId="5550100",
                                             phoneId="p-1", deviceId="d-1")
    fake.on(method, sent_path, lambda request: httpx.Response(
        204 if method in ("PATCH", "DELETE") else 200, json={} if method != "PATCH" else None))
    try:
        _run(twin, _client(twin, zoom_credentials, fake), case)
    except Exception:  # noqa: BLE001 - an empty answer may not decode: what matters is the send
        pass
    assert [f"{r.method} {r.url.path}" for r in fake.requests] == [f"{method} {sent_path}"]


def test_a_complete_sip_phone_body_goes_to_zoom() -> None:
    assert SIP_PHONE.zoom_missing() == []
    assert H323DeviceUpdate(name="a", protocol="SIP", ip="a@b.c", encryption="no").zoom_missing() \
        == []


def test_expiry_is_minutes_up_to_127() -> None:
    with pytest.raises(ValueError, match="registration_expire_time"):
        SipPhoneCreate(authorization_name="a", domain="b.example", user_name="c", password="d",
                       registration_expire_time=128)


def test_zoom_phone_calls_use_their_own_buckets() -> None:
    assert numbers_ep.PHONE_NUMBERS.list().label is RateLabel.PHONE_MEDIUM
    assert numbers_ep.PHONE_NUMBERS.get("n-1").label is RateLabel.PHONE_LIGHT
    assert crc_ep.MANAGED_ROOMS.get("d").label is RateLabel.MEDIUM
    assert crc_ep.MANAGED_ROOMS.list().label is RateLabel.LIGHT
    limiter = RateLimiter.for_plan("pro")
    for _ in range(30):  # the whole Light burst of a Pro account
        assert limiter.reserve(RateLabel.LIGHT, 0.0) == 0.0
    assert limiter.reserve(RateLabel.LIGHT, 0.0) > 0  # Light is spent ...
    assert limiter.reserve(RateLabel.PHONE_LIGHT, 0.0) == 0.0  # ... Zoom Phone's is not
    for _ in range(19):
        limiter.reserve(RateLabel.PHONE_LIGHT, 0.0)
    assert limiter.reserve(RateLabel.PHONE_LIGHT, 0.0) == pytest.approx(1 / 20)  # 20/s, not 30


def test_account_setting_update_refuses_nested_values() -> None:
    with pytest.raises(ValueError):
        CrcAccountSettingUpdate.model_validate({"enable_1080p": {"nested": True}}).to_form()


def test_callout_body_bounds() -> None:
    h323 = RoomSystemCallout.to("192.0.2.40", "h323", to_display_name="Room")
    assert h323.to_wire() == {"method": "participant.invite.room_system_callout",
                              "params": {"call_type": "h323", "device_ip": "192.0.2.40",
                                         "h323_headers": {"to_display_name": "Room"}}}
    with pytest.raises(ValueError):
        RoomSystemCallout.to("x", "sip", from_display_name="n" * 65)
    with pytest.raises(ValueError):
        RoomSystemCallout.model_validate({"params": {"call_type": "sip", "device_ip": "x",
                                                     "h323_headers": {}}})
    with pytest.raises(ValueError):
        RoomSystemCallout.model_validate({"params": {"call_type": "sip", "device_ip": "x",
                                                     "sip_headers": {"from_uri": "tel:1"}}})
    with pytest.raises(ValueError):
        RoomSystemCallout.model_validate({"params": {
            "call_type": "sip", "device_ip": "x",
            "sip_headers": {"additional_headers": [{"key": "X-A", "value": "1"}] * 11}}})
    with pytest.raises(ValueError):
        RoomSystemCallout.model_validate({"params": {"call_type": "webrtc", "device_ip": "x"}})
