"""Async resources:
thin wrappers that send the shared builders' calls.

``_resources_sync.py`` is generated from this file by ``python api_client/_unasync.py``; edit
this one only. Paths marked "seed (non-Zoom)" come from the user's documents and are served by
the crcgw emulator and compatible services, not by api.zoom.us.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Generic, Literal

from api_client import _transport, pagination
from api_client._call import Call, Params
from api_client.endpoints import crc as crc_ep
from api_client.endpoints import devices as devices_ep
from api_client.endpoints import emulator as emulator_ep
from api_client.endpoints import live as live_ep
from api_client.endpoints import numbers as numbers_ep
from api_client.endpoints import portsip as portsip_ep
from api_client.endpoints._common import Create, Created, Crud, Item, Page, Update, page_size
from api_client.models.crc import (
    CrcPortMetrics,
    CrcPortUsage,
    CrcSettings,
    CrcSettingsUpdate,
    ParticipantIdentifierCode,
)
from api_client.models.crc_rooms import (
    ApiConnector,
    ApiConnectorCreate,
    ApiConnectorCreated,
    ApiConnectorPage,
    ApiConnectorPrivateKey,
    ApiConnectorUpdate,
    CrcAccountSetting,
    CrcAccountSettingUpdate,
)
from api_client.models.emulator import (
    EmulatorCall,
    EmulatorCallout,
    EmulatorCalloutUpdate,
    EmulatorConfig,
    EmulatorConfigUpdate,
    StartCall,
)
from api_client.models.live import (
    LiveMeeting,
    LiveMeetingPage,
    Meeting,
    MeetingParticipant,
    MeetingParticipantPage,
    RoomSystemCallout,
    ZoomRoom,
    ZoomRoomDevice,
    ZoomRoomPage,
)
from api_client.models.meetings import (
    H323Dialing,
    MeetingInvitation,
    MeetingSipUri,
    MeetingSipUriRequest,
    SeedSipDialing,
)
from api_client.models.numbers import (
    AssignNumber,
    AvailableNumber,
    AvailableNumberPage,
    ManagedNumber,
    ManagedNumberPage,
    NumberInventory,
    PhoneNumber,
    PhoneNumberCreate,
    PhoneNumberPage,
    PhoneNumberUpdate,
    ProvisionNumbers,
    ProvisionResult,
)
from api_client.models.porting import (
    PortabilityResult,
    PortingOrder,
    PortingOrderCreate,
    PortingOrderPage,
    PortingOrderUpdate,
    ValidatePortability,
)
from api_client.models.rooms import (
    ConferenceRoom,
    ConferenceRoomCreate,
    ConferenceRoomCreated,
    ConferenceRoomPage,
    ConferenceRoomUpdate,
)
from api_client.models.trunk import SipTrunkSettings

__all__ = [
    "AsyncApiConnectors",
    "AsyncConferenceRooms",
    "AsyncCrc",
    "AsyncCrudResource",
    "AsyncEmulatorControl",
    "AsyncMeetings",
    "AsyncNumbers",
    "AsyncPorting",
    "AsyncPortSipResources",
    "AsyncReadResource",
    "AsyncSipTrunk",
    "AsyncZoomResources",
    "AsyncZoomRooms",
]


def _spec(
    crud: Crud[Item, Page, Any, Any, Any], first: Call[Page]
) -> pagination.PageSpec[Page, Item]:
    if crud.paging == "skip_top":
        return pagination.skip_top_pages(first, crud.items)
    return pagination.token_pages(first, crud.items)


class AsyncReadResource(Generic[Item, Page, Created, Create, Update]):
    """``list`` (an iterator over every item, page after page) and ``get``."""

    def __init__(
        self, send: _transport.AsyncSender, crud: Crud[Item, Page, Created, Create, Update]
    ) -> None:
        self._send = send
        self._crud = crud

    def list(
        self, page_size: int | None = None, **filters: str | None
    ) -> pagination.AsyncPager[Page, Item]:
        """Every item, fetched ``page_size`` at a time (Zoom allows up to 300)."""
        params: dict[str, Any] = {"page_size": _page_size(page_size), **filters}
        return self._pager(self._crud.list(params))

    async def list_page(self, params: Params | None = None) -> Page:
        """One page, with the query exactly as given (``next_page_token`` included)."""
        return await self._send(self._crud.list(params))

    async def get(self, item_id: str) -> Item:
        return await self._send(self._crud.get(item_id))

    def _pager(self, first: Call[Page]) -> pagination.AsyncPager[Page, Item]:
        return pagination.AsyncPager(self._send, _spec(self._crud, first))


def _page_size(value: int | None) -> int | None:
    return page_size(value)


class AsyncCrudResource(AsyncReadResource[Item, Page, Created, Create, Update]):
    """``list``, ``get``, ``create``, ``update`` and ``delete`` of one collection."""

    async def create(self, body: Create) -> Created:
        return await self._send(self._crud.create(body))

    async def update(self, item_id: str, body: Update) -> None:
        await self._send(self._crud.update(item_id, body))

    async def delete(self, item_id: str) -> None:
        await self._send(self._crud.delete(item_id))


class AsyncCrc:
    """CRC settings and port usage."""

    def __init__(self, send: _transport.AsyncSender, account_id: str) -> None:
        self._send = send
        self._account_id = account_id

    async def settings(self) -> CrcSettings:
        """Seed (non-Zoom): ``GET /accounts/{accountId}/crc``: enabled, SIP URI, H.323 addresses,
        ports allocated and in use."""
        return await self._send(crc_ep.crc_settings(self._account_id))

    async def update_settings(self, update: CrcSettingsUpdate) -> None:
        """Seed (non-Zoom): ``PATCH /accounts/{accountId}/crc``."""
        await self._send(crc_ep.update_crc_settings(self._account_id, update))

    async def ports(self) -> CrcPortUsage:
        """Seed (non-Zoom): ``GET /accounts/{accountId}/crc/ports``: live ``ports_allocated``,
        ``ports_in_use``, ``ports_available``. Real Zoom accounts: use :meth:`port_metrics`."""
        return await self._send(crc_ep.crc_ports(self._account_id))

    async def port_metrics(self, start: dt.date, end: dt.date) -> CrcPortMetrics:
        """Zoom: ``GET /metrics/crc?from=&to=``: hourly max and total port usage (<= 1 month)."""
        return await self._send(crc_ep.crc_port_metrics(start, end))

    async def account_setting(self) -> CrcAccountSetting:
        """Zoom: ``GET /crc/managed_rooms/account_setting``."""
        return await self._send(crc_ep.crc_account_setting())

    async def update_account_setting(self, update: CrcAccountSettingUpdate) -> None:
        """Zoom: ``PATCH /crc/managed_rooms/account_setting`` (multipart form, 204)."""
        await self._send(crc_ep.update_crc_account_setting(update))

    async def participant_identifier_code(
        self, expires_in: int | None = None
    ) -> ParticipantIdentifierCode:
        """Zoom: ``GET /crc/participant_identifier_code``."""
        return await self._send(crc_ep.participant_identifier_code(expires_in))


class AsyncApiConnectors(
    AsyncCrudResource[
        ApiConnector, ApiConnectorPage, ApiConnectorCreated, ApiConnectorCreate, ApiConnectorUpdate
    ]
):
    """Zoom: ``/crc/api_connectors`` (Medium) and each connector's private key."""

    def __init__(self, send: _transport.AsyncSender) -> None:
        super().__init__(send, crc_ep.API_CONNECTORS)

    async def private_key(self, connector_id: str) -> ApiConnectorPrivateKey:
        """``GET /crc/api_connectors/{connectorId}/private_key`` (the key stays masked)."""
        return await self._send(crc_ep.api_connector_private_key(connector_id))

    async def rotate_private_key(self, connector_id: str) -> ApiConnectorPrivateKey:
        """``PATCH /crc/api_connectors/{connectorId}/private_key``: a new key."""
        return await self._send(crc_ep.rotate_api_connector_private_key(connector_id))


