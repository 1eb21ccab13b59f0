"""Fixtures for the api_client tests: the emulator on a free loopback port, mock handlers,
credentials, and a clean token cache for every test."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from api_client import ZoomCredentials, clear_token_cache
from api_client.emulator import EmulatorServer, EmulatorSettings, run_emulator

SECRET = "s3cr3t-client-secret-value"
MOCK_BASE = "https://api.zoom.test/v2"
MOCK_TOKEN_URL = "https://zoom.test/oauth/token"
PORTSIP_BASE = "https://pbx.test/api"


@pytest.fixture(autouse=True)
def _fresh_token_cache() -> Iterator[None]:
    clear_token_cache()
    yield
    clear_token_cache()


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with run_emulator() as server:
        yield server


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., EmulatorServer]]:
    """Start emulators with custom settings or a database file; all are stopped at the end."""
    started: list[EmulatorServer] = []

    def start(db: Any = None, settings: EmulatorSettings | None = None) -> EmulatorServer:
        server = EmulatorServer(db, settings).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def zoom_credentials() -> ZoomCredentials:
    return ZoomCredentials(
        "acct-1", "client-1", SECRET, base_url=MOCK_BASE, token_url=MOCK_TOKEN_URL
    )


Route = Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeZoom:
    """A small fake server for ``httpx.MockTransport``: a token endpoint plus the routes a test
    registers; any other request fails the test. Records every request it sees."""

    routes: dict[tuple[str, str], Route | list[httpx.Response]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    token_requests: list[httpx.Request] = field(default_factory=list)
    tokens_issued: int = 0
    expires_in: int = 3600

    def on(self, method: str, path: str, answer: Route | list[httpx.Response] | httpx.Response) -> None:
        if isinstance(answer, httpx.Response):
            answer = [answer]
        self.routes[(method, path)] = answer

    def token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests.append(request)
        self.tokens_issued += 1
        return httpx.Response(
            200,
            json={
                "access_token": f"token-{self.tokens_issued}",
                "token_type": "bearer",
                "expires_in": self.expires_in,
            },
        )

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path in ("/oauth/token", "/api/login/oauth/token"):
            return self.token(request)
        request.read()
        self.requests.append(  # a copy: auth flows re-send the same object with new headers
            httpx.Request(request.method, request.url, headers=request.headers.copy(),
                          content=request.content)
        )
        key = (request.method, request.url.path)
        if key not in self.routes:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        answer = self.routes[key]
        if isinstance(answer, list):
            if len(answer) > 1:
                return answer.pop(0)
            return answer[0]
        return answer(request)

    @property
    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


@pytest.fixture
def fake() -> FakeZoom:
    return FakeZoom()


class Sleeps:
    """Records the delays the clients ask for instead of sleeping."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, delay: float) -> None:
        self.delays.append(delay)

    async def asleep(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
