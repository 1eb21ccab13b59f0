"""OAuth as :class:`httpx.Auth`: Zoom server-to-server and PortSIP password grant.

Both flows share one shape (:class:`CachedTokenAuth`):

- one cached token per process and credential set (a module-level cache keyed by token URL,
  account or user, client id and a hash of the secret), so every client built with the same
  credentials reuses it;
- refreshed ahead of expiry (``refresh_margin`` seconds early, at most a tenth of its lifetime);
- single-flight: a ``threading.Lock`` for the sync client and one ``asyncio.Lock`` per event loop
  for the async client are held while the token is fetched, so concurrent requests never fetch
  more than one token at a time; the waiters then reuse the fresh token;
- on 401, or a Zoom body with code 124 ("Invalid access token" / "Access token is expired"), the
  token that was used is flushed (unless someone already replaced it) and the request retried once.

The token request is yielded by the flow, so it goes through the client's own transport and no
I/O happens here. Tokens never appear in reprs, logs or exceptions.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass, field

import httpx

from api_client.errors import ApiResponseValidationError, AuthenticationError, error_class_for
from api_client.redact import redact

__all__ = [
    "CachedTokenAuth",
    "PortSipPasswordAuth",
    "ZOOM_INVALID_TOKEN_CODE",
    "ZoomServerToServerAuth",
    "clear_token_cache",
]

ZOOM_INVALID_TOKEN_CODE = 124
DEFAULT_REFRESH_MARGIN = 300.0


@dataclass
class _Token:
    access_token: str = field(repr=False)
    refresh_at: float
    expires_at: float
    refresh_token: str | None = field(default=None, repr=False)


class _TokenState:
    """The shared, per-credential cache entry."""

    def __init__(self) -> None:
        self.token: _Token | None = None
        self.fetches = 0
        self.thread_lock = threading.Lock()
        self._locks_guard = threading.Lock()
        self._async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def async_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._locks_guard:
            lock = self._async_locks.get(loop)
            if lock is None:
                lock = self._async_locks[loop] = asyncio.Lock()
            return lock


_CACHE: dict[tuple[str, ...], _TokenState] = {}
_CACHE_LOCK = threading.Lock()


def clear_token_cache() -> None:
    """Forget every cached token (tests, credential rotation)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _state_for(key: tuple[str, ...]) -> _TokenState:
    with _CACHE_LOCK:
        state = _CACHE.get(key)
        if state is None:
            state = _CACHE[key] = _TokenState()
        return state


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


class CachedTokenAuth(httpx.Auth):
    """Bearer auth with a cached, shared, single-flight token; subclasses build token requests."""

    # The flows below read error bodies themselves (to see Zoom's code 124); success bodies are
    # left to the client, so no response is read twice.
    requires_response_body = False
    endpoint = "POST /oauth/token"

    def __init__(
        self,
        cache_key: tuple[str, ...],
        *,
        clock: Callable[[], float] = time.monotonic,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
    ) -> None:
        self._state = _state_for(cache_key)
        self._clock = clock
        self._refresh_margin = refresh_margin

    def __repr__(self) -> str:
        return f"{type(self).__name__}(fetches={self._state.fetches})"

    @property
    def token_fetches(self) -> int:
        """How many token requests this credential set has made in this process."""
        return self._state.fetches

    def invalidate(self) -> None:
        """Flush the cached token."""
        self._state.token = None

    # -- to implement -------------------------------------------------------------------------
    def token_request(self, refresh_token: str | None) -> httpx.Request:
        raise NotImplementedError

    # -- I/O-free pieces ----------------------------------------------------------------------
    def _fresh(self) -> _Token | None:
        token = self._state.token
        if token is not None and self._clock() < token.refresh_at:
            return token
        return None

    def _refresh_token(self) -> str | None:
        token = self._state.token
        if token is not None and token.refresh_token and self._clock() < token.expires_at:
            return token.refresh_token
        return None

    def _store(self, response: httpx.Response) -> _Token:
        if response.status_code != 200:
            raise _token_error(response, self.endpoint)
        try:
            data = json.loads(response.content)
            access = data["access_token"]
            expires_in = float(data.get("expires_in") or 3599)
        except (ValueError, KeyError, TypeError):
            raise ApiResponseValidationError(
                "token answer has no access_token", endpoint=self.endpoint, field="access_token"
            ) from None
        if not isinstance(access, str) or not access:
            raise ApiResponseValidationError(
                "access_token is not a string", endpoint=self.endpoint, field="access_token"
            )
        now = self._clock()
        margin = min(self._refresh_margin, expires_in / 10)
        refresh = data.get("refresh_token")
        token = _Token(
            access_token=access,
            refresh_at=now + expires_in - margin,
            expires_at=now + expires_in,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        )
        self._state.token = token
        self._state.fetches += 1
        return token

    @staticmethod
    def _rejected(response: httpx.Response) -> bool:
        if response.status_code == 401:
            return True
        if response.status_code < 400:
            return False
        try:
            body = json.loads(response.content)
        except ValueError:
            return False
        return isinstance(body, dict) and body.get("code") == ZOOM_INVALID_TOKEN_CODE

    def _flush(self, used: _Token) -> None:
        if self._state.token is used:
            self._state.token = None

    @staticmethod
    def _authorize(request: httpx.Request, token: _Token) -> httpx.Request:
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        return request

    # -- sync ---------------------------------------------------------------------------------
    @staticmethod
    def _sync_send(
        request: httpx.Request,
    ) -> Generator[httpx.Request, httpx.Response, httpx.Response]:
        response = yield request
        response.read()
        return response

    def _sync_token(self) -> Generator[httpx.Request, httpx.Response, _Token]:
        with self._state.thread_lock:
            token = self._fresh()
            if token is not None:
                return token
            refresh = self._refresh_token()
            response = yield from self._sync_send(self.token_request(refresh))
            if refresh is not None and response.status_code in (400, 401):
                response = yield from self._sync_send(self.token_request(None))
            return self._store(response)

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._fresh()  # the fast path takes no lock
        if token is None:
            token = yield from self._sync_token()
        response = yield self._authorize(request, token)
        if response.status_code >= 400:  # only error bodies are read here (code 124)
            response.read()
        if self._rejected(response):
            self._flush(token)
            token = yield from self._sync_token()
            yield self._authorize(request, token)

    # -- async --------------------------------------------------------------------------------
    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = self._fresh()
        if token is None:
            async with self._state.async_lock():
                token = self._fresh()
                if token is None:
                    refresh = self._refresh_token()
                    answer = yield self.token_request(refresh)
                    await answer.aread()
                    if refresh is not None and answer.status_code in (400, 401):
                        answer = yield self.token_request(None)
                        await answer.aread()
                    token = self._store(answer)
        response = yield self._authorize(request, token)
        if response.status_code >= 400:  # only error bodies are read here (code 124)
            await response.aread()
        if self._rejected(response):
            self._flush(token)
            async with self._state.async_lock():
                fresh = self._fresh()
                if fresh is None:
                    answer = yield self.token_request(None)
                    await answer.aread()
                    fresh = self._store(answer)
            yield self._authorize(request, fresh)