class AsyncZoomRooms:
    """Zoom Rooms: ``GET /rooms``, ``/rooms/{roomId}``, ``/rooms/{roomId}/devices``."""

    def __init__(self, send: _transport.AsyncSender) -> None:
        self._send = send

    def list(
        self, page_size: int | None = None, **filters: str | None
    ) -> pagination.AsyncPager[ZoomRoomPage, ZoomRoom]:
        """Every room (filters: ``status``, ``room_type``, ``query_name``, ``location_id``)."""
        first = live_ep.zoom_rooms(page_size, **filters)
        return pagination.AsyncPager(
            self._send, pagination.token_pages(first, lambda page: page.rooms)
        )

    async def get(self, room_id: str) -> ZoomRoom:
        return await self._send(live_ep.zoom_room(room_id))

    async def devices(self, room_id: str) -> Sequence[ZoomRoomDevice]:
        return (await self._send(live_ep.room_devices(room_id))).devices


class AsyncMeetings:
    """Meeting dial-in information."""

    def __init__(self, send: _transport.AsyncSender) -> None:
        self._send = send

    async def sip_dialing(self, meeting_id: str) -> SeedSipDialing:
        """Seed (non-Zoom): ``GET /meetings/{meetingId}/sip_dialing`` -> URI, password, IPs."""
        return await self._send(crc_ep.seed_sip_dialing(meeting_id))

    async def create_sip_uri(self, meeting_id: str, passcode: str | None = None) -> MeetingSipUri:
        """Zoom: ``POST /meetings/{meetingId}/sip_dialing`` -> a SIP URI valid ``expire_in`` s."""
        request = MeetingSipUriRequest.model_validate({"passcode": passcode})
        return await self._send(crc_ep.create_sip_uri(meeting_id, request))

    async def h323_dialing(self, meeting_id: str) -> H323Dialing:
        """Seed (non-Zoom): ``GET /meetings/{meetingId}/h323_dialing``."""
        return await self._send(crc_ep.seed_h323_dialing(meeting_id))

    async def invitation(self, meeting_id: str) -> MeetingInvitation:
        """Zoom: ``GET /meetings/{meetingId}/invitation``."""
        return await self._send(crc_ep.meeting_invitation(meeting_id))

    async def h323_ip_addresses(self, meeting_id: str) -> list[str]:
        """Zoom: the H.323 addresses listed in the meeting's invitation."""
        invitation = await self.invitation(meeting_id)
        return invitation.h323_ip_addresses()

    async def get(self, meeting_id: str | int, occurrence_id: str | None = None) -> Meeting:
        """Zoom: ``GET /meetings/{meetingId}`` (``h323_password``, ``pstn_password``, ...)."""
        return await self._send(live_ep.get_meeting(meeting_id, occurrence_id))

    def live(
        self, start: dt.date, end: dt.date, page_size: int | None = None
    ) -> pagination.AsyncPager[LiveMeetingPage, LiveMeeting]:
        """Zoom: ``GET /metrics/meetings?type=live`` (Resource-intensive), every page."""
        first = live_ep.live_meetings(start, end, page_size)
        return pagination.AsyncPager(
            self._send, pagination.token_pages(first, lambda page: page.meetings)
        )

    def live_participants(
        self, meeting_id: str | int, page_size: int | None = None
    ) -> pagination.AsyncPager[MeetingParticipantPage, MeetingParticipant]:
        """Zoom: ``GET /metrics/meetings/{meetingId}/participants?type=live`` (Heavy)."""
        first = live_ep.live_participants(meeting_id, page_size)
        return pagination.AsyncPager(
            self._send, pagination.token_pages(first, lambda page: page.participants)
        )

    async def room_system_callout(
        self, meeting_id: str | int, callout: RoomSystemCallout
    ) -> None:
        """Zoom: ``PATCH /live_meetings/{meetingId}/events`` with
        ``participant.invite.room_system_callout``: the meeting calls the room (202)."""
        await self._send(live_ep.room_system_callout(meeting_id, callout))


