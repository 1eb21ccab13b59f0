"""test-dial against real Zoom without a passcode: the meeting's h323_password (GET
/meetings/{id}) goes into Zoom's POST /meetings/{id}/sip_dialing."""

from __future__ import annotations

import asyncio
import json

import httpx

from api_client import AsyncZoomClient, ZoomCredentials
from gateway.testdial.target import api_dial_info


def test_the_room_system_passcode_comes_from_the_meeting() -> None:
    sent: list[tuple[str, str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        body = json.loads(request.content) if request.content else None
        sent.append((request.method, request.url.path, body))
        if request.method == "GET":
            return httpx.Response(200, json={"id": 85746065432, "h323_password": "246810"})
        return httpx.Response(201, json={"sip_dialing": "85746065432.1357@zoomcrc.com",
                                         "expire_in": 7200})

    async def main() -> None:
        credentials = ZoomCredentials("a", "c", "s")  # api.zoom.us, through the mock
        async with AsyncZoomClient(credentials, transport=httpx.MockTransport(handler)) as zoom:
            info = await api_dial_info(zoom, "85746065432", None)
            assert info.targets

    asyncio.run(main())
    assert sent == [
        ("GET", "/v2/meetings/85746065432", None),
        ("POST", "/v2/meetings/85746065432/sip_dialing", {"passcode": "246810"}),
    ]
