"""Every endpoint, for both twins, against a mock handler: the exact request sent (method, path,
query, body) and the model decoded from a seed-shaped answer."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from api_client import AsyncPortSipClient, AsyncZoomClient, PortSipClient, ZoomClient
from api_client.models import (
    BillingAddress,
    ConferenceRoomCreate,
    ConferenceRoomUpdate,
    CrcSettingsUpdate,
    H323DeviceCreate,
    H323DeviceUpdate,
    ManagedRoomCreate,
    ManagedRoomUpdate,
    NumberBlockCreate,
    PhoneNumberCreate,
    PhoneNumberUpdate,
    PortingOrderCreate,
    PortingOrderUpdate,
    RoomTemplateCreate,
    RoomTemplateUpdate,
    SipPhoneCreate,
    SipPhoneServer,
    SipPhoneUpdate,
    SipPhoneV2Create,
    SipPhoneV2Update,
    SipTrunkSettings,
)
from tests.api_client.conftest import PORTSIP_BASE, FakeZoom, body_of

NUMBER = {"id": "num_xyz1", "phone_number": "+14155551001", "status": "active", "type": "local",
          "capabilities": ["voice", "sms"]}
ORDER = {"order_id": "port_abc123", "status": "submitted", "phone_numbers": ["+14155559999"],
         "submitted_at": "2024-01-15T10:00:00Z", "estimated_completion": "2024-02-01"}
ROOM = {"id": "NzAwNTUxOTA5NzczMTQ4MTYw", "extension_number": "8001", "mode": "VIDEO",
        "subject": "Board", "capacity": 9, "room_pin": "1234", "width": 1280, "height": 720,
        "layout": "LAYOUT4", "created_at": "2017-07-21T17:32:28Z", "timezone": "Asia/Shanghai"}
PORTING = PortingOrderCreate(
    phone_numbers=["+14155559999"], carrier_name="Previous Carrier", account_number="123456789",
    account_pin="1234", authorized_person="John Doe",
    billing_address=BillingAddress(address="123 Main St", city="San Francisco", state="CA",
                                   zip="94105"),
    requested_port_date=dt.date(2024, 2, 1),
)


@dataclass
class Case:
    name: str
    call: str
    args: tuple[Any, ...]
    method: str
    path: str
    answer: Any = None
    status: int = 200
    body: Any = None
    query: dict[str, str] = field(default_factory=dict)
    check: Callable[[Any], bool] = lambda result: True
    kwargs: dict[str, Any] = field(default_factory=dict)
    multipart: dict[str, str] | None = None


def page(key: str, item: dict[str, Any]) -> dict[str, Any]:
    return {key: [item], "next_page_token": "", "page_size": 30, "total_records": 1}


ZOOM_CASES = [
    Case("crc settings (seed)", "crc.settings", (), "GET", "/v2/accounts/acct-1/crc",
         {"enabled": True, "sip_uri": "meeting_id@zoomcrc.com",
          "h323_ip_addresses": ["162.255.37.11", "162.255.36.11"], "ports_allocated": 10,
          "ports_in_use": 3},
         check=lambda r: r.ports_available == 7 and str(r.h323_ip_addresses[1]) == "162.255.36.11"),
    Case("crc update (seed)", "crc.update_settings", (CrcSettingsUpdate(enabled=False),), "PATCH",
         "/v2/accounts/acct-1/crc", status=204, body={"enabled": False}),
    Case("crc ports (seed)", "crc.ports", (), "GET", "/v2/accounts/acct-1/crc/ports",
         {"ports_allocated": 10, "ports_in_use": 3, "ports_available": 7},
         check=lambda r: r.ports_in_use == 3),
    Case("crc metrics (zoom)", "crc.port_metrics", (dt.date(2026, 11, 1), dt.date(2026, 11, 2)),
         "GET", "/v2/metrics/crc",
         {"from": "2026-11-01", "to": "2026-11-02", "crc_ports_usage": [
             {"date_time": "2026-11-01", "crc_ports_hour_usage": [
                 {"hour": 9, "max_usage": 4, "total_usage": 7}]}]},
         query={"from": "2026-11-01", "to": "2026-11-02"}, check=lambda r: r.peak() == 4),
    Case("participant code (zoom)", "crc.participant_identifier_code", (), "GET",
         "/v2/crc/participant_identifier_code",
         {"participant_identifier_code": "123456789", "expire_in": 600,
          "paid_crc_plan_participant": True},
         kwargs={"expires_in": 600}, query={"expires_in": "600"},
         check=lambda r: r.participant_identifier_code == "123456789"),
    Case("managed rooms list", "managed_rooms.list", (), "GET", "/v2/crc/managed_rooms",
         page("managed_rooms", {"device_id": "mr1", "name": "Board"}),
         check=lambda r: r[0].device_id == "mr1"),
    Case("managed room get", "managed_rooms.get", ("mr1",), "GET", "/v2/crc/managed_rooms/mr1",
         {"device_id": "mr1", "device_password": "x"},
         check=lambda r: r.device_password is not None),
    Case("managed room create", "managed_rooms.create",
         (ManagedRoomCreate(name="Board", manage_type="SIP Proxy", device_type="Cisco Series",
                            device_password="hunter2"),),
         "POST", "/v2/crc/managed_rooms", {"device_id": "mr2"}, status=201,
         body={"name": "Board", "manage_type": "SIP Proxy", "device_type": "Cisco Series",
               "device_password": "hunter2"}),
    Case("managed room update", "managed_rooms.update", ("mr1", ManagedRoomUpdate(name="B2")),
         "PATCH", "/v2/crc/managed_rooms/mr1", status=204, body={"name": "B2"}),
    Case("managed room delete", "managed_rooms.delete", ("mr1",), "DELETE",
         "/v2/crc/managed_rooms/mr1", status=204),
    Case("room templates list", "room_templates.list", (), "GET", "/v2/crc/room_templates",
         page("templates", {"template_id": "t1", "name": "Default"}),
         check=lambda r: r[0].name == "Default"),
    Case("room template get", "room_templates.get", ("t1",), "GET", "/v2/crc/room_templates/t1",
         {"template_id": "t1", "call_rate": 1024}),
    Case("room template create", "room_templates.create",
         (RoomTemplateCreate(name="HD", device_type="Polycom Trio", call_rate=1920),), "POST",
         "/v2/crc/room_templates", {"template_id": "t2"}, status=201,
         body={"name": "HD", "device_type": "Polycom Trio", "call_rate": 1920}),
    Case("room template update", "room_templates.update", ("t1", RoomTemplateUpdate(enable_1080p=True)),
         "PATCH", "/v2/crc/room_templates/t1", status=204, body={"enable_1080p": True}),
    Case("room template delete", "room_templates.delete", ("t1",), "DELETE",
         "/v2/crc/room_templates/t1", status=204),
    Case("room connectors (seed)", "room_connectors.list", (), "GET", "/v2/rooms/connectors",
         page("connectors", {"id": "c1", "status": "online"}), check=lambda r: r[0].status == "online"),
    Case("room connector get (seed)", "room_connectors.get", ("c1",), "GET",
         "/v2/rooms/connectors/c1", {"id": "c1"}),
    Case("sip dialing (seed GET)", "meetings.sip_dialing", ("12345678910",), "GET",
         "/v2/meetings/12345678910/sip_dialing",
         {"sip_dialing": {"uri": "12345678910@zoomcrc.com", "password": "abc123",
                          "ip_addresses": ["162.255.37.11", "162.255.36.11"]}},
         check=lambda r: r.sip_dialing.password.get_secret_value() == "abc123"),
    Case("sip uri (zoom POST)", "meetings.create_sip_uri", ("12345678910",), "POST",
         "/v2/meetings/12345678910/sip_dialing",
         {"sip_dialing": "12345678910.abc@zoomcrc.com", "paid_crc_plan_participant": True,
          "participant_identifier_code": "1234", "expire_in": 7200},
         status=201, kwargs={"passcode": "abc"}, body={"passcode": "abc"},
         check=lambda r: r.expire_in == 7200),
    Case("h323 dialing (seed)", "meetings.h323_dialing", ("12345678910",), "GET",
         "/v2/meetings/12345678910/h323_dialing",
         {"meeting_id": "12345678910", "ip_addresses": ["162.255.37.11"]}),
    Case("invitation (zoom)", "meetings.h323_ip_addresses", ("12345678910",), "GET",
         "/v2/meetings/12345678910/invitation",
         {"invitation": "Join by SIP\n1@zoomcrc.com\n\nJoin by H.323\n162.255.37.11 (US West)\n"
                        "162.255.36.11 (US East)\n\nMeeting ID: 123 4567 8910\n"},
         check=lambda r: r == ["162.255.37.11", "162.255.36.11"]),
    Case("sip phones list", "sip_phones.list", (), "GET", "/v2/sip_phones",
         page("phones", {"id": "p1", "password": "pw"}), kwargs={"page_size": 300},
         query={"page_size": "300"}, check=lambda r: r[0].id == "p1"),
    Case("sip phone get", "sip_phones.get", ("p1",), "GET", "/v2/sip_phones/p1", {"id": "p1"}),
    Case("sip phone create (seed example)", "sip_phones.create",
         (SipPhoneCreate(authorization_name="conf-room-1", domain="sip.company.com",
                         user_name="conference_room_1", password="secure_password",
                         voice_mail="Conference Room 1", registration_expire_time=60),),
         "POST", "/v2/sip_phones", {"id": "p2"}, status=201,
         body={"authorization_name": "conf-room-1", "domain": "sip.company.com",
               "user_name": "conference_room_1", "password": "secure_password",
               "voice_mail": "Conference Room 1", "registration_expire_time": 60}),
    Case("sip phone update", "sip_phones.update", ("p1", SipPhoneUpdate(transport_protocol="TLS")),
         "PATCH", "/v2/sip_phones/p1", status=204, body={"transport_protocol": "TLS"}),
    Case("sip phone delete", "sip_phones.delete", ("p1",), "DELETE", "/v2/sip_phones/p1", status=204),
    Case("sip phones v2 list", "sip_phones_v2.list", (), "GET", "/v2/sip_phones/phones",
         page("phones", {"phone_id": "v1"}), check=lambda r: r[0].phone_id == "v1"),
    Case("sip phone v2 create", "sip_phones_v2.create",
         (SipPhoneV2Create(authorization_name="a", domain="sip.example.com", user_name="u",
                           password="pw", user_email="room@example.com.win",
                           server=SipPhoneServer(register_server="10.0.0.1:5061",
                                                 transport_protocol="TLS")),),
         "POST", "/v2/sip_phones/phones", {"phone_id": "v2"}, status=201,
         body={"authorization_name": "a", "domain": "sip.example.com", "user_name": "u",
               "password": "pw", "user_email": "room@example.com.win",
               "server": {"register_server": "10.0.0.1:5061", "transport_protocol": "TLS"}}),
    Case("sip phone v2 update", "sip_phones_v2.update", ("v1", SipPhoneV2Update(voice_mail="9")),
         "PATCH", "/v2/sip_phones/phones/v1", status=204, body={"voice_mail": "9"}),
    Case("sip phone v2 delete", "sip_phones_v2.delete", ("v1",), "DELETE",
         "/v2/sip_phones/phones/v1", status=204),
    Case("h323 list", "h323_devices.list", (), "GET", "/v2/h323/devices",
         page("devices", {"id": "d1", "protocol": "H.323", "encryption": "auto"})),
    Case("h323 get", "h323_devices.get", ("d1",), "GET", "/v2/h323/devices/d1", {"id": "d1"}),
    Case("h323 create", "h323_devices.create",
         (H323DeviceCreate(name="Lobby", protocol="H.323", ip="192.0.2.10", encryption="yes"),),
         "POST", "/v2/h323/devices", {"id": "d2"}, status=201,
         body={"name": "Lobby", "protocol": "H.323", "ip": "192.0.2.10", "encryption": "yes"}),
    Case("h323 update", "h323_devices.update", ("d1", H323DeviceUpdate(encryption="no")), "PATCH",
         "/v2/h323/devices/d1", status=204, body={"encryption": "no"}),
    Case("h323 delete", "h323_devices.delete", ("d1",), "DELETE", "/v2/h323/devices/d1", status=204),
    Case("trunk multipart (seed)", "sip_trunk.update",
         (SipTrunkSettings(enable=False, show_callout_internal_number=False,
                           show_zoom_provided_callout_countries=0, show_zoom_provided_numbers=2),),
         "PATCH", "/v2/accounts/acct-1/sip_trunk/settings", status=204,
         multipart={"enable": "false", "show_callout_internal_number": "false",
                    "show_zoom_provided_callout_countries": "0", "show_zoom_provided_numbers": "2"}),
    Case("trunk json", "sip_trunk.assign", (), "PATCH", "/v2/accounts/sub-7/sip_trunk/settings",
         status=204, kwargs={"account_id": "sub-7", "encoding": "json"}, body={"enable": True}),
    Case("numbers list", "numbers.list", (), "GET", "/v2/phone/numbers", page("phone_numbers", NUMBER),
         check=lambda r: r[0].phone_number == "+14155551001"),
    Case("number get", "numbers.get", ("num_xyz1",), "GET", "/v2/phone/numbers/num_xyz1", NUMBER),
    Case("number add", "numbers.create", (PhoneNumberCreate(phone_number="+14155551003"),), "POST",
         "/v2/phone/numbers", NUMBER, status=201,
         body={"phone_number": "+14155551003", "type": "local", "capabilities": ["voice"]}),
    Case("number update", "numbers.update", ("num_xyz1", PhoneNumberUpdate(display_name="Lobby")),
         "PATCH", "/v2/phone/numbers/num_xyz1", status=204, body={"display_name": "Lobby"}),
    Case("number release", "numbers.delete", ("num_xyz1",), "DELETE", "/v2/phone/numbers/num_xyz1",
         status=204),
    Case("number search (seed example)", "numbers.search", (), "GET", "/v2/phone/numbers/available",
         {"available_numbers": [{"phone_number": "+14155551001", "country": "US", "state": "CA",
                                 "city": "San Francisco", "type": "local",
                                 "capabilities": ["voice", "sms"], "monthly_cost": 1.00}]},
         kwargs={"state": "CA", "area_code": "415", "quantity": 10},
         query={"country": "US", "state": "CA", "area_code": "415", "quantity": "10"},
         check=lambda r: r[0].monthly_cost == 1.0),
    Case("number provision (seed example)", "numbers.provision",
         (["+14155551001", "+14155551002"],), "POST", "/v2/phone/numbers/provision",
         {"provisioned_numbers": [{"id": "num_xyz1", "phone_number": "+14155551001",
                                   "status": "active"}]},
         kwargs={"site_id": "site_abc"},
         body={"phone_numbers": ["+14155551001", "+14155551002"], "site_id": "site_abc"},
         check=lambda r: r.provisioned_numbers[0].id == "num_xyz1"),
    Case("number inventory", "numbers.inventory", (), "GET", "/v2/phone/numbers/inventory",
         {"total": 3, "assigned": 1, "unassigned": 2, "by_type": {"local": 3}}),
    Case("number assign (seed example)", "numbers.assign", ("num_xyz1", "user", "user_abc123"),
         "POST", "/v2/phone/numbers/num_xyz1/assign",
         {**NUMBER, "assignee": {"type": "user", "id": "user_abc123"}},
         body={"assignee_type": "user", "assignee_id": "user_abc123"},
         check=lambda r: r.assignee.id == "user_abc123"),
    Case("number unassign", "numbers.unassign", ("num_xyz1",), "DELETE",
         "/v2/phone/numbers/num_xyz1/assign", status=204),
    Case("unassigned numbers", "numbers.unassigned", (), "GET", "/v2/phone/numbers/unassigned",
         page("phone_numbers", NUMBER)),
    Case("toll-free list", "numbers.toll_free", (), "GET", "/v2/phone/numbers/toll_free",
         page("phone_numbers", {**NUMBER, "type": "toll_free", "phone_number": "+18005551001"})),
    Case("toll-free search", "numbers.search", (), "GET", "/v2/phone/numbers/toll_free/available",
         {"available_numbers": [{"phone_number": "+18005551001", "type": "toll_free"}]},
         kwargs={"toll_free": True}),
    Case("toll-free provision", "numbers.provision", (["+18005551001"],), "POST",
         "/v2/phone/numbers/toll_free", {"provisioned_numbers": []}, kwargs={"toll_free": True},
         body={"phone_numbers": ["+18005551001"]}),
    Case("number management (zoom)", "numbers.managed", (), "GET", "/v2/number_management/numbers",
         {"numbers": [{"number": "+14155551001", "number_type": "Toll"}], "next_page_token": ""},
         kwargs={"page_size": 200, "number_type": "Toll"},
         query={"page_size": "200", "number_type": "Toll"}),
    Case("porting list", "porting.list", (), "GET", "/v2/phone/porting/orders", page("orders", ORDER),
         check=lambda r: r[0].status == "submitted"),
    Case("porting create (seed example)", "porting.create", (PORTING,), "POST",
         "/v2/phone/porting/orders", ORDER, status=201,
         body={"phone_numbers": ["+14155559999"], "carrier_name": "Previous Carrier",
               "account_number": "123456789", "account_pin": "1234",
               "authorized_person": "John Doe",
               "billing_address": {"address": "123 Main St", "city": "San Francisco",
                                   "state": "CA", "zip": "94105"},
               "requested_port_date": "2024-02-01"}),
    Case("porting get", "porting.get", ("port_abc123",), "GET",
         "/v2/phone/porting/orders/port_abc123", ORDER),
    Case("porting update", "porting.update",
         ("port_abc123", PortingOrderUpdate(requested_port_date=dt.date(2024, 3, 1))), "PATCH",
         "/v2/phone/porting/orders/port_abc123", status=204, body={"requested_port_date": "2024-03-01"}),
    Case("porting cancel", "porting.cancel", ("port_abc123",), "DELETE",
         "/v2/phone/porting/orders/port_abc123", status=204),
    Case("porting validate", "porting.validate", (["+14155559999"],), "POST",
         "/v2/phone/porting/validate",
         {"results": [{"phone_number": "+14155559999", "portable": True}]},
         body={"phone_numbers": ["+14155559999"]}, check=lambda r: r.results[0].portable),
    Case("number blocks list", "number_blocks.list", (), "GET", "/v2/phone/number_blocks",
         page("number_blocks", {"id": "b1", "size": 10})),
    Case("number block create", "number_blocks.create",
         (NumberBlockCreate(country="US", size=10, area_code="212"),), "POST",
         "/v2/phone/number_blocks", {"id": "b2", "size": 10}, status=201,
         body={"country": "US", "size": 10, "area_code": "212", "type": "local"}),
    Case("number block release", "number_blocks.delete", ("b1",), "DELETE",
         "/v2/phone/number_blocks/b1", status=204),
    Case("emulator start call", "emulator.start_call", ("dev-1", "12345678910"), "POST",
         "/v2/_emulator/calls", {"id": "call_1", "started_at": "2026-11-23T07:00:00Z"}, status=201,
         body={"device_id": "dev-1", "meeting_id": "12345678910", "protocol": "SIP"}),
    Case("emulator end call", "emulator.end_call", ("call_1",), "DELETE",
         "/v2/_emulator/calls/call_1", status=204),
]

PORTSIP_CASES = [
    Case("rooms list", "conference_rooms.list", (), "GET", "/api/conference_rooms",
         {"count": 1, "items": [ROOM]}, kwargs={"search": "Board", "filter": "mode eq 'VIDEO'",
                                                "orderby": "subject desc", "page_size": 50},
         query={"search": "Board", "filter": "mode eq 'VIDEO'", "orderby": "subject desc",
                "skip": "0", "top": "50"},
         check=lambda r: r[0].room_pin.get_secret_value() == "1234"),
    Case("room create", "conference_rooms.create",
         (ConferenceRoomCreate(extension_number="8001", mode="VIDEO", subject="Board",
                               room_pin="1234", width=1920, height=1080, bitrate=2048,
                               framerate=30, layout="LAYOUT9", timezone="Europe/Berlin",
                               language="de-DE"),),
         "POST", "/api/conference_rooms", {"id": "r1"}, status=201,
         body={"extension_number": "8001", "mode": "VIDEO", "subject": "Board", "capacity": 9,
               "room_pin": "1234", "width": 1920, "height": 1080, "bitrate": 2048,
               "framerate": 30, "layout": "LAYOUT9", "timezone": "Europe/Berlin",
               "language": "de-DE"}),
    Case("room get", "conference_rooms.get", ("r1",), "GET", "/api/conference_rooms/r1", ROOM),
    Case("room update (POST)", "conference_rooms.update", ("r1", ConferenceRoomUpdate(capacity=50)),
         "POST", "/api/conference_rooms/r1", status=200, body={"capacity": 50}),
    Case("room delete (POST destroy)", "conference_rooms.delete", ("r1",), "POST",
         "/api/conference_rooms/r1/destroy", status=200),
]


def _resolve(api: Any, dotted: str) -> Any:
    target = api
    for part in dotted.split("."):
        target = getattr(target, part)
    return target


def run_sync(api: Any, case: Case) -> Any:
    result = _resolve(api, case.call)(*case.args, **case.kwargs)
    return result.to_list() if hasattr(result, "to_list") else result


def run_async(api: Any, case: Case) -> Any:
    async def main() -> Any:
        async with api:
            result = _resolve(api, case.call)(*case.args, **case.kwargs)
            if inspect.isawaitable(result):
                return await result
            return await result.to_list()

    return asyncio.run(main())


def check_request(fake: FakeZoom, case: Case) -> None:
    assert len(fake.requests) == 1
    sent = fake.requests[0]
    assert (sent.method, sent.url.path) == (case.method, case.path)
    assert dict(sent.url.params) == case.query or not case.query
    if case.multipart is not None:
        assert sent.headers["content-type"].startswith("multipart/form-data; boundary=")
        text = sent.content.decode()
        for key, value in case.multipart.items():
            assert f'Content-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n' in text
        assert text.count("Content-Disposition") == len(case.multipart)
    elif case.body is not None:
        assert sent.headers["content-type"] == "application/json"
        assert body_of(sent) == case.body
    else:
        assert sent.content == b""
    assert sent.headers["Authorization"].startswith("Bearer ")


def answer_for(case: Case) -> httpx.Response:
    if case.status == 204 or case.answer is None:
        return httpx.Response(case.status)
    return httpx.Response(case.status, json=case.answer)


@pytest.mark.parametrize("twin", ["sync", "async"])
@pytest.mark.parametrize("case", ZOOM_CASES, ids=[c.name for c in ZOOM_CASES])
def test_zoom_endpoint(case: Case, twin: str, fake: FakeZoom, zoom_credentials: Any) -> None:
    fake.on(case.method, case.path, answer_for(case))
    transport = httpx.MockTransport(fake)
    if twin == "sync":
        with ZoomClient(zoom_credentials, transport=transport) as api:
            result = run_sync(api, case)
    else:
        result = run_async(AsyncZoomClient(zoom_credentials, transport=transport), case)
    check_request(fake, case)
    assert case.check(result)


@pytest.mark.parametrize("twin", ["sync", "async"])
@pytest.mark.parametrize("case", PORTSIP_CASES, ids=[c.name for c in PORTSIP_CASES])
def test_portsip_endpoint(case: Case, twin: str, fake: FakeZoom) -> None:
    from api_client import PortSipCredentials

    creds = PortSipCredentials("admin", "admin", base_url=PORTSIP_BASE)
    fake.on(case.method, case.path, answer_for(case))
    transport = httpx.MockTransport(fake)
    if twin == "sync":
        with PortSipClient(creds, transport=transport) as api:
            result = run_sync(api, case)
    else:
        result = run_async(AsyncPortSipClient(creds, transport=transport), case)
    check_request(fake, case)
    assert case.check(result)


def test_token_pages_are_walked_to_the_end(fake: FakeZoom, zoom_credentials: Any) -> None:
    def pages(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("next_page_token", "")
        index = int(token or 0)
        nxt = str(index + 1) if index < 4 else ""
        return httpx.Response(200, json={"phones": [{"id": f"p{index}a"}, {"id": f"p{index}b"}],
                                         "next_page_token": nxt})

    fake.on("GET", "/v2/sip_phones", pages)
    with ZoomClient(zoom_credentials, transport=httpx.MockTransport(fake)) as api:
        ids = [phone.id for phone in api.sip_phones.list(page_size=2)]
        assert len(ids) == 10 and ids[-1] == "p4b"
        assert len(api.sip_phones.list(page_size=2).to_list(limit=3)) == 3
    tokens = [r.url.params.get("next_page_token") for r in fake.requests[:5]]
    assert tokens == [None, "1", "2", "3", "4"]
    assert all(r.url.params["page_size"] == "2" for r in fake.requests)
    assert len(fake.requests) == 5 + 2  # the limited walk stopped after two pages


def test_skip_top_pages_are_walked_to_the_count(fake: FakeZoom) -> None:
    from api_client import PortSipCredentials

    rooms = [{**ROOM, "id": f"r{i}", "extension_number": f"{8000 + i}"} for i in range(7)]

    def pages(request: httpx.Request) -> httpx.Response:
        skip, top = int(request.url.params["skip"]), int(request.url.params["top"])
        return httpx.Response(200, json={"count": len(rooms), "items": rooms[skip : skip + top]})

    fake.on("GET", "/api/conference_rooms", pages)
    creds = PortSipCredentials("admin", "admin", base_url=PORTSIP_BASE)
    with PortSipClient(creds, transport=httpx.MockTransport(fake)) as pbx:
        got = [room.id for room in pbx.conference_rooms.list(page_size=3)]
    assert got == [f"r{i}" for i in range(7)]
    assert [r.url.params["skip"] for r in fake.requests] == ["0", "3", "6"]


def test_async_pager_fetches_only_the_pages_it_needs(fake: FakeZoom, zoom_credentials: Any) -> None:
    def pages(request: httpx.Request) -> httpx.Response:
        index = int(request.url.params.get("next_page_token") or 0)
        return httpx.Response(200, json={"devices": [{"id": f"d{index}{j}"} for j in range(3)],
                                         "next_page_token": str(index + 1)})  # endless

    fake.on("GET", "/v2/h323/devices", pages)

    async def main() -> list[str]:
        async with AsyncZoomClient(zoom_credentials, transport=httpx.MockTransport(fake)) as api:
            first = await api.h323_devices.list(page_size=3).to_list(limit=4)
            pages_seen = [p async for p in _take(api.h323_devices.list(page_size=3).pages(), 2)]
            assert len(pages_seen) == 2
            return [d.id for d in first]

    assert asyncio.run(main()) == ["d00", "d01", "d02", "d10"]
    assert len(fake.requests) == 2 + 2


async def _take(pages: Any, count: int) -> Any:
    seen = 0
    async for page in pages:
        yield page
        seen += 1
        if seen == count:
            await pages.aclose()
            return
