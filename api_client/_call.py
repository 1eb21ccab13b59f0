"""I/O-free request builders and answer decoders, shared by the async and the sync clients.

A :class:`Call` describes one API operation completely: method, path, query, body, rate-limit
label and how to decode the answer. Endpoint modules build calls; the clients send them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from api_client.errors import (
    ApiResponseValidationError,
    ApiStatusError,
    DailyRateLimitError,
    RateLimitError,
    error_class_for,
)
from api_client.ratelimit import RateLabel
from api_client.redact import redact
from api_client.retry import IDEMPOTENT_METHODS, is_daily_limit, parse_retry_after

__all__ = [
    "Call",
    "Params",
    "decode",
    "empty",
    "model",
    "model_or_empty",
    "op",
    "path",
    "seed_only",
    "status_error",
    "validated",
]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
Params = Mapping[str, str | int | float | bool | None]


def path(template: str, **values: str | int) -> str:
    """Fill ``{name}`` placeholders with percent-encoded values; empty ids fail before any I/O."""
    encoded: dict[str, str] = {}
    for name, value in values.items():
        text = str(value)
        if not text.strip():
            raise ValueError(f"{name} must not be empty")
        encoded[name] = quote(text, safe="")
    return template.format(**encoded)


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One operation. ``endpoint`` names it in errors (``"GET /sip_phones/{phoneId}"``)."""

    method: str
    path: str
    endpoint: str
    decoder: Callable[[bytes], T]
    params: Params | None = None
    json: Any = None
    form: Mapping[str, str] | None = None
    multipart: Mapping[str, str] | None = None
    label: RateLabel | None = None
    #: Set when api.zoom.us would not serve this call as built (a seed-only path, or a body
    #: missing fields Zoom requires): the text names the real alternative. Clients talking to
    #: api.zoom.us raise :class:`~api_client.errors.NotAtZoomError` with it, sending nothing.
    not_at_zoom: str | None = None

    @property
    def idempotent(self) -> bool:
        return self.method in IDEMPOTENT_METHODS

    def with_params(self, **updates: str | int | float | bool | None) -> Call[T]:
        merged = dict(self.params or {})
        merged.update(updates)
        return dataclasses.replace(self, params=merged)

    def build(self, client: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        """The :class:`httpx.Request` for ``client`` (base URL, headers); still no I/O."""
        params = None
        if self.params:
            params = {
                key: _query_value(value) for key, value in self.params.items() if value is not None
            }
        files = None
        if self.multipart is not None:
            files = {key: (None, value) for key, value in self.multipart.items()}
        return client.build_request(
            self.method,
            self.path,
            params=params,
            json=self.json,
            data=dict(self.form) if self.form is not None else None,
            files=files,
        )


def _query_value(value: str | int | float | bool) -> str | int | float:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def op(
    method: str,
    template: str,
    decoder: Callable[[bytes], T],
    *,
    ids: Mapping[str, str | int] | None = None,
    params: Params | None = None,
    json: Any = None,
    multipart: Mapping[str, str] | None = None,
    label: RateLabel | None = None,
    not_at_zoom: str | None = None,
) -> Call[T]:
    """A :class:`Call` named after its path template: ``op("GET", "/h323/devices/{deviceId}",
    model(H323Device), ids={"deviceId": device_id})`` is ``GET /h323/devices/{deviceId}``."""
    return Call(
        method,
        path(template, **(ids or {})),
        f"{method} {template}",
        decoder,
        params=params,
        json=json,
        multipart=multipart,
        label=label,
        not_at_zoom=not_at_zoom,
    )


def seed_only(alternative: str) -> str:
    """The ``not_at_zoom`` text of a seed (non-Zoom) path: what to use at Zoom instead."""
    return f"not in Zoom's published API (a seed path, served by the crcgw emulator); {alternative}"


# -- decoders ---------------------------------------------------------------------------------


def model(cls: type[M]) -> Callable[[bytes], M]:
    """Decode with ``cls.model_validate_json`` (pydantic-core parses and validates in one pass)."""
    return cls.model_validate_json


def model_or_empty(cls: type[M]) -> Callable[[bytes], M]:
    """As :func:`model`, an empty body read as ``{}`` (creates whose 201 Zoom documents without
    a body; a model with required fields still refuses it)."""

    def decode_body(content: bytes) -> M:
        return cls.model_validate_json(content if content.strip() else b"{}")

    return decode_body


def validated(adapter: TypeAdapter[T]) -> Callable[[bytes], T]:
    """Decode any type through a :class:`pydantic.TypeAdapter`."""
    return adapter.validate_json


def empty(content: bytes) -> None:
    """For 204 answers (Zoom sometimes sends ``{}`` with them); the body is ignored."""
    return None


def decode(call: Call[T], response: httpx.Response) -> T:
    """Decode a 2xx answer; a body that does not fit raises a typed error naming the field."""
    try:
        return call.decoder(response.content)
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        field = ".".join(str(part) for part in first["loc"])
        if first["type"] == "json_invalid":
            field = ""
        message = f"invalid answer: {field or 'body'}: {first['msg']}"
        raise ApiResponseValidationError(message, endpoint=call.endpoint, field=field) from None


# -- errors -----------------------------------------------------------------------------------


def _error_fields(body: Any) -> tuple[int | str | None, str | None, list[dict[str, Any]]]:
    """(code, message, field errors) from a Zoom or PortSIP error body."""
    if not isinstance(body, dict):
        return None, None, []
    errors = body.get("errors")
    field_errors = (
        [item for item in errors if isinstance(item, dict)] if isinstance(errors, list) else []
    )
    code = body.get("code")
    message = body.get("message")
    if code is None and field_errors:  # PortSIP: {"errors": [{"code": "UNAUTHORIZED", ...}]}
        code = field_errors[0].get("code")
        message = message or field_errors[0].get("message")
    if not isinstance(code, int | str):
        code = None
    return code, message if isinstance(message, str) else None, field_errors


def status_error(call: Call[Any], response: httpx.Response, now: datetime) -> ApiStatusError:
    """The typed error for a non-2xx answer (pure: ``now`` is the wall-clock time, UTC)."""
    try:
        body: Any = json.loads(response.content) if response.content else None
    except ValueError:
        body = response.text[:500]
    code, message, field_errors = _error_fields(body)
    text = message or response.reason_phrase or "error"
    kwargs: dict[str, Any] = {
        "status_code": response.status_code,
        "endpoint": call.endpoint,
        "code": code,
        "body": redact(body),
        "request_id": response.headers.get("x-zm-trackingid")
        or response.headers.get("x-request-id"),
        "errors": redact(field_errors),
    }
    if response.status_code == 429:
        retry = parse_retry_after(response.headers.get("retry-after"), now)
        rate_type = response.headers.get("x-ratelimit-type")
        label = call.label.value if call.label else rate_type
        if is_daily_limit(message, rate_type):
            return DailyRateLimitError(
                text,
                retry_after=retry[0] if retry else None,
                reset_at=retry[1] if retry else None,
                label=label,
                **kwargs,
            )
        return RateLimitError(
            text,
            retry_after=retry[0] if retry else None,
            reset_at=retry[1] if retry else None,
            label=label,
            **kwargs,
        )
    return error_class_for(response.status_code, code)(text, **kwargs)
