"""Shared page shapes."""

from __future__ import annotations

from pydantic import Field

from api_client.models._base import ApiModel

__all__ = ["ZoomPage"]


class ZoomPage(ApiModel):
    """Zoom paging fields; ``next_page_token`` is empty or absent on the last page."""

    next_page_token: str | None = None
    page_size: int | None = Field(default=None, ge=0)
    total_records: int | None = Field(default=None, ge=0)
    page_count: int | None = None
    page_number: int | None = None
