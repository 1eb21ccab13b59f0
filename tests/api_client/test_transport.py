"""Retries, rate limits and error mapping, against httpx.MockTransport handlers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from api_client import (
    AccountNotFoundError,
    ApiConnectionError,
    ApiResponseValidationError,
    ApiStatusError,
    ApiTimeoutError,
    AsyncZoomClient,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DailyRateLimitError,
    NotFoundError,
    PermissionDeniedError,
    RateLabel,
    RateLimiter,
    RateLimitError,
    RetryPolicy,
    ServerError,
    SipTrunkPlanMissingError,
    ZoomClient,
    ZoomCredentials,
)
from api_client.models import H323DeviceCreate
from tests.api_client.conftest import FakeZoom, Sleeps

CRC = {"enabled": True, "ports_allocated": 10, "ports_in_use": 3}
PORTS = "/v2/accounts/acct-1/crc/ports"


def client(
    creds: ZoomCredentials, fake: FakeZoom, sleeps: Sleeps, **kwargs: object
) -> ZoomClient:
    return ZoomClient(
        creds,
        transport=httpx.MockTransport(fake),
        sleep=sleeps,
        retry=RetryPolicy(jitter=0.0),
        **kwargs,  # type: ignore[arg-type]
    )


def test_5xx_on_get_is_retried_with_backoff_and_counted(
    zoom_credentials: ZoomCredentials, fake: FakeZoom, sleeps: Sleeps
) -> None:
    fake.on("GET", PORTS, [httpx.Response(503), httpx.Response(500), httpx.Response(502),
                          httpx.Response(200, json=CRC)])
    with client(zoom_credentials, fake, sleeps) as api:
        usage = api.crc.ports()
        assert usage.ports_available == 7
        assert api.retries_taken == 3
    assert len(fake.requests) == 4
    assert sleeps.delays == [0.5, 1.0, 2.0]


def test_503_retry_after_is_honoured(
    zoom_credentials: ZoomCredentials, fake: FakeZoom, sleeps: Sleeps
) -> None:
    fake.on("GET", PORTS, [httpx.Response(503, headers={"Retry-After": "4"}),
                          httpx.Response(200, json=CRC)])
    with client(zoom_credentials, fake, sleeps) as api:
        api.crc.ports()
    assert sleeps.delays == [4.0]


def test_5xx_gives_up_after_max_retries(
    zoom_credentials: ZoomCredentials, fake: FakeZoom, sleeps: Sleeps
) -> None:
    fake.on("GET", PORTS, httpx.Response(503, json={"code": 503, "message": "busy"}))
    with client(zoom_credentials, fake, sleeps) as api, pytest.raises(ServerError) as caught:
        api.crc.ports()
    assert len(fake.requests) == RetryPolicy().max_retries + 1
    assert caught.value.status_code == 503
    assert caught.value.endpoint == "GET /accounts/{accountId}/crc/ports"


def test_post_is_not_retried_on_5xx_or_connection_errors(
    zoom_credentials: ZoomCredentials, fake: FakeZoom, sleeps: Sleeps
) -> None:
    fake.on("POST", "/v2/h323/devices", [httpx.Response(503), httpx.Response(201, json={"id": "d"})])
    device = H323DeviceCreate(name="Room", protocol="H.323", ip="10.0.0.7")
    with client(zoom_credentials, fake, sleeps) as api:
        with pytest.raises(ServerError):
            api.h323_devices.create(device)
        assert api.retries_taken == 0
    assert fake.paths == ["POST /v2/h323/devices"]

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    fake.on("POST", "/v2/h323/devices", refuse)
    with client(zoom_credentials, fake, sleeps) as api, pytest.raises(ApiConnectionError):
        api.h323_devices.create(device)
    assert fake.paths.count("POST /v2/h323/devices") == 2
    assert sleeps.delays == []


def test_connection_errors_on_get_are_retried_then_raised(
    zoom_credentials: ZoomCredentials, fake: FakeZoom, sleeps: Sleeps
) -> None:
    attempts: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        if len(attempts) < 3:
            raise httpx.ConnectError("reset", request=request)
        return httpx.Response(200, json=CRC)

    fake.on("GET", PORTS, flaky)
    with client(zoom_credentials, fake, sleeps) as api:
        assert api.crc.ports().ports_in_use == 3
    assert len(attempts) == 3

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    fake.on("GET", PORTS, slow)
    with client(zoom_credentials, fake, sleeps) as api, pytest.raises(ApiTimeoutError) as caught:
        api.crc.ports()
    assert isinstance(caught.value, ApiConnectionError)
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


def test_429_with_retry_after_seconds_waits_that_long_even_for_post(
    zoom_credentials: ZoomCredentials, fake: FakeZoom, sleeps: Sleeps
) -> None:
    limited = httpx.Response(
        429,
        headers={"Retry-After": "3"},
        json={"code": 429, "message": "You have reached the maximum per-second rate limit for this API."},
    )
    fake.on("POST", "/v2/h323/devices", [limited, httpx.Response(201, json={"id": "dev-1"})])
    with client(zoom_credentials, fake, sleeps) as api:
        created = api.h323_devices.create(H323DeviceCreate(name="R", protocol="SIP", ip="10.0.0.1"))
    assert created.id == "dev-1"
    assert sleeps.delays == [3.0]


def test_429_with_retry_after_http_date(
    zoom_credentials: ZoomCredentials, fake: FakeZoom, sleeps: Sleeps
) -> None:
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)
    limited = httpx.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)})
    fake.on("GET", PORTS, [limited, httpx.Response(200, json=CRC)])
    with client(zoom_credentials, fake, sleeps) as api:
        api.crc.ports()
    assert len(sleeps.delays) == 1
    assert 3.0 <= sleeps.delays[0] <= 5.0


def test_daily_limit_is_raised_at_once_with_its_reset_time(
    zoom_credentials: ZoomCredentials, fake: FakeZoom, sleeps: Sleeps
) -> None:
    reset = (datetime.now(UTC) + timedelta(hours=5)).replace(microsecond=0)
    fake.on(
        "GET",
        PORTS,
        httpx.Response(
            429,
            headers={"Retry-After": format_datetime(reset, usegmt=True)},
            json={"code": 429, "message": "You have reached the maximum daily rate limit for this API."},
        ),
    )
    with client(zoom_credentials, fake, sleeps) as api, pytest.raises(DailyRateLimitError) as caught:
        api.crc.ports()
    assert len(fake.requests) == 1 and sleeps.delays == []
    assert caught.value.reset_at == reset
    assert caught.value.retry_after is not None and caught.value.retry_after > 4 * 3600
    assert caught.value.label == "light"


def test_far_retry_after_without_daily_wording_is_also_not_waited_for(
    zoom_credentials: ZoomCredentials, fake: FakeZoom, sleeps: Sleeps
) -> None:
    fake.on("GET", PORTS, httpx.Response(429, headers={"Retry-After": "7200"}))
    with client(zoom_credentials, fake, sleeps) as api, pytest.raises(DailyRateLimitError):
        api.crc.ports()
    assert sleeps.delays == []


def test_per_second_limit_exhausting_retries_raises_rate_limit_error(
    zoom_credentials: ZoomCredentials, fake: FakeZoom, sleeps: Sleeps
) -> None:
    fake.on("GET", PORTS, httpx.Response(429, headers={"Retry-After": "1"}))
    with client(zoom_credentials, fake, sleeps) as api, pytest.raises(RateLimitError) as caught:
        api.crc.ports()
    assert not isinstance(caught.value, DailyRateLimitError)
    assert caught.value.retry_after == 1.0
    assert sleeps.delays == [1.0] * RetryPolicy().max_retries


@pytest.mark.parametrize(
    ("status", "body", "cls", "code"),
    [
        (400, {"code": 300, "message": "Validation Failed."}, BadRequestError, 300),
        (400, {"code": 2100, "message": "This sub account has no sip trunk plan."},
         SipTrunkPlanMissingError, 2100),
        (401, {"code": 4700, "message": "Invalid access token, does not contain scopes."},
         AuthenticationError, 4700),
        (403, {"code": 200, "message": "No permission."}, PermissionDeniedError, 200),
        (404, {"code": 2001, "message": "This account does not exist or does not belong to you."},
         AccountNotFoundError, 2001),
        (404, {"code": 1001, "message": "User does not exist."}, NotFoundError, 1001),
        (409, {"code": 409, "message": "Duplicate."}, ConflictError, 409),
        (418, None, ApiStatusError, None),
    ],
)
def test_status_and_zoom_code_map_to_typed_errors(
    zoom_credentials: ZoomCredentials,
    fake: FakeZoom,
    sleeps: Sleeps,
    status: int,
    body: dict[str, object] | None,
    cls: type[ApiStatusError],
    code: int | None,
) -> None:
    fake.on("PATCH", "/v2/accounts/acct-1/sip_trunk/settings", httpx.Response(status, json=body))
    with client(zoom_credentials, fake, sleeps) as api, pytest.raises(cls) as caught:
        api.sip_trunk.assign()
    assert type(caught.value) is cls
    assert caught.value.status_code == status
    assert caught.value.code == code
    if body is not None:
        assert caught.value.message == body["message"]
        assert f"HTTP {status} (code {code}): {body['message']}" in str(caught.value)


def test_validation_error_fields_are_kept(
    zoom_credentials: ZoomCredentials, fake: FakeZoom, sleeps: Sleeps
) -> None:
    body = {"code": 300, "message": "Validation Failed.",
            "errors": [{"field": "ip", "message": "Invalid field."}]}
    fake.on("POST", "/v2/h323/devices", httpx.Response(400, json=body))
    with client(zoom_credentials, fake, sleeps) as api, pytest.raises(BadRequestError) as caught:
        api.h323_devices.create(H323DeviceCreate(name="R", protocol="SIP", ip="10.0.0.1"))
    assert caught.value.errors == [{"field": "ip", "message": "Invalid field."}]


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({"enabled": True, "ports_allocated": "ten", "ports_in_use": 1}, "ports_allocated"),
        ({"enabled": True, "ports_allocated": 10}, "ports_in_use"),
        ({"enabled": True, "ports_allocated": -1, "ports_in_use": 0}, "ports_allocated"),
    ],
)
def test_malformed_answer_names_endpoint_and_field(
    zoom_credentials: ZoomCredentials, fake: FakeZoom, sleeps: Sleeps,
    answer: dict[str, object], field: str,
) -> None:
    fake.on("GET", PORTS, httpx.Response(200, json=answer))
    with client(zoom_credentials, fake, sleeps) as api, pytest.raises(ApiResponseValidationError) as caught:
        api.crc.ports()
    assert caught.value.field == field
    assert caught.value.endpoint == "GET /accounts/{accountId}/crc/ports"
    assert field in str(caught.value)


def test_non_json_answer_is_a_validation_error(
    zoom_credentials: ZoomCredentials, fake: FakeZoom, sleeps: Sleeps
) -> None:
    fake.on("GET", PORTS, httpx.Response(200, text="<html>maintenance</html>"))
    with client(zoom_credentials, fake, sleeps) as api, pytest.raises(ApiResponseValidationError) as caught:
        api.crc.ports()
    assert caught.value.field == ""


def test_client_side_limiter_spaces_requests_per_label(
    zoom_credentials: ZoomCredentials, fake: FakeZoom, sleeps: Sleeps
) -> None:
    fake.on("GET", PORTS, httpx.Response(200, json=CRC))
    frozen = [100.0]
    limiter = RateLimiter({RateLabel.LIGHT: 2})
    with client(zoom_credentials, fake, sleeps, limiter=limiter, clock=lambda: frozen[0]) as api:
        for _ in range(4):
            api.crc.ports()
    assert sleeps.delays == pytest.approx([0.5, 1.0])
    assert len(fake.requests) == 4


def test_async_client_retries_the_same_way(
    zoom_credentials: ZoomCredentials, fake: FakeZoom, sleeps: Sleeps
) -> None:
    fake.on("GET", PORTS, [httpx.Response(500), httpx.Response(504), httpx.Response(200, json=CRC)])
    fake.on("POST", "/v2/h323/devices", httpx.Response(502))

    async def main() -> None:
        async with AsyncZoomClient(
            zoom_credentials, transport=httpx.MockTransport(fake), sleep=sleeps.asleep,
            retry=RetryPolicy(jitter=0.0),
        ) as api:
            assert (await api.crc.ports()).ports_in_use == 3
            assert api.retries_taken == 2
            with pytest.raises(ServerError):
                await api.h323_devices.create(H323DeviceCreate(name="R", protocol="SIP", ip="10.0.0.1"))
            assert api.retries_taken == 2

    asyncio.run(main())
    assert sleeps.delays == [0.5, 1.0]


def test_closed_client_refuses_and_close_is_idempotent(
    zoom_credentials: ZoomCredentials, fake: FakeZoom
) -> None:
    api = ZoomClient(zoom_credentials, transport=httpx.MockTransport(fake))
    api.close()
    api.close()
    with pytest.raises(RuntimeError, match="closed"), api:
        pass


def test_empty_path_parameters_fail_before_any_io(
    zoom_credentials: ZoomCredentials, fake: FakeZoom
) -> None:
    with ZoomClient(zoom_credentials, transport=httpx.MockTransport(fake)) as api:
        with pytest.raises(ValueError, match="deviceId must not be empty"):
            api.h323_devices.get(" ")
        with pytest.raises(ValueError, match="page_size must be 1..300"):
            api.sip_phones.list(page_size=301)
    assert fake.requests == [] and fake.token_requests == []


def test_other_httpx_errors_become_api_errors(
    zoom_credentials: ZoomCredentials, fake: FakeZoom, sleeps: Sleeps
) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.DecodingError("bad gzip", request=request)

    fake.on("GET", PORTS, broken)
    with client(zoom_credentials, fake, sleeps) as api, pytest.raises(ApiConnectionError) as caught:
        api.crc.ports()
    assert "DecodingError" in str(caught.value) and sleeps.delays == []