class AsyncSipTrunk:
    """SIP Connected Audio on a sub account (master-account scope ``sip_trunk:master``)."""

    def __init__(self, send: _transport.AsyncSender, account_id: str) -> None:
        self._send = send
        self._account_id = account_id

    async def update(
        self,
        settings: SipTrunkSettings,
        *,
        account_id: str | None = None,
        encoding: Literal["multipart", "json"] = "multipart",
    ) -> None:
        """``PATCH /accounts/{accountId}/sip_trunk/settings`` (multipart as in the seed, or JSON).

        Raises :class:`~api_client.errors.SipTrunkPlanMissingError` (400, code 2100) and
        :class:`~api_client.errors.AccountNotFoundError` (404, code 2001).
        """
        target = account_id or self._account_id
        await self._send(devices_ep.assign_sip_trunk(target, settings, encoding))

    async def assign(
        self, *, account_id: str | None = None, encoding: Literal["multipart", "json"] = "multipart"
    ) -> None:
        """Assign the master account's SIP trunk configuration (``enable=true``)."""
        await self.update(SipTrunkSettings(enable=True), account_id=account_id, encoding=encoding)

    async def remove(
        self, *, account_id: str | None = None, encoding: Literal["multipart", "json"] = "multipart"
    ) -> None:
        """Delete the sub account's assigned SIP trunk configuration (``enable=false``)."""
        await self.update(SipTrunkSettings(enable=False), account_id=account_id, encoding=encoding)


