"""Secrets (client secret, tokens, device and PIN passwords) never reach logs, reprs or errors."""

from __future__ import annotations

import logging

import httpx
import pytest

from api_client import (
    ApiStatusError,
    PortSipClient,
    PortSipCredentials,
    ZoomClient,
    ZoomCredentials,
)
from api_client.models import ConferenceRoomCreate, SipPhoneCreate
from api_client.redact import MASK, redact, redact_headers, redact_url
from tests.api_client.conftest import PORTSIP_BASE, SECRET, FakeZoom

TOKEN = "tok-very-secret-access-token"
DEVICE_PASSWORD = "dev1ce-pa55word"
PIN = "918273"


def test_redact_helpers() -> None:
    assert redact({"password": "x", "nested": [{"room_pin": "1", "name": "n"}],
                   "next_page_token": "keep", "client_secret": None}) == {
        "password": MASK, "nested": [{"room_pin": MASK, "name": "n"}],
        "next_page_token": "keep", "client_secret": None}
    assert redact_headers({"Authorization": "Bearer abc", "X-Ok": "1"}) == {
        "Authorization": MASK, "X-Ok": "1"}
    url = redact_url("https://user:pw@h.test/p?access_token=abc&page_size=3")
    assert "abc" not in url and "pw" not in url and "page_size=3" in url


def test_no_secret_in_logs_reprs_or_errors(
    caplog: pytest.LogCaptureFixture, zoom_credentials: ZoomCredentials, fake: FakeZoom
) -> None:
    def token(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": TOKEN, "expires_in": 3600})

    fake.token = token  # type: ignore[method-assign]
    echo = {"code": 300, "message": "Validation Failed.",
            "password": DEVICE_PASSWORD, "errors": [{"field": "password", "message": DEVICE_PASSWORD}]}
    fake.on("POST", "/v2/sip_phones", httpx.Response(400, json=echo))
    fake.on("GET", "/v2/sip_phones/p1",
            httpx.Response(200, json={"id": "p1", "password": DEVICE_PASSWORD}))
    caplog.set_level(logging.DEBUG)
    with ZoomClient(zoom_credentials, transport=httpx.MockTransport(fake)) as api:
        phone = api.sip_phones.get("p1")
        with pytest.raises(ApiStatusError) as caught:
            api.sip_phones.create(SipPhoneCreate(authorization_name="a", domain="d.example",
                                                 user_name="u", password=DEVICE_PASSWORD))
        texts = [caplog.text, repr(api), repr(api.auth), repr(api.credentials), repr(phone),
                 phone.model_dump_json(), str(caught.value), repr(caught.value),
                 repr(caught.value.body), repr(caught.value.errors)]
    assert fake.requests[-1].content.count(DEVICE_PASSWORD.encode()) == 1  # sent, once
    for text in texts:
        for secret in (SECRET, TOKEN, DEVICE_PASSWORD):
            assert secret not in text, (secret, text)


def test_portsip_secrets_stay_hidden(caplog: pytest.LogCaptureFixture, fake: FakeZoom) -> None:
    password = "pbx-admin-pa55"

    def token(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": TOKEN, "refresh_token": TOKEN + "-r",
                                         "expires_in": 1800})

    fake.token = token  # type: ignore[method-assign]
    fake.on("POST", "/api/conference_rooms", httpx.Response(201, json={"id": "r1"}))
    fake.on("GET", "/api/conference_rooms/r1", httpx.Response(200, json={
        "id": "r1", "admin_pin": PIN, "room_pin": PIN, "token": TOKEN}))
    caplog.set_level(logging.DEBUG)
    creds = PortSipCredentials("admin", password, base_url=PORTSIP_BASE)
    with PortSipClient(creds, transport=httpx.MockTransport(fake)) as pbx:
        pbx.conference_rooms.create(ConferenceRoomCreate(extension_number="8001", mode="AUDIO",
                                                         subject="s", admin_pin=PIN))
        room = pbx.conference_rooms.get("r1")
        texts = [caplog.text, repr(pbx), repr(creds), repr(room), room.model_dump_json()]
    for text in texts:
        for secret in (password, TOKEN, PIN):
            assert secret not in text, (secret, text)
    assert room.admin_pin is not None and room.admin_pin.get_secret_value() == PIN
