"""OAuth as httpx.Auth: caching, single-flight under concurrency, refresh ahead of expiry,
flush-and-retry once on 401 or Zoom code 124, PortSIP refresh grants."""

from __future__ import annotations

import asyncio
import base64
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs

import httpx
import pytest

from api_client import (
    AsyncZoomClient,
    AuthenticationError,
    PortSipClient,
    PortSipCredentials,
    PortSipPasswordAuth,
    ZoomClient,
    ZoomCredentials,
    ZoomServerToServerAuth,
)
from tests.api_client.conftest import MOCK_TOKEN_URL, PORTSIP_BASE, SECRET, FakeZoom

CRC = {"enabled": True, "ports_allocated": 4, "ports_in_use": 1}
PORTS = "/v2/accounts/acct-1/crc/ports"


def test_token_request_is_zoom_account_credentials_with_basic_auth() -> None:
    auth = ZoomServerToServerAuth("acct-9", "cid", SECRET, token_url=MOCK_TOKEN_URL)
    flow = auth.sync_auth_flow(httpx.Request("GET", "https://api.zoom.test/v2/users"))
    token_request = next(flow)
    assert token_request.method == "POST" and str(token_request.url) == MOCK_TOKEN_URL
    assert parse_qs(token_request.content.decode()) == {
        "grant_type": ["account_credentials"],
        "account_id": ["acct-9"],
    }
    expected = base64.b64encode(f"cid:{SECRET}".encode()).decode()
    assert token_request.headers["Authorization"] == f"Basic {expected}"
    api_request = flow.send(httpx.Response(200, json={"access_token": "T1", "expires_in": 3600}))
    assert api_request.headers["Authorization"] == "Bearer T1"
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(200, json={}))
    assert auth.token_fetches == 1


def test_async_concurrent_requests_fetch_one_token(
    zoom_credentials: ZoomCredentials, fake: FakeZoom
) -> None:
    gate = asyncio.Event()

    async def slow_token(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return fake.token(request)

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return await slow_token(request)
        assert request.headers["Authorization"] == "Bearer token-1"
        return httpx.Response(200, json=CRC)

    async def main() -> None:
        async with AsyncZoomClient(zoom_credentials, transport=httpx.MockTransport(handler)) as api:
            tasks = [asyncio.create_task(api.crc.ports()) for _ in range(25)]
            await asyncio.sleep(0.01)
            gate.set()
            results = await asyncio.gather(*tasks)
        assert all(r.ports_in_use == 1 for r in results)

    asyncio.run(main())
    assert fake.tokens_issued == 1


def test_threads_sharing_credentials_fetch_one_token(
    zoom_credentials: ZoomCredentials, fake: FakeZoom
) -> None:
    started = threading.Barrier(8)
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            with lock:
                return fake.token(request)
        return httpx.Response(200, json=CRC)

    def work(_: int) -> int:
        started.wait()
        with ZoomClient(zoom_credentials, transport=httpx.MockTransport(handler)) as api:
            return api.crc.ports().ports_in_use

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(work, range(8))) == [1] * 8
    assert fake.tokens_issued == 1  # one cached token per process, shared by every client


def test_token_is_refreshed_ahead_of_expiry(zoom_credentials: ZoomCredentials, fake: FakeZoom) -> None:
    now = [1000.0]
    fake.on("GET", PORTS, httpx.Response(200, json=CRC))
    with ZoomClient(zoom_credentials, transport=httpx.MockTransport(fake), clock=lambda: now[0]) as api:
        api.crc.ports()
        now[0] += 3600 - 301  # 5 minutes and a second before expiry: still good
        api.crc.ports()
        assert fake.tokens_issued == 1
        now[0] += 2  # inside the refresh margin
        api.crc.ports()
        assert fake.tokens_issued == 2
    assert [r.headers["Authorization"] for r in fake.requests] == [
        "Bearer token-1", "Bearer token-1", "Bearer token-2"
    ]


def test_short_lived_tokens_refresh_a_tenth_early(zoom_credentials: ZoomCredentials, fake: FakeZoom) -> None:
    now = [0.0]
    fake.expires_in = 60
    fake.on("GET", PORTS, httpx.Response(200, json=CRC))
    with ZoomClient(zoom_credentials, transport=httpx.MockTransport(fake), clock=lambda: now[0]) as api:
        api.crc.ports()
        now[0] = 53.9
        api.crc.ports()
        assert fake.tokens_issued == 1
        now[0] = 54.1
        api.crc.ports()
        assert fake.tokens_issued == 2


@pytest.mark.parametrize(
    "rejection",
    [
        httpx.Response(401, json={"code": 124, "message": "Access token is expired."}),
        httpx.Response(401, text="unauthorized"),
        httpx.Response(400, json={"code": 124, "message": "Invalid access token."}),
    ],
)
def test_rejected_token_is_flushed_and_the_request_retried_once(
    zoom_credentials: ZoomCredentials, fake: FakeZoom, rejection: httpx.Response
) -> None:
    fake.on("GET", PORTS, [rejection, httpx.Response(200, json=CRC)])
    with ZoomClient(zoom_credentials, transport=httpx.MockTransport(fake)) as api:
        assert api.crc.ports().ports_in_use == 1
    assert fake.tokens_issued == 2
    assert [r.headers["Authorization"] for r in fake.requests] == ["Bearer token-1", "Bearer token-2"]


def test_a_second_rejection_is_raised_not_looped(zoom_credentials: ZoomCredentials, fake: FakeZoom) -> None:
    fake.on("GET", PORTS, httpx.Response(401, json={"code": 124, "message": "Invalid access token."}))
    with ZoomClient(zoom_credentials, transport=httpx.MockTransport(fake)) as api:
        with pytest.raises(AuthenticationError) as caught:
            api.crc.ports()
    assert caught.value.code == 124
    assert len(fake.requests) == 2 and fake.tokens_issued == 2


