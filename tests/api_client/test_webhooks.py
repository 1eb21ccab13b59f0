"""api_client.webhooks: Zoom's v0 signature, the URL validation answer, duplicate keys.

The expected digests were computed with OpenSSL (``openssl dgst -sha256 -hmac``), not with the
code under test."""

from __future__ import annotations

import json

import pytest

from api_client.webhooks import (
    DuplicateFilter,
    WebhookEvent,
    notification_key,
    sign,
    url_validation_answer,
    verify_signature,
)

SECRET = "wh-secret-123"
TS = "1700000000"
BODY = b'{"event":"meeting.participant_joined","event_ts":1700000000123}'
# printf 'v0:1700000000:<BODY>' | openssl dgst -sha256 -hmac wh-secret-123
SIGNATURE = "v0=8bcafa0915d47989bd9aa4c3d4fa700ece9dd5d1993b19d990b1446e306dbcc6"
NOW = 1700000000.0


def test_sign_matches_openssl() -> None:
    assert sign(SECRET, TS, BODY) == SIGNATURE
    assert sign(SECRET.encode(), int(TS), BODY.decode()) == SIGNATURE


def test_a_good_signature_verifies_within_five_minutes() -> None:
    assert verify_signature(SECRET, TS, BODY, SIGNATURE, now=NOW)
    assert verify_signature(SECRET, TS, BODY, SIGNATURE, now=NOW + 300)
    assert verify_signature(SECRET, TS, BODY, SIGNATURE, now=NOW - 300)  # sender clock ahead


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "signature", "now"),
    [
        (SECRET, TS, BODY, SIGNATURE, NOW + 301),  # stale
        (SECRET, TS, BODY, SIGNATURE, NOW - 301),  # from the future
        ("other-secret", TS, BODY, SIGNATURE, NOW),  # forged with another key
        (SECRET, TS, BODY + b" ", SIGNATURE, NOW),  # body changed
        (SECRET, "1700000001", BODY, SIGNATURE, NOW),  # timestamp changed
        (SECRET, TS, BODY, SIGNATURE.upper(), NOW),  # not Zoom's lowercase hex
        (SECRET, TS, BODY, SIGNATURE[3:], NOW),  # no v0= prefix
        (SECRET, TS, BODY, None, NOW),
        (SECRET, None, BODY, SIGNATURE, NOW),
        (SECRET, "17e8", BODY, SIGNATURE, NOW),
        (SECRET, "-1700000000", BODY, SIGNATURE, NOW),
        (SECRET, "9" * 40, BODY, SIGNATURE, NOW),
        ("", TS, BODY, SIGNATURE, NOW),
        (SECRET, TS, BODY, "v0=\udcff", NOW),
    ],
    ids=["stale", "future", "forged", "body", "timestamp", "uppercase", "no-prefix",
         "no-signature", "no-timestamp", "float-ts", "negative-ts", "huge-ts", "no-secret",
         "unencodable"],
)
def test_anything_else_is_refused(
    secret: str, timestamp: str | None, body: bytes, signature: str | None, now: float
) -> None:
    assert verify_signature(secret, timestamp, body, signature, now=now) is False


def test_the_raw_body_is_signed_not_a_re_serialisation() -> None:
    reserialised = json.dumps(json.loads(BODY)).encode()  # spaces after ":" and ","
    assert reserialised != BODY
    assert not verify_signature(SECRET, TS, reserialised, SIGNATURE, now=NOW)


def test_url_validation_answer_matches_openssl() -> None:
    # printf qgg8vlvZRS6UYooatFL8Aw | openssl dgst -sha256 -hmac wh-secret-123
    assert url_validation_answer(SECRET, "qgg8vlvZRS6UYooatFL8Aw") == {
        "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
        "encryptedToken": "51640ca8bb34f1844ea7cf51446030bc2449d0bc3a33492947410ec51c21c45e",
    }


def test_a_retry_has_the_same_key() -> None:
    body = json.dumps({"event": "meeting.participant_left", "event_ts": 1,
                       "payload": {"object": {"id": "1"}}})
    same = json.dumps({"payload": {"object": {"id": "1"}}, "event_ts": 1,
                       "event": "meeting.participant_left"})
    assert notification_key(None, body) == notification_key(None, same)
    assert notification_key("req-1", body) == notification_key("req-1", "other")
    assert notification_key(None, body) != notification_key(None, body.replace("\"1\"", "\"2\""))
    assert notification_key(None, b"\xff not json").startswith("raw:")


def test_duplicates_are_remembered_for_the_window_only() -> None:
    seen = DuplicateFilter(window=100.0, limit=3)
    assert not seen.seen("a", 0.0)
    assert seen.seen("a", 50.0)
    assert not seen.seen("a", 151.0)  # forgotten after the window
    for key in "bcd":
        seen.seen(key, 152.0)
    assert len(seen) <= 3
    seen.forget("d")
    assert not seen.seen("d", 153.0)


def test_event_object() -> None:
    event = WebhookEvent.model_validate_json(
        '{"event": "meeting.participant_joined", "payload": {"object": {"id": "5"}}}')
    assert event.object == {"id": "5"}
    assert WebhookEvent.model_validate({"event": "x", "payload": {"object": []}}).object == {}