def _token_error(response: httpx.Response, endpoint: str) -> Exception:
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    message = "token request refused"
    code: int | str | None = None
    if isinstance(body, dict):
        reason = body.get("reason") or body.get("error_description") or body.get("message")
        if isinstance(reason, str):
            message = reason
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            message = str(errors[0].get("message", message))
            code = errors[0].get("code")
        elif isinstance(body.get("error"), str):
            code = body["error"]
    cls = (
        AuthenticationError
        if response.status_code in (400, 401, 403)
        else error_class_for(response.status_code)
    )
    return cls(
        message, status_code=response.status_code, endpoint=endpoint, code=code, body=redact(body)
    )


class ZoomServerToServerAuth(CachedTokenAuth):
    """Zoom server-to-server OAuth (``grant_type=account_credentials``).

    ``POST {token_url}`` with HTTP Basic ``client_id:client_secret`` and the form
    ``grant_type=account_credentials&account_id=…``; the answer's ``access_token`` lives
    ``expires_in`` seconds (3600 at Zoom) and has no refresh token.
    """

    def __init__(
        self,
        account_id: str,
        client_id: str,
        client_secret: str,
        *,
        token_url: str = "https://zoom.us/oauth/token",
        clock: Callable[[], float] = time.monotonic,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
    ) -> None:
        super().__init__(
            ("zoom", token_url, account_id, client_id, _secret_hash(client_secret)),
            clock=clock,
            refresh_margin=refresh_margin,
        )
        self._account_id = account_id
        self._basic = httpx.BasicAuth(client_id, client_secret)
        self._token_url = token_url

    def token_request(self, refresh_token: str | None) -> httpx.Request:
        request = httpx.Request(
            "POST",
            self._token_url,
            data={"grant_type": "account_credentials", "account_id": self._account_id},
        )
        return next(self._basic.auth_flow(request))


#: The ``client_id`` PortSIP's documentation prescribes for its REST API (a fixed value).
PORTSIP_CLIENT_ID = "9d806019-75b2-4b3d-bb8b-f5a3a412cc0a"


class PortSipPasswordAuth(CachedTokenAuth):
    """PortSIP PBX OAuth: ``POST {base}/login/oauth/token`` with ``grant_type=password``, then
    ``grant_type=refresh_token`` once the access token is due (PortSIP's documents print 1800
    and 3600 s; the answer's ``expires_in`` is used); a refused refresh falls back to the
    password grant. ``client_id`` defaults to PortSIP's documented fixed value; ``domain`` is
    the tenant's SIP domain, sent by tenant users (not by the system administrator)."""

    endpoint = "POST /login/oauth/token"

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        client_id: str = PORTSIP_CLIENT_ID,
        domain: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
    ) -> None:
        token_url = base_url.rstrip("/") + "/login/oauth/token"
        super().__init__(
            ("portsip", token_url, username, domain or "", client_id, _secret_hash(password)),
            clock=clock,
            refresh_margin=refresh_margin,
        )
        self._token_url = token_url
        self._username = username
        self._password = password
        self._client_id = client_id
        self._domain = domain

    def token_request(self, refresh_token: str | None) -> httpx.Request:
        if refresh_token is not None:
            form = {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": self._client_id,
            }
        else:
            form = {
                "grant_type": "password",
                "username": self._username,
                "password": self._password,
                "scope": "all",
                "client_id": self._client_id,
            }
            if self._domain:
                form["domain"] = self._domain
        return httpx.Request("POST", self._token_url, data=form)
