"""Property: whatever the page size and collection size, the pagers yield every item exactly once,
in order, with the fewest requests."""

from __future__ import annotations

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from api_client import (
    PortSipClient,
    PortSipCredentials,
    ZoomClient,
    ZoomCredentials,
    clear_token_cache,
)
from tests.api_client.conftest import PORTSIP_BASE, FakeZoom


@settings(max_examples=60, deadline=None)
@given(total=st.integers(0, 95), size=st.integers(1, 40))
def test_token_pager_walks_every_item_once(total: int, size: int) -> None:
    clear_token_cache()
    items = [{"id": f"d{i}"} for i in range(total)]
    fake = FakeZoom()

    def pages(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params.get("next_page_token") or 0)
        count = int(request.url.params["page_size"])
        chunk = items[offset : offset + count]
        nxt = str(offset + count) if offset + count < total else ""
        return httpx.Response(200, json={"devices": chunk, "next_page_token": nxt})

    fake.on("GET", "/v2/h323/devices", pages)
    creds = ZoomCredentials("a", "c", "s", base_url="https://api.zoom.test/v2",
                            token_url="https://zoom.test/oauth/token")
    with ZoomClient(creds, transport=httpx.MockTransport(fake)) as api:
        got = [device.id for device in api.h323_devices.list(page_size=size)]
    assert got == [item["id"] for item in items]
    assert len(fake.requests) == max(1, -(-total // size))


@settings(max_examples=60, deadline=None)
@given(total=st.integers(0, 250), top=st.integers(1, 100), skip=st.integers(0, 30))
def test_skip_top_pager_walks_every_item_once(total: int, top: int, skip: int) -> None:
    clear_token_cache()
    rooms = [{"id": f"r{i}"} for i in range(total)]
    fake = FakeZoom()

    def pages(request: httpx.Request) -> httpx.Response:
        start, count = int(request.url.params["skip"]), int(request.url.params["top"])
        return httpx.Response(200, json={"count": total, "items": rooms[start : start + count]})

    fake.on("GET", "/api/conference_rooms", pages)
    with PortSipClient(PortSipCredentials("admin", "admin", base_url=PORTSIP_BASE),
                       transport=httpx.MockTransport(fake)) as pbx:
        got = [room.id for room in pbx.conference_rooms.list(top, skip=skip)]
    assert got == [room["id"] for room in rooms[skip:]]
    assert len(fake.requests) == max(1, -(-max(0, total - skip) // top))
