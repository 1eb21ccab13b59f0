"""Zoom webhooks (event notifications): signatures, the URL validation challenge, duplicates.

Zoom POSTs JSON ``{"event", "event_ts" (ms), "payload": {"account_id", "object"}}`` with the
headers ``x-zm-request-timestamp`` (seconds) and ``x-zm-signature``: ``v0=`` and the lowercase
hex HMAC-SHA256, keyed with the app's secret token, of ``v0:{timestamp}:{raw body}``.

- :func:`verify_signature` checks one notification (constant time, timestamp within 5 minutes
  of ``now``); :func:`sign` makes the header (the emulator uses it; so can tests).
- :func:`url_validation_answer`: the answer to ``endpoint.url_validation`` (``plainToken`` and
  ``encryptedToken`` = hex HMAC-SHA256 of the plain token).
- :class:`DuplicateFilter`: Zoom retries (after 5, 20 and 60 minutes) when it got no 2xx in
  3 s; a notification already seen is acknowledged and not applied twice.

Pure functions and a small class with an explicit clock; no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import OrderedDict
from typing import Any

from pydantic import Field

from api_client.models._base import ApiModel

__all__ = [
    "DEFAULT_TOLERANCE",
    "DuplicateFilter",
    "WebhookEvent",
    "notification_key",
    "sign",
    "url_validation_answer",
    "verify_signature",
]

#: How far (seconds) a notification's timestamp may be from now: Zoom's docs suggest 5 minutes.
DEFAULT_TOLERANCE = 300.0


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


def sign(secret: str | bytes, timestamp: int | str, body: bytes | str) -> str:
    """The ``x-zm-signature`` value for ``body`` sent at ``timestamp`` (seconds)."""
    message = b"v0:" + str(timestamp).encode() + b":" + _as_bytes(body)
    return "v0=" + hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str | bytes,
    timestamp: str | int | None,
    body: bytes | str,
    signature: str | None,
    *,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE,
) -> bool:
    """Whether ``signature`` (the ``x-zm-signature`` header) signs the raw ``body`` at
    ``timestamp`` (the ``x-zm-request-timestamp`` header, seconds) with ``secret``, and the
    timestamp is within ``tolerance`` seconds of ``now`` (Unix seconds). Never raises on bad
    input: anything malformed is ``False``. The comparison takes constant time."""
    if not secret or timestamp is None or signature is None:
        return False
    text = str(timestamp).strip()
    if not text.isdigit() or len(text) > 12:
        return False
    if abs(now - int(text)) > tolerance:
        return False
    expected = sign(secret, text, body)
    return hmac.compare_digest(expected.encode(), signature.strip().encode("utf-8", "replace"))


def url_validation_answer(secret: str | bytes, plain_token: str) -> dict[str, str]:
    """The JSON answer to ``endpoint.url_validation``: ``{"plainToken", "encryptedToken"}``."""
    digest = hmac.new(_key(secret), plain_token.encode(), hashlib.sha256).hexdigest()
    return {"plainToken": plain_token, "encryptedToken": digest}


class WebhookEvent(ApiModel):
    """A notification body; ``payload.object`` is kept as a plain mapping."""

    event: str = Field(min_length=1)
    event_ts: int | None = None
    payload: dict[str, Any] = Field(default_factory=dict)

    @property
    def object(self) -> dict[str, Any]:
        value = self.payload.get("object")
        return value if isinstance(value, dict) else {}


def notification_key(request_id: str | None, body: bytes | str) -> str:
    """What identifies one notification across Zoom's retries: the ``x-zm-request-id`` header
    when given, else the body's event, timestamp and object (a retry re-sends the same body)."""
    if request_id:
        return "id:" + request_id
    try:
        data = json.loads(_as_bytes(body))
    except ValueError:
        data = None
    if isinstance(data, dict):
        canon = json.dumps(
            [data.get("event"), data.get("event_ts"), data.get("payload")], sort_keys=True
        )
        return "body:" + hashlib.sha256(canon.encode()).hexdigest()
    return "raw:" + hashlib.sha256(_as_bytes(body)).hexdigest()


class DuplicateFilter:
    """Remembers notification keys for ``window`` seconds (Zoom's last retry comes after about
    85 minutes; the default keeps 2 hours), at most ``limit`` of them."""

    def __init__(self, window: float = 7200.0, limit: int = 100_000) -> None:
        self.window = window
        self.limit = limit
        self._seen: OrderedDict[str, float] = OrderedDict()

    def seen(self, key: str, now: float) -> bool:
        """``True`` when ``key`` was seen within the window; otherwise remember it (at ``now``)
        and return ``False``."""
        while self._seen:
            oldest, stamp = next(iter(self._seen.items()))
            if now - stamp <= self.window and len(self._seen) < self.limit:
                break
            del self._seen[oldest]
        if key in self._seen:
            return True
        self._seen[key] = now
        return False

    def forget(self, key: str) -> None:
        """Drop ``key`` (a notification that could not be applied, so a retry is welcome)."""
        self._seen.pop(key, None)

    def __len__(self) -> int:
        return len(self._seen)
