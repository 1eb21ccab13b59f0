"""The client against the emulator over real HTTP on loopback (both twins)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from api_client import (
    AccountNotFoundError,
    AsyncPortSipClient,
    AsyncZoomClient,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DailyRateLimitError,
    NotFoundError,
    PortSipClient,
    PortSipCredentials,
    SipTrunkPlanMissingError,
    ZoomClient,
)
from api_client.emulator import EmulatorServer, EmulatorSettings, meeting_passcode
from api_client.endpoints.crc import crc_settings
from api_client.models import (
    BillingAddress,
    ConferenceRoomCreate,
    ConferenceRoomUpdate,
    CrcSettingsUpdate,
    H323DeviceCreate,
    H323DeviceUpdate,
    ManagedRoomCreate,
    NumberBlockCreate,
    PortingOrderCreate,
    PortingOrderUpdate,
    RoomTemplateCreate,
    SipPhoneCreate,
    SipPhoneServer,
    SipPhoneUpdate,
    SipPhoneV2Create,
    SipTrunkSettings,
)

MEETING = "12345678910"


def test_port_usage_follows_reported_calls(emulator: EmulatorServer) -> None:
    with ZoomClient(emulator.zoom_credentials()) as zoom:
        zoom.crc.update_settings(CrcSettingsUpdate(ports_allocated=2))
        assert zoom.crc.ports().ports_in_use == 0
        first = zoom.emulator.start_call("room-1", MEETING)
        second = emulator.start_call("room-2", MEETING)  # the Python helper
        usage = zoom.crc.ports()
        assert (usage.ports_allocated, usage.ports_in_use, usage.ports_available) == (2, 2, 0)
        with pytest.raises(ConflictError) as caught:
            zoom.emulator.start_call("room-3")
        assert caught.value.code == 3000
        assert {c.device_id for c in zoom.emulator.calls()} == {"room-1", "room-2"}
        zoom.emulator.end_call(first.id)
        settings = zoom.crc.settings()
        assert (settings.ports_in_use, settings.ports_available) == (1, 1)
        emulator.end_call(second.id)
        assert zoom.crc.ports().ports_in_use == 0
        with pytest.raises(NotFoundError):
            zoom.emulator.end_call(second.id)
        today = dt.datetime.now(dt.UTC).date()
        metrics = zoom.crc.port_metrics(today - dt.timedelta(days=1), today)
        assert metrics.peak() == 2
        assert [day.date_time for day in metrics.crc_ports_usage][-1] == today


def test_crc_settings_and_codes(emulator: EmulatorServer) -> None:
    with ZoomClient(emulator.zoom_credentials()) as zoom:
        settings = zoom.crc.settings()
        assert settings.enabled and settings.ports_allocated == 10
        zoom.crc.update_settings(CrcSettingsUpdate(enabled=False, sip_uri="x@zoomcrc.com"))
        assert zoom.crc.settings().enabled is False
        code = zoom.crc.participant_identifier_code(expires_in=60)
        assert code.expire_in == 60 and code.participant_identifier_code.isdigit()
        with pytest.raises(AccountNotFoundError):
            zoom.request(crc_settings("someone-else"))  # type: ignore[arg-type]


def test_devices_crud_and_paging(emulator: EmulatorServer) -> None:
    with ZoomClient(emulator.zoom_credentials()) as zoom:
        created = [
            zoom.h323_devices.create(H323DeviceCreate(name=f"Room {i}", protocol="H.323",
                                                      ip=f"192.0.2.{i}"))
            for i in range(7)
        ]
        listed = zoom.h323_devices.list(page_size=3).to_list()
        assert [d.id for d in listed] == [d.id for d in created]
        zoom.h323_devices.update(created[0].id, H323DeviceUpdate(encryption="yes"))
        assert zoom.h323_devices.get(created[0].id).encryption == "yes"
        zoom.h323_devices.delete(created[0].id)
        with pytest.raises(NotFoundError):
            zoom.h323_devices.get(created[0].id)

        phone = zoom.sip_phones.create(SipPhoneCreate(
            authorization_name="conf-room-1", domain="sip.company.com",
            user_name="conference_room_1", password="secure_password",
            voice_mail="Conference Room 1", registration_expire_time=60))
        assert phone.password is None  # the emulator does not echo device passwords
        zoom.sip_phones.update(phone.id, SipPhoneUpdate(transport_protocol="TCP"))
        assert zoom.sip_phones.get(phone.id).transport_protocol == "TCP"
        with pytest.raises(ConflictError):
            zoom.sip_phones.create(SipPhoneCreate(authorization_name="conf-room-1",
                                                  domain="d.example", user_name="u", password="p"))
        v2 = zoom.sip_phones_v2.create(SipPhoneV2Create(
            authorization_name="r2", domain="sip.company.com", user_name="u2", password="pw",
            user_email="room2@company.com", server=SipPhoneServer(register_server="192.0.2.9")))
        assert [p.phone_id for p in zoom.sip_phones_v2.list()] == [v2.phone_id]
        assert [p.id for p in zoom.sip_phones.list()] == [phone.id]
        zoom.sip_phones_v2.delete(v2.phone_id)
        zoom.sip_phones.delete(phone.id)
        assert zoom.sip_phones.list().to_list() == []


def test_crc_rooms_templates_connectors(emulator: EmulatorServer) -> None:
    with ZoomClient(emulator.zoom_credentials()) as zoom:
        room = zoom.managed_rooms.create(ManagedRoomCreate(
            name="Board", manage_type="Full Management", device_type="Polycom Trio",
            ip_address="192.0.2.50", device_password="admin-pw"))
        assert zoom.managed_rooms.get(room.id).device_password is None
        template = zoom.room_templates.create(RoomTemplateCreate(name="HD", device_type="Polycom Trio", call_rate=1920))
        assert [t.id for t in zoom.room_templates.list()] == [template.id]
        zoom.room_templates.delete(template.id)
        zoom.managed_rooms.delete(room.id)
        connectors = zoom.room_connectors.list().to_list()
        assert connectors[0].status == "online"
        assert zoom.room_connectors.get(connectors[0].id).ports_allocated == 10


def test_meeting_dial_in_seed_and_zoom_forms(emulator: EmulatorServer) -> None:
    with ZoomClient(emulator.zoom_credentials()) as zoom:
        seed = zoom.meetings.sip_dialing(MEETING)
        assert seed.sip_dialing.uri == f"{MEETING}@zoomcrc.com"
        assert seed.sip_dialing.password is not None
        assert seed.sip_dialing.password.get_secret_value() == meeting_passcode(MEETING)
        uri = zoom.meetings.create_sip_uri(MEETING, passcode="987654")
        assert uri.sip_dialing.startswith(f"{MEETING}.") and uri.expire_in == 7200
        assert "987654" not in uri.sip_dialing and uri.sip_dialing.endswith("@zoomcrc.com")
        assert zoom.meetings.create_sip_uri(MEETING).sip_dialing == f"{MEETING}@zoomcrc.com"
        h323 = zoom.meetings.h323_dialing(MEETING)
        assert str(h323.ip_addresses[0]) == "162.255.37.11"
        assert zoom.meetings.h323_ip_addresses(MEETING) == [str(ip) for ip in h323.ip_addresses]
        with pytest.raises(NotFoundError) as caught:
            zoom.meetings.sip_dialing("42")
        assert caught.value.code == 3001


@pytest.mark.parametrize("encoding", ["multipart", "json"])
def test_sip_trunk_assign_remove_and_typed_errors(emulator: EmulatorServer, encoding: str) -> None:
    with ZoomClient(emulator.zoom_credentials()) as zoom:
        zoom.sip_trunk.assign(encoding=encoding)  # type: ignore[arg-type]
        zoom.sip_trunk.update(SipTrunkSettings(enable=False, show_zoom_provided_numbers=2),
                              encoding=encoding)  # type: ignore[arg-type]
        with pytest.raises(AccountNotFoundError) as missing:
            zoom.sip_trunk.remove(account_id="not-my-sub-account", encoding=encoding)  # type: ignore[arg-type]
        assert missing.value.code == 2001 and missing.value.status_code == 404
        zoom.emulator.configure(sip_trunk_plan=False)
        with pytest.raises(SipTrunkPlanMissingError) as plan:
            zoom.sip_trunk.assign(encoding=encoding)  # type: ignore[arg-type]
        assert plan.value.code == 2100
        assert plan.value.message == "This sub account has no sip trunk plan."


def test_numbers_porting_blocks_toll_free(emulator: EmulatorServer) -> None:
    with ZoomClient(emulator.zoom_credentials()) as zoom:
        found = zoom.numbers.search(state="CA", area_code="415", quantity=3)
        assert [n.city for n in found] == ["San Francisco"] * 3
        provisioned = zoom.numbers.provision([n.phone_number for n in found], site_id="site_abc")
        ids = [n.id for n in provisioned.provisioned_numbers]
        assert len(ids) == 3
        with pytest.raises(ConflictError):
            zoom.numbers.provision([found[0].phone_number])
        assert found[0].phone_number not in [n.phone_number for n in zoom.numbers.search(area_code="415")]
        assigned = zoom.numbers.assign(ids[0], "zoom_room", "room-7")
        assert assigned.assignee is not None and assigned.assignee.type == "zoom_room"
        inventory = zoom.numbers.inventory()
        assert (inventory.total, inventory.assigned, inventory.unassigned) == (3, 1, 2)
        assert {n.id for n in zoom.numbers.unassigned(page_size=1)} == set(ids[1:])
        zoom.numbers.unassign(ids[0])
        with pytest.raises(BadRequestError):
            zoom.numbers.unassign(ids[0])
        managed = zoom.numbers.managed(page_size=2).to_list()
        assert [m.number for m in managed] == [n.phone_number for n in found]
        free = zoom.numbers.search(toll_free=True, quantity=1)
        zoom.numbers.provision([free[0].phone_number], toll_free=True)
        assert [n.type for n in zoom.numbers.toll_free()] == ["toll_free"]
        zoom.numbers.delete(ids[2])
        assert len(zoom.numbers.list().to_list()) == 3

        block = zoom.number_blocks.create(NumberBlockCreate(country="US", size=4, area_code="212"))
        assert len(block.phone_numbers) == 4
        assert zoom.numbers.inventory().total == 7
        zoom.number_blocks.delete(block.id)
        assert zoom.numbers.inventory().total == 3

        check = zoom.porting.validate(["+14155559999", found[0].phone_number, "+19005550100"])
        assert [r.portable for r in check.results] == [True, False, False]
        order = zoom.porting.create(PortingOrderCreate(
            phone_numbers=["+14155559999"], carrier_name="Previous Carrier",
            account_number="123456789", account_pin="1234", authorized_person="John Doe",
            billing_address=BillingAddress(address="123 Main St", city="San Francisco",
                                           state="CA", zip="94105"),
            requested_port_date=dt.date(2024, 2, 1)))
        assert order.status == "submitted" and order.account_pin is None
        zoom.porting.update(order.order_id, PortingOrderUpdate(requested_port_date=dt.date(2024, 3, 1)))
        assert zoom.porting.get(order.order_id).requested_port_date == dt.date(2024, 3, 1)
        zoom.porting.cancel(order.order_id)
        assert [o.status for o in zoom.porting.list()] == ["cancelled"]
        with pytest.raises(ConflictError):
            zoom.porting.cancel(order.order_id)


def test_portsip_rooms_full_surface(emulator: EmulatorServer) -> None:
    with PortSipClient(emulator.portsip_credentials()) as pbx:
        ids = [
            pbx.conference_rooms.create(ConferenceRoomCreate(
                extension_number=f"80{i:02d}", mode="VIDEO" if i % 2 else "AUDIO",
                subject=f"Room {chr(ord('A') + i)}", room_pin="4321")).id
            for i in range(7)
        ]
        assert [r.id for r in pbx.conference_rooms.list(page_size=3)] == ids
        video = pbx.conference_rooms.list(filter="mode eq 'VIDEO'").to_list()
        assert len(video) == 3 and all(r.width == 1280 and r.layout == "LAYOUT0" for r in video)
        assert [r.subject for r in pbx.conference_rooms.list(orderby="subject desc")][0] == "Room G"
        assert [r.id for r in pbx.conference_rooms.list(search="room c")] == [ids[2]]
        assert [r.id for r in pbx.conference_rooms.list(skip=5)] == ids[5:]
        pbx.conference_rooms.update(ids[1], ConferenceRoomUpdate(capacity=200, layout="LAYOUT9"))
        room = pbx.conference_rooms.get(ids[1])
        assert (room.capacity, room.layout, room.control) == (200, "LAYOUT9", "FREE")
        with pytest.raises(ConflictError):
            pbx.conference_rooms.create(ConferenceRoomCreate(extension_number="8000", mode="AUDIO",
                                                             subject="dup"))
        pbx.conference_rooms.delete(ids[0])
        with pytest.raises(NotFoundError) as gone:
            pbx.conference_rooms.get(ids[0])
        assert gone.value.code == "NOT_FOUND"


def test_portsip_wrong_password(emulator: EmulatorServer) -> None:
    creds = PortSipCredentials("admin", "not-admin", base_url=emulator.portsip_url)
    with PortSipClient(creds) as pbx, pytest.raises(AuthenticationError):
        pbx.conference_rooms.list().to_list()


def test_expired_token_gets_code_124_and_the_client_recovers(
    emulator_factory: Callable[..., EmulatorServer],
) -> None:
    server = emulator_factory(settings=EmulatorSettings(token_ttl=1))
    frozen = [0.0]  # the client never thinks its token is due
    with ZoomClient(server.zoom_credentials(), clock=lambda: frozen[0]) as zoom:
        zoom.crc.ports()
        time.sleep(1.1)
        assert zoom.crc.ports().ports_in_use == 0
        assert zoom.auth.token_fetches == 2


def test_emulator_rate_limits_answer_429_and_the_client_waits(emulator: EmulatorServer) -> None:
    with ZoomClient(emulator.zoom_credentials()) as zoom:
        zoom.emulator.configure(rate_limits={"light": 3})
        started = time.monotonic()
        for _ in range(5):
            zoom.crc.ports()
        assert zoom.retries_taken >= 1
        assert time.monotonic() - started >= 0.9  # Retry-After: 1 was honoured
        zoom.emulator.configure(rate_limits={}, daily_limits={"medium": 2})
        zoom.meetings.sip_dialing(MEETING)
        zoom.meetings.sip_dialing(MEETING)
        with pytest.raises(DailyRateLimitError) as caught:
            zoom.meetings.sip_dialing(MEETING)
        tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
        assert caught.value.reset_at == dt.datetime.combine(tomorrow, dt.time(), dt.UTC)
        zoom.crc.ports()  # other labels are unaffected


def test_raw_errors_are_zoom_shaped(emulator: EmulatorServer) -> None:
    anonymous = httpx.get(emulator.zoom_url + "/accounts/me/crc")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == 124
    with ZoomClient(emulator.zoom_credentials()) as zoom:
        bad = zoom.http.post("h323/devices", json={"name": "x", "protocol": "H.999", "ip": "1.2.3.4",
                                                   "extra": 1})
        assert bad.status_code == 400
        body = bad.json()
        assert body["code"] == 300 and {e["field"] for e in body["errors"]} == {"protocol", "extra"}
        assert zoom.http.get("no/such/thing").json() == {"code": 404, "message": "No such endpoint."}
        bad_page = zoom.http.get("h323/devices", params={"page_size": 301})
        assert bad_page.status_code == 400


def test_state_survives_a_restart_in_sqlite(
    tmp_path: Path, emulator_factory: Callable[..., EmulatorServer]
) -> None:
    db = tmp_path / "emulator.sqlite"
    first = emulator_factory(db)
    with ZoomClient(first.zoom_credentials()) as zoom:
        device = zoom.h323_devices.create(H323DeviceCreate(name="Kept", protocol="SIP", ip="10.1.1.1"))
        zoom.emulator.start_call("kept-room")
        zoom.emulator.configure(ports_allocated=5)
    first.stop()
    second = emulator_factory(db)
    with ZoomClient(second.zoom_credentials()) as zoom:
        assert zoom.h323_devices.get(device.id).name == "Kept"
        usage = zoom.crc.ports()
        assert (usage.ports_allocated, usage.ports_in_use) == (5, 1)


def test_async_twin_against_the_emulator(emulator: EmulatorServer) -> None:
    async def main() -> None:
        async with AsyncZoomClient(emulator.zoom_credentials()) as zoom:
            results = await asyncio.gather(*(zoom.crc.ports() for _ in range(20)))
            assert {r.ports_allocated for r in results} == {10}
            assert zoom.auth.token_fetches == 1
            await asyncio.gather(*(
                zoom.h323_devices.create(H323DeviceCreate(name=f"R{i}", protocol="SIP", ip=f"10.0.0.{i}"))
                for i in range(5)
            ))
            names = sorted([d.name async for d in zoom.h323_devices.list(page_size=2)])
            assert names == [f"R{i}" for i in range(5)]
            call = await zoom.emulator.start_call("async-room")
            assert (await zoom.crc.ports()).ports_in_use == 1
            await zoom.emulator.end_call(call.id)
        async with AsyncPortSipClient(emulator.portsip_credentials()) as pbx:
            created = await pbx.conference_rooms.create(ConferenceRoomCreate(
                extension_number="9001", mode="AUDIO", subject="Async"))
            assert (await pbx.conference_rooms.get(created.id)).subject == "Async"
            await pbx.conference_rooms.delete(created.id)
            assert await pbx.conference_rooms.list().to_list() == []

    asyncio.run(main())


def test_remaining_crud_endpoints_against_the_emulator(emulator: EmulatorServer) -> None:
    from api_client.models import (
        ManagedRoomUpdate,
        PhoneNumberCreate,
        PhoneNumberUpdate,
        RoomTemplateUpdate,
        SipPhoneV2Update,
    )

    with ZoomClient(emulator.zoom_credentials()) as zoom:
        room = zoom.managed_rooms.create(ManagedRoomCreate(
            name="Board", manage_type="SIP Proxy", device_type="Lifesize Icon"))
        zoom.managed_rooms.update(room.id, ManagedRoomUpdate(name="Boardroom"))
        assert [r.name for r in zoom.managed_rooms.list()] == ["Boardroom"]
        template = zoom.room_templates.create(RoomTemplateCreate(name="SD", device_type="Dolby", call_rate=768))
        zoom.room_templates.update(template.id, RoomTemplateUpdate(call_rate=2048))
        assert zoom.room_templates.get(template.id).call_rate == 2048
        phone = zoom.sip_phones_v2.create(SipPhoneV2Create(
            authorization_name="r3", domain="sip.company.com", user_name="u3", password="pw",
            user_email="r3@company.com", server=SipPhoneServer(register_server="192.0.2.9")))
        zoom.sip_phones_v2.update(phone.phone_id, SipPhoneV2Update(display_number="+14155550123"))
        assert zoom.sip_phones_v2.get(phone.phone_id).display_number == "+14155550123"
        number = zoom.numbers.create(PhoneNumberCreate(phone_number="+14155550777",
                                                       capabilities=["voice", "sms"]))
        zoom.numbers.update(number.id, PhoneNumberUpdate(display_name="Lobby"))
        fetched = zoom.numbers.get(number.id)
        assert (fetched.display_name, fetched.capabilities) == ("Lobby", ["voice", "sms"])
        with pytest.raises(ConflictError):
            zoom.numbers.create(PhoneNumberCreate(phone_number="+14155550777"))
        block = zoom.number_blocks.create(NumberBlockCreate(country="US", size=2))
        assert [b.id for b in zoom.number_blocks.list()] == [block.id]
        assert zoom.number_blocks.get(block.id).size == 2


def test_async_start_and_call_reporting() -> None:
    async def main() -> tuple[int, int]:
        async with EmulatorServer(settings=EmulatorSettings(ports_allocated=3)) as emu:
            call = await emu.astart_call("room-async", MEETING)
            async with AsyncZoomClient(emu.zoom_credentials()) as zoom:
                during = (await zoom.crc.ports()).ports_in_use
                await emu.aend_call(call.id)
                after = (await zoom.crc.ports()).ports_in_use
        return during, after

    assert asyncio.run(main()) == (1, 0)


def test_emulator_can_insist_on_credentials(
    emulator_factory: Callable[..., EmulatorServer],
) -> None:
    from api_client import ZoomCredentials

    server = emulator_factory(settings=EmulatorSettings(
        accept_any_credentials=False, client_id="only-me", client_secret="right-secret",
        portsip_users={"pbxadmin": "pbx-pass"}))
    wrong = ZoomCredentials("acct", "only-me", "wrong-secret", base_url=server.zoom_url)
    with ZoomClient(wrong) as zoom, pytest.raises(AuthenticationError) as caught:
        zoom.crc.ports()
    assert caught.value.code == "invalid_client" and "wrong-secret" not in str(caught.value)
    right = ZoomCredentials("acct", "only-me", "right-secret", base_url=server.zoom_url)
    with ZoomClient(right) as zoom:
        assert zoom.crc.ports().ports_allocated == 10
    with PortSipClient(PortSipCredentials("admin", "admin", base_url=server.portsip_url)) as pbx:
        with pytest.raises(AuthenticationError):
            pbx.conference_rooms.list().to_list()
    with PortSipClient(server.portsip_credentials()) as pbx:
        assert pbx.conference_rooms.list().to_list() == []


def test_concurrent_calls_never_exceed_the_pool(emulator: EmulatorServer) -> None:
    async def main() -> tuple[int, int, int]:
        async with AsyncZoomClient(emulator.zoom_credentials()) as zoom:
            await zoom.emulator.configure(ports_allocated=5)
            outcomes = await asyncio.gather(
                *(zoom.emulator.start_call(f"room-{i}") for i in range(30)), return_exceptions=True
            )
            started = [o for o in outcomes if not isinstance(o, BaseException)]
            refused = [o for o in outcomes if isinstance(o, ConflictError)]
            return len(started), len(refused), (await zoom.crc.ports()).ports_in_use

    assert asyncio.run(main()) == (5, 25, 5)