class AsyncNumbers(
    AsyncCrudResource[
        PhoneNumber, PhoneNumberPage, PhoneNumber, PhoneNumberCreate, PhoneNumberUpdate
    ]
):
    """Phone numbers: seed ``/phone/numbers…`` (CRUD, search, provisioning, inventory, assignment,
    toll-free) and Zoom's ``/number_management/numbers``."""

    def __init__(self, send: _transport.AsyncSender) -> None:
        super().__init__(send, numbers_ep.PHONE_NUMBERS)

    async def search(
        self,
        *,
        country: str = "US",
        state: str | None = None,
        area_code: str | None = None,
        quantity: int | None = None,
        number_type: str | None = None,
        toll_free: bool = False,
    ) -> Sequence[AvailableNumber]:
        """``GET /phone/numbers/available`` (``toll_free``: ``…/toll_free/available``)."""
        page: AvailableNumberPage = await self._send(
            numbers_ep.search_available(
                country=country,
                state=state,
                area_code=area_code,
                quantity=quantity,
                number_type=number_type,
                toll_free=toll_free,
            )
        )
        return page.available_numbers

    async def provision(
        self, phone_numbers: Sequence[str], *, site_id: str | None = None, toll_free: bool = False
    ) -> ProvisionResult:
        """``POST /phone/numbers/provision`` (``toll_free``: ``POST /phone/numbers/toll_free``)."""
        request = ProvisionNumbers.model_validate(
            {"phone_numbers": list(phone_numbers), "site_id": site_id}
        )
        return await self._send(numbers_ep.provision(request, toll_free=toll_free))

    async def inventory(self) -> NumberInventory:
        """``GET /phone/numbers/inventory``."""
        return await self._send(numbers_ep.inventory())

    async def assign(self, number_id: str, assignee_type: str, assignee_id: str) -> PhoneNumber:
        """``POST /phone/numbers/{numberId}/assign``."""
        request = AssignNumber.model_validate(
            {"assignee_type": assignee_type, "assignee_id": assignee_id}
        )
        return await self._send(numbers_ep.assign(number_id, request))

    async def unassign(self, number_id: str) -> None:
        """``DELETE /phone/numbers/{numberId}/assign``."""
        await self._send(numbers_ep.unassign(number_id))

    def unassigned(
        self, page_size: int | None = None
    ) -> pagination.AsyncPager[PhoneNumberPage, PhoneNumber]:
        """``GET /phone/numbers/unassigned``, every page."""
        return self._pager(numbers_ep.list_numbers("/phone/numbers/unassigned", page_size))

    def toll_free(
        self, page_size: int | None = None
    ) -> pagination.AsyncPager[PhoneNumberPage, PhoneNumber]:
        """``GET /phone/numbers/toll_free``, every page."""
        return self._pager(numbers_ep.list_numbers("/phone/numbers/toll_free", page_size))

    def managed(
        self,
        page_size: int | None = None,
        *,
        number_type: str | None = None,
        number_status: str | None = None,
        keyword: str | None = None,
    ) -> pagination.AsyncPager[ManagedNumberPage, ManagedNumber]:
        """Zoom: ``GET /number_management/numbers`` (``page_size`` up to 200), every page."""
        first = numbers_ep.managed_numbers(
            page_size, number_type=number_type, number_status=number_status, keyword=keyword
        )
        return pagination.AsyncPager(
            self._send, pagination.token_pages(first, lambda page: page.numbers)
        )


class AsyncPorting(
    AsyncCrudResource[
        PortingOrder, PortingOrderPage, PortingOrder, PortingOrderCreate, PortingOrderUpdate
    ]
):
    """Porting orders: list, create, get, update, ``delete`` (cancel) and ``validate``."""

    def __init__(self, send: _transport.AsyncSender) -> None:
        super().__init__(send, numbers_ep.PORTING_ORDERS)

    async def cancel(self, order_id: str) -> None:
        """``DELETE /phone/porting/orders/{orderId}``."""
        await self.delete(order_id)

    async def validate(self, phone_numbers: Sequence[str]) -> PortabilityResult:
        """``POST /phone/porting/validate``."""
        request = ValidatePortability.model_validate({"phone_numbers": list(phone_numbers)})
        return await self._send(numbers_ep.validate_porting(request))


