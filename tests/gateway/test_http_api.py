"""The control API over the real store and pool: tokens, validation, and a real uvicorn."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from gateway.http_api import HttpServer, create_app
from gateway.metrics import GatewayMetrics
from gateway.ports import PortPool
from gateway.store import Store, open_store
from tests.gateway.control import StoreControl

TOKEN = "s3cret-token-for-tests"
GOOD = {"Authorization": f"Bearer {TOKEN}"}
CALL = {"room": "boardroom", "meeting_id": "876 5432 1012", "passcode": "9090"}

#: Every change the API offers: (method, path, JSON body).
CHANGES: list[tuple[str, str, Any]] = [
    ("POST", "/calls", CALL),
    ("DELETE", "/calls/call-1", None),
    ("POST", "/rooms/boardroom/register", None),
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = open_store(f"sqlite:///{tmp_path / 'gw.sqlite3'}", ttl=60)
    st.set_pool_size(2)
    yield st
    st.close()


def make(store: Store, token: str | None = TOKEN) -> tuple[StoreControl, httpx.AsyncClient,
                                                           GatewayMetrics]:
    metrics = GatewayMetrics()
    control = StoreControl(PortPool(store, "gw", metrics=metrics), ["boardroom", "huddle"],
                           ["udp://127.0.0.1:5060"])
    app = create_app(control, token=SecretStr(token) if token else None, metrics=metrics)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
    return control, client, metrics


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.mark.parametrize("method,path,body", CHANGES)
@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
    {"Authorization": f"Basic {TOKEN}"}, {"Authorization": "Bearer "},
])
def test_every_change_without_a_valid_token_is_401(
    store: Store, method: str, path: str, body: Any, headers: dict[str, str]
) -> None:
    control, client, _ = make(store)

    async def main() -> httpx.Response:
        async with client:
            return await client.request(method, path, json=body, headers=headers)

    response = run(main())
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert TOKEN not in response.text
    assert control.started == [] and store.leases() == []


@pytest.mark.parametrize("method,path,body", CHANGES)
def test_without_a_configured_token_every_change_is_refused(
    store: Store, method: str, path: str, body: Any
) -> None:
    _, client, _ = make(store, token=None)

    async def main() -> httpx.Response:
        async with client:
            return await client.request(method, path, json=body, headers=GOOD)

    response = run(main())
    assert response.status_code == 401 and "no control token" in response.json()["error"]


@pytest.mark.parametrize("body,field", [
    ({"meeting_id": "87654321012"}, "room"),
    ({"room": "boardroom"}, "meeting_id"),
    ({"room": "boardroom", "meeting_id": "12ab"}, "meeting_id"),
    ({"room": "boardroom", "meeting_id": "1234"}, "meeting_id"),
    ({"room": "boardroom", "meeting_id": "87654321012", "passcode": "12 34"}, "passcode"),
    ({"room": "boardroom", "meeting_id": "87654321012", "layout": "999999"}, "layout"),
    ({"room": "boardroom", "meeting_id": "87654321012", "protocol": "h323"}, "host"),
    ({"room": "boardroom", "meeting_id": "87654321012", "protocol": "isdn"}, "protocol"),
    ({"room": "boardroom", "meeting_id": "87654321012", "colour": "red"}, "colour"),
    ({"room": 5, "meeting_id": "87654321012"}, "room"),
    ([1, 2], "body"),
    ("not json{", "body"),
])
def test_invalid_bodies_are_422_naming_the_field(store: Store, body: Any, field: str) -> None:
    control, client, _ = make(store)

    async def main() -> httpx.Response:
        async with client:
            if isinstance(body, str):
                return await client.post("/calls", content=body, headers=GOOD)
            return await client.post("/calls", json=body, headers=GOOD)

    response = run(main())
    assert response.status_code == 422, response.text
    fields = [item["field"] for item in response.json()["detail"]]
    assert field in fields
    assert "12 34" not in response.text  # a passcode is never echoed
    assert control.started == [] and store.leases() == []


def test_a_call_lifecycle_through_the_api(store: Store) -> None:
    control, client, metrics = make(store)

    async def main() -> None:
        async with client:
            created = await client.post("/calls", json=CALL, headers=GOOD)
            assert created.status_code == 201, created.text
            call = created.json()
            assert call["target"] == "87654321012@zoomcrc.com" and "9090" not in created.text
            assert control.started[0].passcode is not None
            assert "9090" not in repr(control.started[0])
            listed = (await client.get("/calls")).json()["calls"]
            assert [c["call_id"] for c in listed] == [call["call_id"]]
            ports = (await client.get("/ports")).json()
            assert ports == {"size": 2, "leased": 1, "used_elsewhere": 0, "free": 1}
            second = await client.post("/calls", json={**CALL, "room": "huddle"}, headers=GOOD)
            assert second.status_code == 201
            full = await client.post("/calls", json=CALL, headers=GOOD)
            assert full.status_code == 503 and "port" in full.json()["error"]
            unknown = await client.post("/calls", json={**CALL, "room": "attic"}, headers=GOOD)
            assert unknown.status_code == 404
            ended = await client.delete(f"/calls/{call['call_id']}", headers=GOOD)
            assert ended.status_code == 200 and ended.json()["state"] == "ended"
            again = await client.delete(f"/calls/{call['call_id']}", headers=GOOD)
            assert again.status_code == 404
            cdrs = (await client.get("/cdrs", params={"room": "boardroom"})).json()["cdrs"]
            assert [c["outcome"] for c in cdrs] == ["hangup"]
            assert (await client.get("/cdrs", params={"limit": "0"})).status_code == 422
            rooms = (await client.get("/rooms")).json()["rooms"]
            assert {r["name"]: r["registration"] for r in rooms} == {
                "boardroom": "registered", "huddle": "registered"}
            text = (await client.get("/metrics")).text
            assert "crcgw_ports_leased 1.0" in text and "crcgw_port_refusals_total 1.0" in text

    run(main())
    assert len(store.leases()) == 1


def test_health_and_readiness_on_a_real_uvicorn(store: Store) -> None:
    control, _, metrics = make(store)

    async def main() -> None:
        app = create_app(control, token=SecretStr(TOKEN), metrics=metrics)
        server = HttpServer(app, "127.0.0.1", 0)
        address = await server.start()
        try:
            assert address.startswith("127.0.0.1:")
            async with httpx.AsyncClient(base_url=f"http://{address}") as client:
                assert (await client.get("/healthz")).json() == {"status": "ok"}
                ready = await client.get("/readyz")
                assert ready.status_code == 200
                assert ready.json()["sip_listen"] == ["udp://127.0.0.1:5060"]
                assert (await client.post("/calls", json=CALL)).status_code == 401
                assert (await client.get("/nowhere")).status_code == 404
        finally:
            await server.stop()

    run(main())


INVITATION = """Join by SIP
87654321012@zoomcrc.com

