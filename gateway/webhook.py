"""``POST /zoom/webhook``: Zoom's event notifications into the gateway.

Every request must carry a valid ``x-zm-signature`` over ``v0:{x-zm-request-timestamp}:{raw
body}`` with the app's secret token, a timestamp within 5 minutes, and a (timestamp, signature)
pair not seen before; anything else is answered 401 and changes nothing. Then:

- ``endpoint.url_validation``: 200 with ``plainToken`` and ``encryptedToken``;
- a notification already applied (Zoom's retry: same ``x-zm-request-id`` or the same body): 200,
  not applied again;
- usage events (see :mod:`gateway.live_usage`): applied, and the port pool is reconciled at once
  (``on_change``) so ``GET /ports`` follows the join or leave; a joined participant whose
  payload names no device is looked up afterwards, off the request, with ``resolver`` (the
  Dashboard's live participants, Heavy) when one is given;
- anything else: 200, ignored.

Bodies over 64 KiB get 413, bodies that are not a JSON notification 400.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from pydantic import SecretStr, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api_client.webhooks import (
    DEFAULT_TOLERANCE,
    DuplicateFilter,
    WebhookEvent,
    notification_key,
    url_validation_answer,
    verify_signature,
)
from gateway.live_usage import LiveUsage
from gateway.ports import LiveCalls, PortPool, PortUsage

__all__ = ["MAX_WEBHOOK_BODY", "Resolver", "WebhookReceiver", "pool_receiver"]

log = logging.getLogger(__name__)

MAX_WEBHOOK_BODY = 64 * 1024

#: Meeting number -> identifiers of its room-system participants now (the Dashboard).
Resolver = Callable[[str], Awaitable[set[str]]]


def _refuse(message: str) -> Response:
    return JSONResponse({"error": message}, status_code=401)


class WebhookReceiver:
    """Checks and applies notifications; ``on_change`` runs after each change of the count."""

    def __init__(
        self,
        secret: SecretStr,
        live: LiveUsage,
        on_change: Callable[[], Awaitable[None]] | None = None,
        *,
        clock: Callable[[], float] = time.time,
        tolerance: float = DEFAULT_TOLERANCE,
        resolver: Resolver | None = None,
    ) -> None:
        self._secret = secret
        self.live = live
        self.on_change = on_change
        self.resolver = resolver
        self._resolving: dict[str, asyncio.Task[None]] = {}
        self.clock = clock
        self.tolerance = tolerance
        self._signatures = DuplicateFilter(window=2 * tolerance + 60)
        self._notifications = DuplicateFilter()
        self.counts = {"accepted": 0, "refused": 0, "duplicate": 0}

    def __repr__(self) -> str:
        return f"WebhookReceiver(secret='**********', in_use={self.live.in_use()})"

    async def handle(self, request: Request) -> Response:
        """The ``POST /zoom/webhook`` endpoint."""
        body = await request.body()
        if len(body) > MAX_WEBHOOK_BODY:
            return JSONResponse({"error": "notification too large"}, status_code=413)
        now = self.clock()
        timestamp = request.headers.get("x-zm-request-timestamp")
        signature = request.headers.get("x-zm-signature")
        secret = self._secret.get_secret_value()
        if not verify_signature(secret, timestamp, body, signature, now=now,
                                tolerance=self.tolerance):
            self.counts["refused"] += 1
            log.warning("webhook refused: bad, missing or stale signature")
            return _refuse("invalid signature or timestamp")
        if self._signatures.seen(f"{timestamp}:{signature}", now):
            self.counts["refused"] += 1
            log.warning("webhook refused: a replayed notification")
            return _refuse("replayed notification")
        try:
            event = WebhookEvent.model_validate_json(body)
        except ValidationError:
            return JSONResponse({"error": "not a Zoom notification"}, status_code=400)
        if event.event == "endpoint.url_validation":
            plain = event.payload.get("plainToken")
            if not isinstance(plain, str) or not plain:
                return JSONResponse({"error": "plainToken missing"}, status_code=400)
            return JSONResponse(url_validation_answer(secret, plain))
        key = notification_key(request.headers.get("x-zm-request-id"), body)
        if self._notifications.seen(key, now):
            self.counts["duplicate"] += 1
            return JSONResponse({"status": "duplicate"})
        self.counts["accepted"] += 1
        changed = self.live.apply(event.event, event.object, now)
        if changed:
            await self._changed(event.event)
        self._resolve_unknown()
        return JSONResponse({"status": "ok", "changed": changed})

    async def _changed(self, why: str) -> None:
        if self.on_change is None:
            return
        try:
            await self.on_change()
        except Exception:  # noqa: BLE001 - the count is kept; the periodic pass catches up
            log.exception("port pool update after %s failed", why)

    def _resolve_unknown(self) -> None:
        if self.resolver is None:
            return
        for meeting, number in self.live.pending().items():
            if meeting not in self._resolving:
                task = asyncio.create_task(self._resolve(meeting, number))
                self._resolving[meeting] = task

    async def _resolve(self, meeting: str, number: str) -> None:
        assert self.resolver is not None
        try:
            ids = await self.resolver(number)
        except Exception as exc:  # noqa: BLE001 - unknown stays unknown; periodic pass counts
            log.warning("live participants of a meeting: %s", type(exc).__name__)
            ids = set()
        finally:
            self._resolving.pop(meeting, None)
        if self.live.resolve(meeting, ids, self.clock()):
            await self._changed("a participant lookup")

    async def settle(self) -> None:
        """Wait for the lookups in progress (tests, shutdown)."""
        while self._resolving:
            await asyncio.gather(*self._resolving.values(), return_exceptions=True)



def pool_receiver(
    secret: SecretStr,
    live: LiveUsage,
    pool: PortPool,
    live_calls: LiveCalls,
    configured_size: int | None,
    resolver: Resolver | None = None,
) -> WebhookReceiver:
    """A receiver that reconciles ``pool`` with the live count after every change (no API
    request: the size is the last one the API gave, else ``configured_size``)."""

    async def snapshot() -> PortUsage:
        return live.snapshot()

    async def changed() -> None:
        await pool.reconcile_once(snapshot, live_calls, configured_size)

    return WebhookReceiver(secret, live, changed, resolver=resolver)
