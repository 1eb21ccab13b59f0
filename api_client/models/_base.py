"""Shared model bases and field types.

- :class:`ApiModel` (answers) tolerates unknown fields, so a new server field never breaks the
  client, and wraps any unknown field whose name looks secret (``password``, ``pin``, ``token``,
  ``secret``) in :class:`~pydantic.SecretStr`.
- :class:`RequestModel` (what the client sends) forbids unknown fields; :meth:`RequestModel.to_wire`
  is the only place where secrets are revealed, for the request body itself.

Both hide input values in validation errors, so a bad PIN never shows up in a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    SerializationInfo,
)

from api_client.redact import is_secret_name, redact

__all__ = [
    "ApiModel",
    "Bcp47Language",
    "IanaTimeZone",
    "JsonText",
    "NumericPin",
    "Rfc3339",
    "RequestModel",
    "Secret",
    "is_secret_name",
]


def _serialize_secret(value: SecretStr, info: SerializationInfo) -> str:
    context = info.context
    if isinstance(context, dict) and context.get("reveal_secrets"):
        return value.get_secret_value()
    return str(value)


#: A secret string: masked in repr, str, ``model_dump`` and JSON; revealed only by ``to_wire``.
Secret = Annotated[SecretStr, PlainSerializer(_serialize_secret, return_type=str)]


def _numeric(value: SecretStr) -> SecretStr:
    if not value.get_secret_value().isdigit():
        raise ValueError("only digits are allowed")
    return value


#: A numeric PIN of 3 to 6 digits (PortSIP ``admin_pin``/``room_pin``), kept secret.
NumericPin = Annotated[Secret, Field(min_length=3, max_length=6), AfterValidator(_numeric)]


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"not an IANA time zone name: {value!r}") from None
    return value


#: An IANA time-zone name such as ``Asia/Shanghai``.
IanaTimeZone = Annotated[str, AfterValidator(_time_zone)]

_BCP47 = re.compile(
    r"^(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"
    r"(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*(?:-x(?:-[A-Za-z0-9]{1,8})+)?$"
)


def _language(value: str) -> str:
    if not _BCP47.match(value):
        raise ValueError(f"not a BCP 47 language tag: {value!r}")
    return value


#: A BCP 47 language tag such as ``en-US``.
Bcp47Language = Annotated[str, AfterValidator(_language)]


def _json_text(value: str) -> str:
    try:
        json.loads(value)
    except ValueError:
        raise ValueError("must be a JSON document serialized as a string") from None
    return value


#: A string that holds JSON (PortSIP ``custom_options``).
JsonText = Annotated[str, AfterValidator(_json_text)]


def _rfc3339(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


#: An RFC 3339 date-time with a time zone, written back with ``Z`` for UTC.
Rfc3339 = Annotated[AwareDatetime, PlainSerializer(_rfc3339, return_type=str, when_used="json")]


class ApiModel(BaseModel):
    """Base of every answer model: unknown fields kept, secrets masked, inputs hidden in errors.

    Unknown fields whose names look secret are masked when the model is shown (``repr``) or
    dumped (``model_dump``, ``model_dump_json``), not when it is validated: validation stays in
    pydantic-core with no Python hook, which keeps a 300-item page well under a millisecond.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, hide_input_in_errors=True)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        extra = self.__pydantic_extra__ or {}
        for key, value in super().__repr_args__():
            if key in extra and isinstance(value, str) and is_secret_name(key):
                yield key, SecretStr(value)
            else:
                yield key, value

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        """As pydantic's, with every secret-named field masked (declared or not)."""
        dumped: dict[str, Any] = redact(super().model_dump(**kwargs))
        return dumped

    def model_dump_json(self, **kwargs: Any) -> str:
        """As pydantic's, with every secret-named field masked (declared or not)."""
        indent = kwargs.get("indent")
        return json.dumps(
            redact(json.loads(super().model_dump_json(**kwargs))),
            indent=indent,
            separators=None if indent else (",", ":"),
        )


class RequestModel(BaseModel):
    """Base of every request body: unknown fields rejected, bounds checked before any I/O."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, hide_input_in_errors=True, validate_assignment=True
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON body to send: unset fields left out, secrets revealed."""
        return self.model_dump(
            mode="json", exclude_none=True, by_alias=True, context={"reveal_secrets": True}
        )
