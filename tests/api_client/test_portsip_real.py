"""PortSIP as its REST API 22.0 documents it: the fixed client_id, ``domain`` for tenant users,
and the room fields ``internal_invitees`` and ``outbound_caller_ids``."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from api_client import PortSipClient, PortSipCredentials
from api_client.auth import PORTSIP_CLIENT_ID
from api_client.emulator import EmulatorServer
from api_client.models import ConferenceRoomCreate, OutboundCallerId

BASE = "https://pbx.test/api"


def _token_forms(credentials: PortSipCredentials) -> list[dict[str, list[str]]]:
    forms: list[dict[str, list[str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/login/oauth/token":
            forms.append(parse_qs(request.content.decode()))
            return httpx.Response(200, json={"access_token": "t", "expires_in": 1800,
                                             "refresh_token": "r", "token_type": "Bearer"})
        return httpx.Response(200, json={"count": 0, "items": []})

    with PortSipClient(credentials, transport=httpx.MockTransport(handler)) as pbx:
        pbx.conference_rooms.list().to_list()
    return forms


def test_the_documented_client_id_is_the_default() -> None:
    assert PORTSIP_CLIENT_ID == "9d806019-75b2-4b3d-bb8b-f5a3a412cc0a"
    (form,) = _token_forms(PortSipCredentials("admin", "pw", base_url=BASE))
    assert form["client_id"] == [PORTSIP_CLIENT_ID] and form["grant_type"] == ["password"]
    assert form["scope"] == ["all"] and "domain" not in form


def test_tenant_users_send_their_domain() -> None:
    creds = PortSipCredentials("101", "pw", base_url=BASE, domain="tenant.example.com")
    (form,) = _token_forms(creds)
    assert form["domain"] == ["tenant.example.com"] and form["username"] == ["101"]
    assert "pw" not in repr(creds) and "tenant.example.com" in repr(creds)


def test_invitees_and_caller_ids_are_sent_and_kept(emulator: EmulatorServer) -> None:
    body = ConferenceRoomCreate(
        extension_number="8100", mode="AUDIO", subject="Ops bridge",
        internal_invitees=["101", "102"],
        outbound_caller_ids=[OutboundCallerId(provider_id="p-1", caller_id="+14155550100",
                                              description="main line")],
    )
    assert body.to_wire()["outbound_caller_ids"] == [
        {"provider_id": "p-1", "caller_id": "+14155550100", "description": "main line"}]
    with pytest.raises(ValueError):
        OutboundCallerId(provider_id="p", caller_id="1" * 65)
    with PortSipClient(emulator.portsip_credentials()) as pbx:
        created = pbx.conference_rooms.create(body)
        room = pbx.conference_rooms.get(created.id)
    assert room.internal_invitees == ["101", "102"]
    assert room.outbound_caller_ids[0]["caller_id"] == "+14155550100"


def test_unknown_enum_values_never_fail_a_page() -> None:
    from api_client.models import ConferenceRoomPage, PortingOrderPage

    rooms = ConferenceRoomPage.model_validate({"count": 1, "items": [
        {"id": "r1", "mode": "SCREEN", "control": "MODERATED", "layout": "LAYOUT16"}]})
    assert (rooms.items[0].mode, rooms.items[0].layout) == ("SCREEN", "LAYOUT16")
    orders = PortingOrderPage.model_validate({"orders": [
        {"order_id": "o1", "status": "foc_received", "phone_numbers": ["+14155550100"]}]})
    assert orders.orders[0].status == "foc_received"
