"""crcgw api_client: typed httpx + pydantic clients for Zoom CRC and PortSIP, and their emulator.

Knows nothing of SIP: never imports :mod:`signaling` or :mod:`media`.

- :class:`AsyncZoomClient` / :class:`ZoomClient`: CRC settings and ports, meetings' dial-in,
  managed rooms, room templates, room connectors, SIP phones, H.323 devices, SIP trunk, phone
  numbers, porting orders, number blocks (and the emulator's own control API);
- :class:`AsyncPortSipClient` / :class:`PortSipClient`: PortSIP PBX conference rooms;
- :mod:`api_client.models`: the pydantic models; :mod:`api_client.errors`: the exception tree;
- :mod:`api_client.emulator`: the local emulator of both APIs (Starlette + SQLite).
"""

from api_client.auth import PortSipPasswordAuth, ZoomServerToServerAuth, clear_token_cache
from api_client.clients import (
    AsyncPortSipClient,
    AsyncZoomClient,
    PortSipClient,
    PortSipCredentials,
    ZoomClient,
    ZoomCredentials,
)
from api_client.errors import (
    AccountNotFoundError,
    ApiConnectionError,
    ApiError,
    ApiResponseValidationError,
    ApiStatusError,
    ApiTimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DailyRateLimitError,
    NotAtZoomError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    SipTrunkPlanMissingError,
)
from api_client.pagination import AsyncPager, SyncPager
from api_client.ratelimit import RateLabel, RateLimiter
from api_client.retry import RetryPolicy

__all__ = [
    "AccountNotFoundError",
    "ApiConnectionError",
    "ApiError",
    "ApiResponseValidationError",
    "ApiStatusError",
    "ApiTimeoutError",
    "AsyncPager",
    "AsyncPortSipClient",
    "AsyncZoomClient",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "DailyRateLimitError",
    "NotAtZoomError",
    "NotFoundError",
    "PermissionDeniedError",
    "PortSipClient",
    "PortSipCredentials",
    "PortSipPasswordAuth",
    "RateLabel",
    "RateLimitError",
    "RateLimiter",
    "RetryPolicy",
    "ServerError",
    "SipTrunkPlanMissingError",
    "SyncPager",
    "ZoomClient",
    "ZoomCredentials",
    "ZoomServerToServerAuth",
    "clear_token_cache",
]
