"""The emulator's core: configuration, OAuth tokens, rate limits, error bodies, route wrappers.

Zoom routes answer Zoom-style errors (``{"code": 124, "message": "Invalid access token."}``,
validation errors with ``errors: [{field, message}]``); PortSIP routes answer
``{"errors": [{"code": "UNAUTHORIZED", "message": …}]}``.
"""

from __future__ import annotations

import base64
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api_client.emulator._store import Store

__all__ = [
    "Ctx",
    "Emulator",
    "EmulatorSettings",
    "PortSipFault",
    "ZoomFault",
    "decode_page_token",
    "encode_page_token",
]

PER_SECOND_MESSAGE = (
    "You have reached the maximum per-second rate limit for this API. Try again later."
)
DAILY_MESSAGE = (
    "You have reached the maximum daily rate limit for this API. Refer to the response header "
    "for details on when you can make another request."
)


@dataclass
class EmulatorSettings:
    """Start-up settings; those marked live can be changed through ``PATCH /v2/_emulator/config``.

    ``accept_any_credentials``: any client id/secret gets a Zoom token (else only
    ``client_id``/``client_secret``); ``portsip_users``: PortSIP user -> password.
    """

    account_id: str = "emulator-account"
    ports_allocated: int = 10  # live
    token_ttl: int = 3600  # live
    portsip_token_ttl: int = 1800
    rate_limits: dict[str, float] = field(default_factory=dict)  # live, per second per label
    daily_limits: dict[str, int] = field(default_factory=dict)  # live, per day per label
    sip_trunk_plan: bool = True  # live
    webhook_url: str | None = None  # live: signed participant webhooks go here
    webhook_secret: str | None = field(default=None, repr=False)  # live
    accept_any_credentials: bool = True
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    portsip_users: dict[str, str] = field(default_factory=lambda: {"admin": "admin"}, repr=False)


