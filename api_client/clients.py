"""The clients: :class:`AsyncZoomClient`/:class:`ZoomClient` and
:class:`AsyncPortSipClient`/:class:`PortSipClient`.

Each is a context manager owning one httpx client (``transport`` may be injected, e.g.
:class:`httpx.MockTransport`), an :class:`httpx.Auth` (OAuth with a cached token), a
:class:`~api_client.retry.RetryPolicy` and an optional client-side
:class:`~api_client.ratelimit.RateLimiter`. ``close()`` is idempotent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Self, TypedDict, Unpack

import httpx

from api_client import _resources_async as ar
from api_client import _resources_sync as sr
from api_client._call import Call
from api_client._transport import (
    DEFAULT_TIMEOUT,
    AsyncSender,
    ClientState,
    SenderConfig,
    SyncSender,
)
from api_client.auth import PORTSIP_CLIENT_ID, PortSipPasswordAuth, ZoomServerToServerAuth
from api_client.ratelimit import RateLimiter, shared_limiter
from api_client.realzoom import ZOOM_API_URL, ZOOM_TOKEN_URL, is_zoom_base
from api_client.retry import RetryPolicy

__all__ = [
    "AsyncOptions",
    "AsyncPortSipClient",
    "AsyncZoomClient",
    "PortSipClient",
    "PortSipCredentials",
    "SyncOptions",
    "ZoomClient",
    "ZoomCredentials",
]

PORTSIP_API_URL = "http://127.0.0.1:8888/api"
USER_AGENT = "crcgw-api-client/0.1"


@dataclass(frozen=True)
class ZoomCredentials:
    """Server-to-server OAuth app credentials. ``base_url`` ends in ``/v2``; ``token_url``
    defaults to Zoom's, or to ``{origin}/oauth/token`` when ``base_url`` is not api.zoom.us."""

    account_id: str
    client_id: str
    client_secret: str
    base_url: str = ZOOM_API_URL
    token_url: str | None = None

    def __repr__(self) -> str:
        return (
            f"ZoomCredentials(account_id={self.account_id!r}, client_id={self.client_id!r}, "
            f"client_secret='**********', base_url={self.base_url!r})"
        )

    def resolved_token_url(self) -> str:
        if self.token_url:
            return self.token_url
        if is_zoom_base(self.base_url):
            return ZOOM_TOKEN_URL
        url = httpx.URL(self.base_url)
        return str(url.copy_with(path="/oauth/token", query=None))


@dataclass(frozen=True)
class PortSipCredentials:
    """PortSIP PBX user; ``base_url`` ends in ``/api``. ``domain``: the tenant's SIP domain, for
    tenant users; ``client_id``: PortSIP's documented fixed value unless told otherwise."""

    username: str
    password: str
    base_url: str = PORTSIP_API_URL
    client_id: str = PORTSIP_CLIENT_ID
    domain: str | None = None

    def __repr__(self) -> str:
        return (
            f"PortSipCredentials(username={self.username!r}, password='**********', "
            f"base_url={self.base_url!r}, domain={self.domain!r})"
        )




def _base(url: str) -> str:
    return url.rstrip("/") + "/"


class _Lifecycle:
    state = ClientState.UNOPENED

    def _opened(self) -> None:
        if self.state is ClientState.CLOSED:
            raise RuntimeError("the client is closed")
        self.state = ClientState.OPENED


class AsyncOptions(TypedDict, total=False):
    """Keyword options of the async clients."""

    transport: httpx.AsyncBaseTransport | None
    timeout: httpx.Timeout
    retry: RetryPolicy | None
    sleep: Callable[[float], Awaitable[None]] | None
    clock: Callable[[], float]


class SyncOptions(TypedDict, total=False):
    """Keyword options of the sync clients."""

    transport: httpx.BaseTransport | None
    timeout: httpx.Timeout
    retry: RetryPolicy | None
    sleep: Callable[[float], None] | None
    clock: Callable[[], float]


_HEADERS = {"User-Agent": USER_AGENT, "Accept": "application/json"}


class _AsyncBase(_Lifecycle):
    def __init__(
        self,
        base_url: str,
        auth: httpx.Auth,
        limiter: RateLimiter | None,
        options: AsyncOptions,
    ) -> None:
        self.http = httpx.AsyncClient(
            base_url=_base(base_url),
            auth=auth,
            transport=options.get("transport"),
            timeout=options.get("timeout", DEFAULT_TIMEOUT),
            headers=_HEADERS,
        )
        self.config = SenderConfig(
            retry=options.get("retry") or RetryPolicy(),
            limiter=limiter,
            clock=options.get("clock", time.monotonic),
        )
        self.send = AsyncSender(self.http, self.config, options.get("sleep") or asyncio.sleep)

    async def request(self, call: Call[object]) -> object:
        """Send any :class:`~api_client._call.Call` (escape hatch for endpoints not wrapped)."""
        self._opened()
        return await self.send(call)

    @property
    def retries_taken(self) -> int:
        return self.config.retries_taken

    async def aclose(self) -> None:
        if self.state is not ClientState.CLOSED:
            self.state = ClientState.CLOSED
            await self.http.aclose()

    async def __aenter__(self) -> Self:
        self._opened()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class _SyncBase(_Lifecycle):
    def __init__(
        self,
        base_url: str,
        auth: httpx.Auth,
        limiter: RateLimiter | None,
        options: SyncOptions,
    ) -> None:
        self.http = httpx.Client(
            base_url=_base(base_url),
            auth=auth,
            transport=options.get("transport"),
            timeout=options.get("timeout", DEFAULT_TIMEOUT),
            headers=_HEADERS,
        )
        self.config = SenderConfig(
            retry=options.get("retry") or RetryPolicy(),
            limiter=limiter,
            clock=options.get("clock", time.monotonic),
        )
        self.send = SyncSender(self.http, self.config, options.get("sleep") or time.sleep)

    def request(self, call: Call[object]) -> object:
        """Send any :class:`~api_client._call.Call` (escape hatch for endpoints not wrapped)."""
        self._opened()
        return self.send(call)

    @property
    def retries_taken(self) -> int:
        return self.config.retries_taken

    def close(self) -> None:
        if self.state is not ClientState.CLOSED:
            self.state = ClientState.CLOSED
            self.http.close()

    def __enter__(self) -> Self:
        self._opened()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _zoom_auth(credentials: ZoomCredentials, clock: Callable[[], float]) -> ZoomServerToServerAuth:
    return ZoomServerToServerAuth(
        credentials.account_id,
        credentials.client_id,
        credentials.client_secret,
        token_url=credentials.resolved_token_url(),
        clock=clock,
    )


