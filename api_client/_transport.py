"""The send loop: rate limiter, retries and error mapping around one httpx client.

:class:`AsyncSender` and :class:`SyncSender` differ only in how they wait and send; every
decision is made by :func:`_outcome` and the :class:`~api_client.retry.RetryPolicy`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

import httpx

from api_client._call import Call, decode, status_error
from api_client.errors import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    DailyRateLimitError,
    NotAtZoomError,
    RateLimitError,
)
from api_client.ratelimit import RateLimiter
from api_client.redact import redact_url
from api_client.retry import RetryPolicy, parse_retry_after

__all__ = ["AsyncSender", "ClientState", "SenderConfig", "SyncSender"]

T = TypeVar("T")
log = logging.getLogger("api_client")
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class ClientState(Enum):
    UNOPENED = 1
    OPENED = 2
    CLOSED = 3


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class SenderConfig:
    """What both senders share. ``sleep`` and the clocks are injectable for tests."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    limiter: RateLimiter | None = None
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], datetime] = _utcnow
    retries_taken: int = 0
    #: True when the base URL is api.zoom.us: calls with ``not_at_zoom`` are refused unsent.
    real_zoom: bool = False


def _refuse_if_not_at_zoom(config: SenderConfig, call: Call[Any]) -> None:
    if config.real_zoom and call.not_at_zoom:
        raise NotAtZoomError(call.not_at_zoom, endpoint=call.endpoint)


class _Retry:
    __slots__ = ("delay",)

    def __init__(self, delay: float) -> None:
        self.delay = delay


def _outcome(
    config: SenderConfig, call: Call[T], response: httpx.Response, attempt: int
) -> T | _Retry:
    """Decode a success, choose a retry delay, or raise the typed error."""
    if log.isEnabledFor(logging.DEBUG):
        log.debug(
            "%s %s -> %d", call.method, redact_url(response.request.url), response.status_code
        )
    if response.status_code < 300:
        return decode(call, response)
    error = status_error(call, response, config.wall_clock())
    if isinstance(error, RateLimitError) and not isinstance(error, DailyRateLimitError):
        delay = config.retry.retry_rate_limited(error.retry_after, attempt)
        if (
            delay is None
            and error.retry_after is not None
            and error.retry_after > config.retry.max_retry_after
        ):
            raise DailyRateLimitError(
                error.message,
                retry_after=error.retry_after,
                reset_at=error.reset_at,
                label=error.label,
                status_code=429,
                endpoint=call.endpoint,
                code=error.code,
                body=error.body,
                request_id=error.request_id,
            )
    else:
        hint = parse_retry_after(response.headers.get("retry-after"), config.wall_clock())
        delay = config.retry.retry_status(
            call.method, response.status_code, attempt, hint[0] if hint else None
        )
    if delay is None or isinstance(error, DailyRateLimitError):
        raise error
    return _Retry(delay)


def _connection_retry(
    config: SenderConfig, call: Call[Any], exc: httpx.TransportError, attempt: int
) -> float:
    delay = config.retry.retry_connection(call.method, attempt)
    if delay is None:
        cls = ApiTimeoutError if isinstance(exc, httpx.TimeoutException) else ApiConnectionError
        raise cls(
            f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
            endpoint=call.endpoint,
        ) from exc
    log.info("%s: %s, retry %d in %.2fs", call.endpoint, type(exc).__name__, attempt, delay)
    return delay


class AsyncSender:
    """Sends :class:`Call` objects through an :class:`httpx.AsyncClient`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        config: SenderConfig,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.http = http
        self.config = config
        self._sleep = sleep

    async def __call__(self, call: Call[T]) -> T:
        config = self.config
        _refuse_if_not_at_zoom(config, call)
        attempt = 0
        while True:
            attempt += 1
            if config.limiter is not None:
                wait = config.limiter.reserve(call.label, config.clock())
                if wait > 0:
                    await self._sleep(wait)
            request = call.build(self.http)
            try:
                response = await self.http.send(request)
            except ApiError:
                raise
            except httpx.TransportError as exc:
                delay = _connection_retry(config, call, exc, attempt)
            except httpx.HTTPError as exc:  # decoding, redirects: not worth a retry
                raise ApiConnectionError(
                    f"{type(exc).__name__}: {exc}", endpoint=call.endpoint
                ) from exc
            else:
                result = _outcome(config, call, response, attempt)
                if not isinstance(result, _Retry):
                    return result
                delay = result.delay
            config.retries_taken += 1
            await self._sleep(delay)


class SyncSender:
    """Sends :class:`Call` objects through an :class:`httpx.Client`."""

    def __init__(
        self, http: httpx.Client, config: SenderConfig, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.http = http
        self.config = config
        self._sleep = sleep

    def __call__(self, call: Call[T]) -> T:
        config = self.config
        _refuse_if_not_at_zoom(config, call)
        attempt = 0
        while True:
            attempt += 1
            if config.limiter is not None:
                wait = config.limiter.reserve(call.label, config.clock())
                if wait > 0:
                    self._sleep(wait)
            request = call.build(self.http)
            try:
                response = self.http.send(request)
            except ApiError:
                raise
            except httpx.TransportError as exc:
                delay = _connection_retry(config, call, exc, attempt)
            except httpx.HTTPError as exc:  # decoding, redirects: not worth a retry
                raise ApiConnectionError(
                    f"{type(exc).__name__}: {exc}", endpoint=call.endpoint
                ) from exc
            else:
                result = _outcome(config, call, response, attempt)
                if not isinstance(result, _Retry):
                    return result
                delay = result.delay
            config.retries_taken += 1
            self._sleep(delay)