class ZoomFault(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.errors, self.headers = errors, headers

    def response(self) -> Response:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return JSONResponse(body, status_code=self.status, headers=self.headers)


class PortSipFault(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> Response:
        body = {"errors": [{"code": self.code, "message": self.message}]}
        return JSONResponse(body, status_code=self.status)


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_page_token(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        if not text.startswith("o:"):
            raise ValueError(token)
        return int(text[2:])
    except (ValueError, UnicodeDecodeError):
        raise ZoomFault(400, 300, "Invalid next_page_token.") from None


@dataclass
class Ctx:
    """One request as the handlers see it."""

    request: Request
    emulator: Emulator
    subject: str

    @property
    def store(self) -> Store:
        return self.emulator.store

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])

    def query(self, name: str, default: str | None = None) -> str | None:
        return self.request.query_params.get(name, default)

    def int_query(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.request.query_params.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ZoomFault(400, 300, f"Invalid field: {name} must be an integer.") from None
        if not low <= value <= high:
            raise ZoomFault(400, 300, f"Invalid field: {name} must be {low}..{high}.")
        return value

    async def json(self) -> dict[str, Any]:
        raw = await self.request.body()
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise ZoomFault(400, 300, "Request Body should be a valid JSON object.") from None
        if not isinstance(data, dict):
            raise ZoomFault(400, 300, "Request Body should be a valid JSON object.")
        return data


def validation_fault(exc: ValidationError) -> ZoomFault:
    errors = [
        {"field": ".".join(str(part) for part in item["loc"]), "message": item["msg"]}
        for item in exc.errors(include_input=False, include_url=False)
    ]
    return ZoomFault(400, 300, "Validation Failed.", errors=errors)


def validate(model: type[BaseModel], data: Any) -> Any:
    """Validate a request body with the client's own request model; a Zoom-style 400 if not."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_fault(exc) from None


Handler = Callable[[Ctx], Awaitable[Response]]


class Emulator:
    """State and policies shared by every route."""

    def __init__(
        self, store: Store, settings: EmulatorSettings, clock: Callable[[], float]
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self._windows: dict[str, deque[float]] = {}
        defaults = {
            "ports_allocated": settings.ports_allocated,
            "token_ttl": settings.token_ttl,
            "rate_limits": settings.rate_limits,
            "daily_limits": settings.daily_limits,
            "sip_trunk_plan": settings.sip_trunk_plan,
            "webhook_url": settings.webhook_url or "",
            "webhook_secret": settings.webhook_secret or "",
        }
        for key, value in defaults.items():
            if store.setting(key) is None:
                store.set_setting(key, value)

    def live(self, key: str) -> Any:
        return self.store.setting(key)

    def config(self) -> dict[str, Any]:
        return {
            "ports_allocated": self.live("ports_allocated"),
            "token_ttl": self.live("token_ttl"),
            "rate_limits": self.live("rate_limits"),
            "daily_limits": self.live("daily_limits"),
            "sip_trunk_plan": self.live("sip_trunk_plan"),
            "account_id": self.settings.account_id,
            "webhook_url": self.live("webhook_url") or None,
        }

    # -- rate limits ----------------------------------------------------------------------------
    def check_rate(self, label: str | None) -> None:
        if label is None:
            return
        per_second = (self.live("rate_limits") or {}).get(label)
        if per_second:
            now = self.clock()
            window = self._windows.setdefault(label, deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= per_second:
                wait = max(1, int(window[0] + 1.0 - now + 0.999))
                raise ZoomFault(
                    429,
                    429,
                    PER_SECOND_MESSAGE,
                    headers={
                        "Retry-After": str(wait),
                        "X-RateLimit-Type": "QPS",
                        "X-RateLimit-Category": _category(label),
                    },
                )
            window.append(now)
        daily = (self.live("daily_limits") or {}).get(label)
        if daily:
            today = datetime.now(UTC)
            if self.store.count_daily(label, today.date().isoformat()) > daily:
                reset = (today + timedelta(days=1)).replace(
                    hour=0, minute=0, second=0, microsecond=0
                )
                raise ZoomFault(
                    429,
                    429,
                    DAILY_MESSAGE,
                    headers={
                        "Retry-After": format_datetime(reset, usegmt=True),
                        "X-RateLimit-Type": "Daily-limit",
                        "X-RateLimit-Category": _category(label),
                    },
                )

    # -- auth -----------------------------------------------------------------------------------
    def bearer(self, request: Request, realm: str) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        return self.store.token_subject(realm, token.strip(), time.time())

    def zoom_route(
        self, path: str, handler: Handler, methods: list[str], label: str | None = "light"
    ) -> Route:
        async def endpoint(request: Request) -> Response:
            try:
                subject = self.bearer(request, "zoom")
                if subject is None:
                    raise ZoomFault(401, 124, "Invalid access token.")
                self.check_rate(label)
                return await handler(Ctx(request, self, subject))
            except ZoomFault as fault:
                return fault.response()

        return Route("/v2" + path, endpoint, methods=methods)

    def portsip_route(self, path: str, handler: Handler, methods: list[str]) -> Route:
        async def endpoint(request: Request) -> Response:
            try:
                subject = self.bearer(request, "portsip")
                if subject is None:
                    raise PortSipFault(401, "UNAUTHORIZED", "Invalid or expired access token.")
                return await handler(Ctx(request, self, subject))
            except ZoomFault as fault:  # shared validation helpers raise Zoom faults
                return PortSipFault(fault.status, "INVALID_ARGUMENT", _fault_text(fault)).response()
            except PortSipFault as fault:
                return fault.response()

        return Route("/api" + path, endpoint, methods=methods)


def _category(label: str) -> str:
    """Zoom's spelling of a label in ``X-RateLimit-Category`` (``phone_light`` -> ``Light``)."""
    return label.removeprefix("phone_").replace("_", "-").capitalize()


def _fault_text(fault: ZoomFault) -> str:
    if fault.errors:
        first = fault.errors[0]
        return f"{first['field']}: {first['message']}"
    return fault.message