def _portsip_auth(
    credentials: PortSipCredentials, clock: Callable[[], float]
) -> PortSipPasswordAuth:
    return PortSipPasswordAuth(
        credentials.base_url,
        credentials.username,
        credentials.password,
        client_id=credentials.client_id,
        domain=credentials.domain,
        clock=clock,
    )


def _zoom_limiter(
    credentials: ZoomCredentials, limiter: RateLimiter | None | Literal["auto"]
) -> RateLimiter | None:
    """``"auto"``: Zoom's Pro-plan caps, shared by every client of the account in this process,
    when talking to api.zoom.us; no client-side limit elsewhere (emulator, test servers)."""
    if limiter != "auto":
        return limiter
    if is_zoom_base(credentials.base_url):
        return shared_limiter(credentials.account_id, "pro")
    return None


class AsyncZoomClient(_AsyncBase, ar.AsyncZoomResources):
    """Async Zoom client. Resources: ``crc``, ``meetings``, ``managed_rooms``, ``room_templates``,
    ``room_connectors`` (seed), ``sip_phones`` (seed/old form), ``sip_phones_v2``
    (``/sip_phones/phones``), ``h323_devices``, ``sip_trunk``, ``numbers``, ``porting``,
    ``number_blocks`` and ``emulator`` (emulator-only).

    Options (:class:`AsyncOptions`): ``transport``, ``timeout``, ``retry``, ``sleep``, ``clock``.
    ``limiter="auto"`` (the default) applies Zoom's Pro-plan caps, shared by every client of the
    account, when ``base_url`` is api.zoom.us; pass a :class:`RateLimiter` or ``None`` to choose.
    """

    def __init__(
        self,
        credentials: ZoomCredentials,
        *,
        limiter: RateLimiter | None | Literal["auto"] = "auto",
        **options: Unpack[AsyncOptions],
    ) -> None:
        self.credentials = credentials
        self.auth = _zoom_auth(credentials, options.get("clock", time.monotonic))
        limit = _zoom_limiter(credentials, limiter)
        _AsyncBase.__init__(self, credentials.base_url, self.auth, limit, options)
        self.config.real_zoom = is_zoom_base(credentials.base_url)
        ar.AsyncZoomResources.__init__(self, self.send, credentials.account_id)

    def __repr__(self) -> str:
        return f"AsyncZoomClient({self.credentials!r})"


class ZoomClient(_SyncBase, sr.SyncZoomResources):
    """Sync twin of :class:`AsyncZoomClient`: same resources and builders (:class:`SyncOptions`)."""

    def __init__(
        self,
        credentials: ZoomCredentials,
        *,
        limiter: RateLimiter | None | Literal["auto"] = "auto",
        **options: Unpack[SyncOptions],
    ) -> None:
        self.credentials = credentials
        self.auth = _zoom_auth(credentials, options.get("clock", time.monotonic))
        limit = _zoom_limiter(credentials, limiter)
        _SyncBase.__init__(self, credentials.base_url, self.auth, limit, options)
        self.config.real_zoom = is_zoom_base(credentials.base_url)
        sr.SyncZoomResources.__init__(self, self.send, credentials.account_id)

    def __repr__(self) -> str:
        return f"ZoomClient({self.credentials!r})"


class AsyncPortSipClient(_AsyncBase, ar.AsyncPortSipResources):
    """Async PortSIP PBX client; resource ``conference_rooms`` (options: :class:`AsyncOptions`)."""

    def __init__(self, credentials: PortSipCredentials, **options: Unpack[AsyncOptions]) -> None:
        self.credentials = credentials
        self.auth = _portsip_auth(credentials, options.get("clock", time.monotonic))
        _AsyncBase.__init__(self, credentials.base_url, self.auth, None, options)
        ar.AsyncPortSipResources.__init__(self, self.send)

    def __repr__(self) -> str:
        return f"AsyncPortSipClient({self.credentials!r})"


class PortSipClient(_SyncBase, sr.SyncPortSipResources):
    """Sync twin of :class:`AsyncPortSipClient` (options: :class:`SyncOptions`)."""

    def __init__(self, credentials: PortSipCredentials, **options: Unpack[SyncOptions]) -> None:
        self.credentials = credentials
        self.auth = _portsip_auth(credentials, options.get("clock", time.monotonic))
        _SyncBase.__init__(self, credentials.base_url, self.auth, None, options)
        sr.SyncPortSipResources.__init__(self, self.send)

    def __repr__(self) -> str:
        return f"PortSipClient({self.credentials!r})"