def test_async_rejection_is_retried_once(zoom_credentials: ZoomCredentials, fake: FakeZoom) -> None:
    fake.on("GET", PORTS, [httpx.Response(401, json={"code": 124, "message": "expired"}),
                           httpx.Response(200, json=CRC)])

    async def main() -> int:
        async with AsyncZoomClient(zoom_credentials, transport=httpx.MockTransport(fake)) as api:
            return (await api.crc.ports()).ports_in_use

    assert asyncio.run(main()) == 1
    assert fake.tokens_issued == 2


def test_refused_credentials_raise_without_the_secret(zoom_credentials: ZoomCredentials) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"reason": "Invalid client_id or client_secret",
                                         "error": "invalid_client"})

    with ZoomClient(zoom_credentials, transport=httpx.MockTransport(handler)) as api:
        with pytest.raises(AuthenticationError) as caught:
            api.crc.ports()
    assert caught.value.code == "invalid_client"
    assert "Invalid client_id or client_secret" in str(caught.value)
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value.body)


def test_token_answer_without_access_token_is_a_validation_error(zoom_credentials: ZoomCredentials) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"token_type": "bearer"})

    with ZoomClient(zoom_credentials, transport=httpx.MockTransport(handler)) as api:
        with pytest.raises(Exception, match="access_token") as caught:
            api.crc.ports()
    assert type(caught.value).__name__ == "ApiResponseValidationError"


class FakePortSip:
    """PortSIP token endpoint: password grant, refresh grant (refresh tokens are single-use)."""

    def __init__(self) -> None:
        self.grants: list[str] = []
        self.refresh_valid = True

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/login/oauth/token":
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            self.grants.append(form["grant_type"])
            if form["grant_type"] == "password":
                if (form["username"], form["password"]) != ("admin", "admin"):
                    return httpx.Response(401, json={"errors": [{"code": "UNAUTHORIZED",
                                                                 "message": "bad credentials"}]})
                assert form["scope"] == "all" and form["client_id"]
            elif not self.refresh_valid:
                return httpx.Response(400, json={"errors": [{"code": "INVALID_GRANT", "message": "x"}]})
            n = len(self.grants)
            return httpx.Response(200, json={"access_token": f"P{n}", "refresh_token": f"R{n}",
                                             "expires_in": 1800, "token_type": "Bearer"})
        return httpx.Response(200, json={"count": 0, "items": []})


def test_portsip_password_grant_then_refresh_grant_then_fallback() -> None:
    now = [0.0]
    server = FakePortSip()
    creds = PortSipCredentials("admin", "admin", base_url=PORTSIP_BASE)
    with PortSipClient(creds, transport=httpx.MockTransport(server), clock=lambda: now[0]) as pbx:
        pbx.conference_rooms.list().to_list()
        now[0] = 1700.0  # inside the 180 s margin of the 1800 s token
        pbx.conference_rooms.list().to_list()
        assert server.grants == ["password", "refresh_token"]
        now[0] = 3400.0
        server.refresh_valid = False
        pbx.conference_rooms.list().to_list()
    assert server.grants == ["password", "refresh_token", "refresh_token", "password"]


def test_portsip_bad_password_is_an_authentication_error() -> None:
    creds = PortSipCredentials("admin", "wrong-password", base_url=PORTSIP_BASE)
    with PortSipClient(creds, transport=httpx.MockTransport(FakePortSip())) as pbx:
        with pytest.raises(AuthenticationError) as caught:
            pbx.conference_rooms.list().to_list()
    assert caught.value.code == "UNAUTHORIZED"
    assert "wrong-password" not in str(caught.value)


def test_auth_reprs_hold_no_secret() -> None:
    zoom = ZoomServerToServerAuth("a", "c", SECRET)
    pbx = PortSipPasswordAuth(PORTSIP_BASE, "admin", SECRET)
    assert SECRET not in repr(zoom) and SECRET not in repr(pbx)
    assert SECRET not in repr(vars(zoom)) or "_basic" in vars(zoom)  # kept only inside BasicAuth


def test_a_failed_token_fetch_releases_the_lock_and_the_get_is_retried(
    zoom_credentials: ZoomCredentials, fake: FakeZoom
) -> None:
    failures = [1]

    def flaky_token(request: httpx.Request) -> httpx.Response:
        if failures:
            failures.pop()
            raise httpx.ConnectError("token endpoint unreachable", request=request)
        return FakeZoom.token(fake, request)

    fake.token = flaky_token  # type: ignore[method-assign]
    fake.on("GET", PORTS, httpx.Response(200, json=CRC))
    slept: list[float] = []
    with ZoomClient(zoom_credentials, transport=httpx.MockTransport(fake), sleep=slept.append) as api:
        assert api.crc.ports().ports_in_use == 1
    assert len(slept) == 1 and fake.tokens_issued == 1


def test_concurrent_rejections_fetch_one_replacement_token(
    zoom_credentials: ZoomCredentials, fake: FakeZoom
) -> None:
    """12 concurrent requests share token-1, all see it rejected (code 124), and together fetch
    exactly one replacement."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return fake.token(request)
        if request.headers["Authorization"] == "Bearer token-1":
            return httpx.Response(401, json={"code": 124, "message": "Access token is expired."})
        return httpx.Response(200, json=CRC)

    async def main() -> None:
        async with AsyncZoomClient(zoom_credentials, transport=httpx.MockTransport(handler)) as api:
            results = await asyncio.gather(*(api.crc.ports() for _ in range(12)))
        assert all(r.ports_in_use == 1 for r in results)

    asyncio.run(main())
    assert fake.tokens_issued == 2
