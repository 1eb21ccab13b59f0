"""The one exception tree of :mod:`api_client`.

::

    ApiError
    ├── ApiConnectionError            the request never got an HTTP answer
    │   └── ApiTimeoutError
    ├── ApiResponseValidationError    an answer that does not fit its model (endpoint, field)
    ├── NotAtZoomError                a seed-only call (or an incomplete body) aimed at api.zoom.us
    └── ApiStatusError                an HTTP error answer (status_code, code, message, body)
        ├── BadRequestError           400
        │   └── SipTrunkPlanMissingError     400, Zoom code 2100
        ├── AuthenticationError       401 (also a failed token request)
        ├── PermissionDeniedError     403
        ├── NotFoundError             404
        │   └── AccountNotFoundError         404, Zoom code 2001
        ├── ConflictError             409
        ├── RateLimitError            429 (retry_after seconds, reset_at, label)
        │   └── DailyRateLimitError   the daily quota is spent: raised at once, never retried
        └── ServerError               5xx

Messages never hold secrets: the request URL is shown without its query string and bodies are
redacted (see :mod:`api_client.redact`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = [
    "AccountNotFoundError",
    "ApiConnectionError",
    "ApiError",
    "ApiResponseValidationError",
    "ApiStatusError",
    "ApiTimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "DailyRateLimitError",
    "NotAtZoomError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "SipTrunkPlanMissingError",
    "error_class_for",
]


class ApiError(Exception):
    """Root of every error raised by :mod:`api_client`. ``endpoint`` reads ``"GET /sip_phones"``."""

    def __init__(self, message: str, *, endpoint: str | None = None) -> None:
        self.message = message
        self.endpoint = endpoint
        super().__init__(f"{endpoint}: {message}" if endpoint else message)


class ApiConnectionError(ApiError):
    """No HTTP answer: refused, reset, DNS failure, TLS failure."""


class ApiTimeoutError(ApiConnectionError):
    """The request timed out (connect, read, write or pool)."""


class ApiResponseValidationError(ApiError):
    """The server answered 2xx with a body that does not fit the endpoint's model.

    ``field`` is the dotted path of the first offending field (``"phones.0.id"``), ``""`` when the
    body is not JSON at all.
    """

    def __init__(self, message: str, *, endpoint: str | None, field: str) -> None:
        self.field = field
        super().__init__(message, endpoint=endpoint)


class NotAtZoomError(ApiError):
    """Raised before any I/O when a call that api.zoom.us does not serve (a path only the seed
    documents and the emulator have, or a body without fields Zoom requires) is aimed at Zoom.
    The message names the real alternative."""


class ApiStatusError(ApiError):
    """An HTTP error answer.

    ``code`` and ``message`` are Zoom's (``{"code": 124, "message": "Invalid access token."}``) or
    PortSIP's (``{"errors": [{"code": "UNAUTHORIZED", "message": "…"}]}``) when the body has them;
    ``errors`` keeps Zoom's per-field validation list.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        endpoint: str | None = None,
        code: int | str | None = None,
        body: Any = None,
        request_id: str | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.body = body
        self.request_id = request_id
        self.errors = errors or []
        text = f"HTTP {status_code}"
        if code is not None:
            text += f" (code {code})"
        super().__init__(f"{text}: {message}", endpoint=endpoint)
        self.message = message


class BadRequestError(ApiStatusError):
    """400."""


class SipTrunkPlanMissingError(BadRequestError):
    """400 with Zoom code 2100: the sub account has no SIP trunk plan."""


class AuthenticationError(ApiStatusError):
    """401, or the token endpoint refused the credentials."""


class PermissionDeniedError(ApiStatusError):
    """403: missing scope, plan or licence."""


class NotFoundError(ApiStatusError):
    """404."""


class AccountNotFoundError(NotFoundError):
    """404, Zoom code 2001: no such account, or not one of this master account's."""


class ConflictError(ApiStatusError):
    """409."""


class RateLimitError(ApiStatusError):
    """429. ``retry_after`` is in seconds (``None`` when the server gave no hint); ``reset_at`` is
    the absolute time when the server named one; ``label`` is Zoom's rate-limit label when known."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        reset_at: datetime | None = None,
        label: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("status_code", 429)
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.reset_at = reset_at
        self.label = label


class DailyRateLimitError(RateLimitError):
    """429 for the daily quota: raised at once; ``reset_at`` says when requests work again."""


class ServerError(ApiStatusError):
    """5xx."""


_BY_STATUS: dict[int, type[ApiStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}

_BY_ZOOM_CODE: dict[tuple[int, int], type[ApiStatusError]] = {
    (400, 2100): SipTrunkPlanMissingError,
    (404, 2001): AccountNotFoundError,
}


def error_class_for(status_code: int, code: int | str | None = None) -> type[ApiStatusError]:
    """The most specific class for an HTTP status and (Zoom) error code."""
    if isinstance(code, int) and (status_code, code) in _BY_ZOOM_CODE:
        return _BY_ZOOM_CODE[(status_code, code)]
    if status_code >= 500:
        return ServerError
    return _BY_STATUS.get(status_code, ApiStatusError)
