"""A local emulator of the Zoom and PortSIP surfaces that :mod:`api_client` covers.

An ASGI app (Starlette, served by uvicorn) with its state in SQLite:

- Zoom under ``/v2`` with the token endpoint at ``/oauth/token`` (any client credentials unless
  configured otherwise), Zoom-style error bodies, ``next_page_token`` paging and configurable
  per-second and daily rate limits that answer 429 with ``Retry-After``;
- PortSIP under ``/api`` with ``/api/login/oauth/token`` (user ``admin``, password ``admin``);
- emulator-only control under ``/v2/_emulator/``: ``POST /v2/_emulator/calls`` (a device reports
  a call: one CRC port in use; 409 when the pool is full), ``DELETE /v2/_emulator/calls/{id}``
  (the call ended), ``GET /v2/_emulator/calls``, ``GET/PATCH /v2/_emulator/config``.
  ``ports_in_use`` in ``/v2/accounts/{id}/crc[/ports]`` is the number of calls in progress, and
  ``GET /v2/metrics/crc`` is computed from the calls' history.

Start it in-process with :func:`run_emulator` (a context manager yielding an
:class:`EmulatorServer` on a free loopback port; ``async with EmulatorServer()`` from async code)
or from the command line with
``crcgw emulator --port N [--db FILE]``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api_client.clients import AsyncZoomClient, PortSipCredentials, ZoomClient, ZoomCredentials
from api_client.emulator._core import Emulator, EmulatorSettings
from api_client.emulator._meeting_routes import meeting_routes
from api_client.emulator._numbers_routes import number_routes
from api_client.emulator._portsip_routes import portsip_app_routes
from api_client.emulator._store import Store
from api_client.emulator._zoom_routes import meeting_passcode, zoom_app_routes
from api_client.models.emulator import EmulatorCall

__all__ = [
    "EmulatorServer",
    "EmulatorSettings",
    "create_app",
    "meeting_passcode",
    "run_emulator",
    "serve",
]

log = logging.getLogger(__name__)


def create_app(
    db: str | Path | None = None,
    settings: EmulatorSettings | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    """The ASGI app. ``db=None`` keeps the state in memory."""
    emulator = Emulator(Store(db), settings or EmulatorSettings(), clock)
    routes = [
        *zoom_app_routes(emulator),
        *meeting_routes(emulator),  # after the seed's /rooms/connectors
        *number_routes(emulator),
        *portsip_app_routes(emulator),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            body = {"errors": [{"code": "NOT_FOUND", "message": "No such endpoint."}]}
            return JSONResponse(body, status_code=404)
        return JSONResponse({"code": 404, "message": "No such endpoint."}, status_code=404)

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return JSONResponse({"code": 405, "message": "Method not allowed."}, status_code=405)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        emulator.store.close()

    app = Starlette(
        routes=routes,
        exception_handlers={404: not_found, 405: not_allowed},
        lifespan=lifespan,
    )
    app.state.emulator = emulator
    return app


def _loopback_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


class EmulatorServer:
    """The emulator served by uvicorn on a background thread (``port=0``: a free port)."""

    def __init__(
        self,
        db: str | Path | None = None,
        settings: EmulatorSettings | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.settings = settings or EmulatorSettings()
        self.app = create_app(db, self.settings)
        self._socket = _loopback_socket(host, port)
        self.host = host
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            daemon=True,
            name=f"crcgw-emulator-{self.port}",
        )

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def zoom_url(self) -> str:
        return self.base_url + "/v2"

    @property
    def portsip_url(self) -> str:
        return self.base_url + "/api"

    def zoom_credentials(self, account_id: str = "emulator-account") -> ZoomCredentials:
        return ZoomCredentials(
            account_id, "emulator-client", "emulator-secret", base_url=self.zoom_url
        )

    def portsip_credentials(self) -> PortSipCredentials:
        user, password = next(iter(self.settings.portsip_users.items()))
        return PortSipCredentials(user, password, base_url=self.portsip_url)

    def zoom_client(self) -> ZoomClient:
        return ZoomClient(self.zoom_credentials(self.settings.account_id))

    def start_call(
        self, device_id: str | None = None, meeting_id: str | None = None
    ) -> EmulatorCall:
        """Report a call from a device (one CRC port in use until :meth:`end_call`)."""
        with self.zoom_client() as client:
            return client.emulator.start_call(device_id, meeting_id)

    def end_call(self, call_id: str) -> None:
        with self.zoom_client() as client:
            client.emulator.end_call(call_id)

    def start(self, timeout: float = 10.0) -> Self:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the emulator did not start on {self.base_url}")
            time.sleep(0.01)
        log.info("emulator listening on %s", self.base_url)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._socket.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        """``async with EmulatorServer() as emu:`` starts it without blocking the event loop."""
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)

    async def astart_call(
        self, device_id: str | None = None, meeting_id: str | None = None
    ) -> EmulatorCall:
        """Async :meth:`start_call` (for the gateway's embedded mode)."""
        async with AsyncZoomClient(self.zoom_credentials(self.settings.account_id)) as client:
            return await client.emulator.start_call(device_id, meeting_id)

    async def aend_call(self, call_id: str) -> None:
        async with AsyncZoomClient(self.zoom_credentials(self.settings.account_id)) as client:
            await client.emulator.end_call(call_id)


@contextmanager
def run_emulator(
    db: str | Path | None = None,
    settings: EmulatorSettings | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[EmulatorServer]:
    """Run the emulator in-process for the duration of the ``with`` block."""
    server = EmulatorServer(db, settings, host=host, port=port).start()
    try:
        yield server
    finally:
        server.stop()


def serve(
    host: str = "127.0.0.1",
    port: int = 8808,
    db: str | Path | None = None,
    settings: EmulatorSettings | None = None,
) -> None:
    """Serve in the foreground until interrupted (``crcgw emulator``)."""
    app = create_app(db, settings)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
