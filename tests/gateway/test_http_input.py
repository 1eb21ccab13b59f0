"""No 500 from input: malformed and random requests to every control-API route get a 4xx
with a message (or a normal answer), never a 5xx or a traceback."""

from __future__ import annotations

import asyncio
import json
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from gateway.http_api import HttpServer, create_app
from gateway.metrics import GatewayMetrics
from gateway.ports import PortPool
from gateway.store import Store, open_store
from tests.gateway.control import StoreControl

TOKEN = "s3cret-token-for-tests"

#: Every route with its method; ``{}`` is filled with a generated path segment.
ROUTES = [
    ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/rooms"),
    ("POST", "/rooms/{}/register"), ("GET", "/calls"), ("POST", "/calls"),
    ("DELETE", "/calls/{}"), ("GET", "/ports"), ("GET", "/cdrs"),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path: Path = tmp_path_factory.mktemp("input") / "gw.sqlite3"
    st_ = open_store(f"sqlite:///{path}", ttl=60)
    st_.set_pool_size(1_000_000)  # a refusal for want of ports is not what is tested here
    yield st_
    st_.close()


def app_for(store: Store) -> Any:
    metrics = GatewayMetrics()
    control = StoreControl(PortPool(store, "gw", metrics=metrics), ["boardroom", "huddle"],
                           ["udp://127.0.0.1:5060"])
    return create_app(control, token=SecretStr(TOKEN), metrics=metrics)


def assert_clean(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert "Traceback" not in response.text and 'File "' not in response.text
    if response.status_code >= 400 and response.status_code != 405:
        assert response.json()["error"]  # a message that says what was wrong


def nested(depth: int) -> bytes:
    return b'{"room": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/calls", nested(1000)),
    ("POST", "/calls", nested(30000)),
    ("POST", "/calls", b'{"room": "boardroom", "meeting_id": ' + b"9" * 5000 + b"}"),
    ("POST", "/calls", b'{"room": "boardroom", "invitation": "' + b"1" * 30000 + b'"}'),
    ("POST", "/calls", b'{"room": "boardroom", "meeting_id": "\\ud800"}'),
    ("POST", "/calls", b"\xff\xfe{"),
    ("GET", "/cdrs?limit=\xc2\xb2", b""),
    ("GET", "/cdrs?limit=%C2%B2", b""),
    ("GET", "/cdrs?limit=%D9%A3", b""),
    ("GET", "/cdrs?room=%00", b""),
    ("GET", "/cdrs?limit=99999999999999999999999999", b""),
    ("DELETE", "/calls/%FF%FE", b""),
    ("POST", "/rooms///register", b""),  # no route: starlette's own 404, as JSON (hypothesis found it)
    ("PUT", "/ports", b""),  # starlette's own 405
])
def test_malformed_requests_get_a_4xx_on_a_real_uvicorn(
    store: Store, method: str, path: str, body: bytes
) -> None:
    async def main() -> None:
        server = HttpServer(app_for(store), "127.0.0.1", 0)
        address = await server.start()
        try:
            async with httpx.AsyncClient(base_url=f"http://{address}", timeout=30) as client:
                response = await client.request(
                    method, httpx.URL(f"http://{address}{path}"), content=body,
                    headers={"Authorization": f"Bearer {TOKEN}",
                             "Content-Type": "application/json"},
                )
            assert_clean(response)
            assert 400 <= response.status_code < 500, response.text
        finally:
            await server.stop()

    asyncio.run(main())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["room", "meeting_id", "passcode", "layout", "host_key",
                                       "protocol", "host", "invitation", "x"]) | st.text(max_size=8),
                      children, max_size=5),
    max_leaves=20,
)
bodies = st.one_of(
    st.binary(max_size=200),
    st.integers(min_value=1, max_value=20000).map(nested),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"room": st.sampled_from(["boardroom", "nobody", ""])},
                          optional={"meeting_id": st.text(max_size=14) | st.integers(),
                                    "passcode": st.text(max_size=12) | st.none(),
                                    "protocol": st.text(max_size=5),
                                    "host": st.text(max_size=20),
                                    "layout": st.text(max_size=5),
                                    "invitation": st.text(max_size=200)})
    .map(lambda v: json.dumps(v).encode()),
)
header_names = st.text(string.ascii_letters + "-", min_size=1, max_size=20)
header_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF,
                                      exclude_characters="\x7f"), max_size=60)
headers = st.dictionaries(header_names, header_values, max_size=4) | st.just({})
auth = st.sampled_from([None, f"Bearer {TOKEN}", "Bearer wrong", "Basic eA==", "Bearer",
                        f"bearer  {TOKEN} "])
#: Values that look like numbers to str.isdigit() or int() but are not all plain ASCII digits.
odd_numbers = st.sampled_from(["\u00b2", "\u0663", "\uff11", "1\u00b2", "-1", "0", "1e3", " 5",
                               "10001", "9" * 30, "\x00", "1_000"])
query = st.lists(st.tuples(st.sampled_from(["limit", "room", "x", ""]) | st.text(max_size=6),
                           odd_numbers | st.text(max_size=12)), max_size=4)
segment = st.text(max_size=20)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(route=st.sampled_from(ROUTES), method=st.sampled_from(["GET", "POST", "DELETE", "PUT"])
       | st.none(), segment=segment, body=bodies, headers=headers, auth=auth, query=query)
def test_random_requests_to_every_route_never_get_a_5xx(
    store: Store, route: tuple[str, str], method: str | None, segment: str, body: bytes,
    headers: dict[str, str], auth: str | None, query: list[tuple[str, str]],
) -> None:
    verb, template = route
    path = template.replace("{}", quote(segment, safe="") or "x")
    sent = {name.encode(): value.encode("latin-1") for name, value in headers.items()
            if name.lower() not in ("content-length", "transfer-encoding", "host", "connection")}
    if auth is not None:
        sent[b"Authorization"] = auth.encode()

    async def main() -> None:
        transport = httpx.ASGITransport(app=app_for(store), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            response = await client.request(method or verb, path, params=query, content=body,
                                            headers=sent)
        assert_clean(response)

    asyncio.run(main())
