"""The retry policy and Retry-After parsing (pure), and the rate limiter's bookkeeping."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from api_client.ratelimit import RateLabel, RateLimiter
from api_client.retry import RetryPolicy, is_daily_limit, parse_retry_after

NOW = datetime(2026, 11, 23, 7, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("2", 2.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("Mon, 23 Nov 2026 07:00:30 GMT", 30.0),
        ("2026-11-23T07:01:00Z", 60.0),
        ("Mon, 23 Nov 2026 06:59:00 GMT", 0.0),  # in the past
    ],
)
def test_retry_after_seconds_or_date(header: str, seconds: float) -> None:
    parsed = parse_retry_after(header, NOW)
    assert parsed is not None
    assert parsed[0] == pytest.approx(seconds)


def test_retry_after_date_keeps_absolute_time() -> None:
    parsed = parse_retry_after("Tue, 24 Nov 2026 00:00:00 GMT", NOW)
    assert parsed is not None
    assert parsed[1] == datetime(2026, 11, 24, tzinfo=UTC)
    assert parsed[0] == 17 * 3600


@pytest.mark.parametrize("header", [None, "", "soon", "-3", "nan"])
def test_retry_after_unreadable(header: str | None) -> None:
    assert parse_retry_after(header, NOW) is None


def test_daily_limit_told_by_message_or_header() -> None:
    assert is_daily_limit("You have reached the maximum daily rate limit for this API.", None)
    assert is_daily_limit(None, "Daily-limit")
    assert not is_daily_limit("You have reached the maximum per-second rate limit", "QPS")


def test_backoff_doubles_with_bounded_jitter_and_cap() -> None:
    policy = RetryPolicy(initial_delay=0.5, max_delay=4.0, jitter=0.25, rng=random.Random(1))
    for attempt, base in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 4.0), (9, 4.0)]:
        delay = policy.backoff(attempt)
        assert base * 0.75 <= delay <= base * 1.25
    no_jitter = RetryPolicy(jitter=0.0)
    assert [no_jitter.backoff(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]


def test_only_idempotent_methods_retry_server_errors() -> None:
    policy = RetryPolicy(jitter=0.0)
    assert policy.retry_status("GET", 503, 1) == 0.5
    assert policy.retry_status("DELETE", 500, 1) == 0.5
    assert policy.retry_status("POST", 503, 1) is None
    assert policy.retry_status("PATCH", 503, 1) is None
    assert policy.retry_status("GET", 404, 1) is None
    assert policy.retry_status("GET", 503, policy.max_retries + 1) is None
    assert policy.retry_connection("POST", 1) is None
    assert policy.retry_connection("GET", 1) == 0.5
    assert policy.retry_status("GET", 503, 1, retry_after=5.0) == 5.0  # Retry-After lengthens
    assert policy.retry_status("GET", 503, 3, retry_after=0.1) == 2.0  # but never shortens
    assert policy.retry_status("GET", 503, 1, retry_after=3600.0) is None


def test_rate_limited_retry_uses_retry_after_unless_too_far() -> None:
    policy = RetryPolicy(max_retry_after=60, jitter=0.0)
    assert policy.retry_rate_limited(2.0, 1) == 2.0
    assert policy.retry_rate_limited(None, 2) == 1.0
    assert policy.retry_rate_limited(3600.0, 1) is None
    assert policy.retry_rate_limited(1.0, policy.max_retries + 1) is None


def test_limiter_keeps_each_label_under_its_rate() -> None:
    limiter = RateLimiter({RateLabel.LIGHT: 10, RateLabel.HEAVY: 1})
    waits = [limiter.reserve(RateLabel.LIGHT, 0.0) for _ in range(15)]
    assert waits[:10] == [0.0] * 10
    assert waits[10:] == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])
    assert limiter.reserve(RateLabel.HEAVY, 0.0) == 0.0
    assert limiter.reserve(RateLabel.HEAVY, 0.0) == pytest.approx(1.0)
    assert limiter.reserve(RateLabel.MEDIUM, 0.0) == 0.0  # not configured: not limited
    assert limiter.reserve(None, 0.0) == 0.0


def test_limiter_refills_over_time() -> None:
    limiter = RateLimiter({RateLabel.LIGHT: 2})
    assert [limiter.reserve(RateLabel.LIGHT, 0.0) for _ in range(2)] == [0.0, 0.0]
    assert limiter.reserve(RateLabel.LIGHT, 1.0) == 0.0
    assert limiter.reserve(RateLabel.LIGHT, 1.0) == 0.0
    assert limiter.reserve(RateLabel.LIGHT, 1.0) == pytest.approx(0.5)


def test_limiter_rejects_bad_rates_and_plans() -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        RateLimiter({RateLabel.LIGHT: 0})
    with pytest.raises(ValueError, match="unknown plan 'gold'"):
        RateLimiter.for_plan("gold")
    assert RateLimiter.for_plan("pro").reserve(RateLabel.LIGHT, 0.0) == 0.0


def test_real_zoom_gets_a_shared_pro_limiter_and_other_hosts_none() -> None:
    from api_client import ZoomClient, ZoomCredentials
    from api_client.ratelimit import shared_limiter

    real = ZoomCredentials("acct-shared", "c", "s")
    with ZoomClient(real) as one, ZoomClient(real) as two:
        assert one.config.limiter is two.config.limiter is shared_limiter("acct-shared")
    local = ZoomCredentials("acct-shared", "c", "s", base_url="http://127.0.0.1:9/v2")
    with ZoomClient(local) as emulated:
        assert emulated.config.limiter is None
