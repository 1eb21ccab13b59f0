"""gateway.usage.ZoomLiveUsage: the Dashboard's live room systems (the emulator, over HTTP),
and the fall-back to /metrics/crc when the account has no Dashboard (Zoom's 400)."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx

from api_client import AsyncZoomClient, ZoomCredentials
from api_client.emulator import run_emulator
from gateway.usage import ZoomLiveUsage


def test_live_participants_are_counted() -> None:
    with run_emulator() as emulator:
        emulator.start_call("room-1", "85746065432")
        emulator.start_call("room-2", "85746065432")
        emulator.start_call("room-3", "912345678")

        async def main() -> None:
            async with AsyncZoomClient(emulator.zoom_credentials()) as client:
                usage = ZoomLiveUsage(client)
                reading = await usage()
                assert reading is not None and reading.in_use == 3 and usage.exact

        asyncio.run(main())


def test_without_the_dashboard_it_falls_back_to_hourly_metrics() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        if request.url.path == "/v2/metrics/meetings":
            return httpx.Response(400, json={"code": 400, "message": "Only available for "
                                             "Business or higher with Dashboard enabled."})
        return httpx.Response(200, json={"from": "2026-12-04", "to": "2026-12-04",
                                         "crc_ports_usage": [{"date_time": "2026-12-04",
                                                              "crc_ports_hour_usage": [
                                                                  {"hour": 3, "max_usage": 5,
                                                                   "total_usage": 9}]}]})

    async def main() -> None:
        credentials = ZoomCredentials("a", "c", "s", base_url="https://zoom.test/v2")
        async with AsyncZoomClient(credentials, transport=httpx.MockTransport(handler)) as client:
            usage = ZoomLiveUsage(client, today=lambda: dt.date(2026, 12, 4))
            reading = await usage()
            assert reading is not None and reading.in_use == 5 and not usage.exact

    asyncio.run(main())
    assert paths[-2:] == ["/v2/metrics/meetings", "/v2/metrics/crc"]