Join by H.323
162.255.37.11 (US West)
Meeting ID: 876 5432 1012
Passcode: 2267511544
"""


def test_a_call_from_an_invitation(store: Store) -> None:
    control, client, _ = make(store)

    async def main() -> None:
        async with client:
            sip = await client.post("/calls", headers=GOOD,
                                    json={"room": "boardroom", "invitation": INVITATION})
            assert sip.status_code == 201, sip.text
            assert sip.json()["target"] == "87654321012@zoomcrc.com"
            h323 = await client.post("/calls", headers=GOOD, json={
                "room": "huddle", "invitation": INVITATION, "protocol": "h323"})
            assert h323.status_code == 201, h323.text
            assert h323.json()["target"] == "162.255.37.11##87654321012"
            bad = await client.post("/calls", headers=GOOD,
                                    json={"room": "huddle", "invitation": "hello"})
            assert bad.status_code == 422
            assert bad.json()["detail"][0]["field"] == "invitation"
            assert "2267511544" not in sip.text + h323.text

    run(main())
    first, second = control.started
    assert first.passcode is not None
    assert first.passcode.get_secret_value() == "2267511544"
    assert "2267511544" not in repr(first)


def test_an_oversized_body_is_refused_unread(store: Store) -> None:
    _, client, _ = make(store)

    async def main() -> httpx.Response:
        async with client:
            return await client.post("/calls", content=b"x" * (200 * 1024), headers=GOOD)

    assert run(main()).status_code == 413