class AsyncConferenceRooms(
    AsyncCrudResource[
        ConferenceRoom,
        ConferenceRoomPage,
        ConferenceRoomCreated,
        ConferenceRoomCreate,
        ConferenceRoomUpdate,
    ]
):
    """PortSIP conference rooms: update is a POST, delete a POST to ``…/destroy``."""

    def __init__(self, send: _transport.AsyncSender) -> None:
        super().__init__(send, portsip_ep.CONFERENCE_ROOMS)

    def list(  # type: ignore[override]
        self,
        page_size: int | None = None,
        *,
        filter: str | None = None,
        search: str | None = None,
        orderby: str | None = None,
        skip: int = 0,
    ) -> pagination.AsyncPager[ConferenceRoomPage, ConferenceRoom]:
        """Every room from ``skip`` on, ``page_size`` (``top``, 1..100) at a time."""
        first = portsip_ep.list_rooms(
            filter=filter,
            search=search,
            orderby=orderby,
            skip=skip,
            top=page_size or portsip_ep.MAX_TOP,
        )
        return self._pager(first)


class AsyncEmulatorControl:
    """Emulator-only (``/_emulator/…``): report calls that hold CRC ports, tune the emulator."""

    def __init__(self, send: _transport.AsyncSender) -> None:
        self._send = send

    async def start_call(
        self, device_id: str | None = None, meeting_id: str | None = None, protocol: str = "SIP"
    ) -> EmulatorCall:
        """A device joins a meeting: one more port in use (409 when the pool is full)."""
        request = StartCall.model_validate(
            {"device_id": device_id, "meeting_id": meeting_id, "protocol": protocol}
        )
        return await self._send(emulator_ep.start_call(request))

    async def end_call(self, call_id: str) -> None:
        """The call ended: its port is free again."""
        await self._send(emulator_ep.end_call(call_id))

    async def calls(self) -> list[EmulatorCall]:
        """The calls in progress."""
        return (await self._send(emulator_ep.list_calls())).calls

    async def config(self) -> EmulatorConfig:
        return await self._send(emulator_ep.get_config())

    async def callouts(self, status: str | None = "pending") -> list[EmulatorCallout]:
        """The meetings' room-system call-outs (``pending``: for a dialer to place)."""
        return (await self._send(emulator_ep.list_callouts(status))).callouts

    async def update_callout(
        self, callout_id: str, status: str, reason: str | None = None
    ) -> None:
        """A dialer reports a call-out: ``dialling``, ``answered``, ``failed`` or ``ended``."""
        update = EmulatorCalloutUpdate.model_validate({"status": status, "reason": reason})
        await self._send(emulator_ep.update_callout(callout_id, update))

    async def configure(self, **changes: Any) -> EmulatorConfig:
        """Change ``ports_allocated``, ``token_ttl``, ``rate_limits``, ``daily_limits`` or
        ``sip_trunk_plan``."""
        return await self._send(
            emulator_ep.update_config(EmulatorConfigUpdate.model_validate(changes))
        )


class AsyncZoomResources:
    """Every Zoom resource, wired to one sender (the async client inherits them)."""

    def __init__(self, send: _transport.AsyncSender, account_id: str) -> None:
        self.crc = AsyncCrc(send, account_id)
        self.meetings = AsyncMeetings(send)
        self.managed_rooms = AsyncCrudResource(send, crc_ep.MANAGED_ROOMS)
        self.room_templates = AsyncCrudResource(send, crc_ep.ROOM_TEMPLATES)
        self.api_connectors = AsyncApiConnectors(send)
        self.zoom_rooms = AsyncZoomRooms(send)
        self.room_connectors = AsyncReadResource(send, crc_ep.ROOM_CONNECTORS)
        self.sip_phones = AsyncCrudResource(send, devices_ep.SIP_PHONES)
        self.sip_phones_v2 = AsyncCrudResource(send, devices_ep.SIP_PHONES_V2)
        self.h323_devices = AsyncCrudResource(send, devices_ep.H323_DEVICES)
        self.sip_trunk = AsyncSipTrunk(send, account_id)
        self.numbers = AsyncNumbers(send)
        self.porting = AsyncPorting(send)
        self.number_blocks = AsyncCrudResource(send, numbers_ep.NUMBER_BLOCKS)
        self.emulator = AsyncEmulatorControl(send)


class AsyncPortSipResources:
    """Every PortSIP resource, wired to one sender."""

    def __init__(self, send: _transport.AsyncSender) -> None:
        self.conference_rooms = AsyncConferenceRooms(send)
