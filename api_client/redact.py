"""Redaction of secrets in anything that may reach a log, a repr, an exception or the CLI."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx

__all__ = ["MASK", "is_secret_name", "redact", "redact_headers", "redact_url"]

MASK = "**********"
_SECRET_WORDS = frozenset({"password", "passwd", "pwd", "secret", "token", "pin", "passcode"})
_NOT_SECRET = frozenset({"next_page_token", "page_token", "token_type"})
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


def is_secret_name(name: str) -> bool:
    """Names treated as secrets everywhere (models, logs, error bodies, CLI output): any
    ``_``/``-``-separated word is password, secret, token, pin or passcode (``device_password``,
    ``room_pin``, ``access_token``, ``client_secret``), except paging tokens."""
    lowered = name.lower()
    if lowered in _NOT_SECRET:
        return False
    return any(word in _SECRET_WORDS for word in re.split(r"[_\-\s]+", lowered))


def redact(value: Any) -> Any:
    """A copy of a JSON-like value with every secret-named field masked (and the messages of
    Zoom validation errors about a secret field)."""
    if isinstance(value, Mapping):
        field = value.get("field")
        if isinstance(field, str) and is_secret_name(field.rsplit(".", 1)[-1]):
            # a validation error about a secret field may echo the secret in its message
            return {key: (MASK if key != "field" else item) for key, item in value.items()}
        return {
            key: (
                MASK
                if isinstance(key, str) and is_secret_name(key) and item is not None
                else redact(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with credentials masked."""
    return {
        key: (MASK if key.lower() in _SECRET_HEADERS or is_secret_name(key) else value)
        for key, value in headers.items()
    }


def redact_url(url: httpx.URL | str) -> str:
    """The URL with credentials and secret query parameters masked."""
    parsed = httpx.URL(str(url))
    if parsed.userinfo:
        parsed = parsed.copy_with(username=None, password=None)
    if parsed.query:
        params = [
            (key, MASK if is_secret_name(key) else value)
            for key, value in parsed.params.multi_items()
        ]
        parsed = parsed.copy_with(params=params)
    return str(parsed)
