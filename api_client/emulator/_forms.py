"""Form bodies for the emulator (``application/x-www-form-urlencoded`` and
``multipart/form-data`` text fields) without an extra dependency."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from api_client.emulator._core import Ctx, ZoomFault

__all__ = ["FormError", "form_or_json", "form_value", "read_form"]


class FormError(ValueError):
    """The body is not a readable form."""


async def read_form(request: Request) -> dict[str, str]:
    """The text fields of a form body (file parts are read as text too)."""
    content_type = request.headers.get("content-type", "")
    body = await request.body()
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    if content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + body)
        if not message.is_multipart():
            raise FormError("multipart body without parts")
        fields: dict[str, str] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                raise FormError("multipart part without a name")
            payload = part.get_payload(decode=True)
            fields[name] = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
        return fields
    raise FormError(f"not a form: {content_type or 'no content type'}")


def form_value(text: str) -> object:
    """Form fields are text: ``true``/``false`` and digits become JSON values."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return int(lowered) if lowered.isdigit() else text


async def form_or_json(ctx: Ctx, code: int) -> dict[str, Any]:
    """A form body (multipart or urlencoded, values typed by :func:`form_value`) or a JSON
    object; an unreadable form is a Zoom 400 with ``code``."""
    content_type = ctx.request.headers.get("content-type", "")
    if not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return await ctx.json()
    try:
        form = await read_form(ctx.request)
    except FormError as exc:
        raise ZoomFault(400, code, f"Invalid form body: {exc}") from None
    return {key: form_value(text) for key, text in form.items()}
