"""Porting orders (seed ``/phone/porting/…``): statuses ``submitted``, ``pending``, ``scheduled``,
``completed``, ``rejected``, ``cancelled``."""

from __future__ import annotations

import datetime as dt
from typing import Literal, get_args

from pydantic import Field

from api_client.models._base import ApiModel, RequestModel, Secret
from api_client.models._page import ZoomPage
from api_client.models.numbers import E164

__all__ = [
    "BillingAddress",
    "PORTING_STATUSES",
    "PortabilityCheck",
    "PortabilityResult",
    "PortingOrder",
    "PortingOrderCreate",
    "PortingOrderPage",
    "PortingOrderUpdate",
    "ValidatePortability",
]

PortingStatus = Literal["submitted", "pending", "scheduled", "completed", "rejected", "cancelled"]
PORTING_STATUSES: tuple[str, ...] = get_args(PortingStatus)


class BillingAddress(RequestModel):
    address: str = Field(min_length=1, max_length=255)
    city: str = Field(min_length=1, max_length=128)
    state: str = Field(min_length=1, max_length=64)
    zip: str = Field(min_length=1, max_length=16)


class PortingOrder(ApiModel):
    order_id: str
    status: str  # PORTING_STATUSES, kept as a string: a new status never fails a page
    phone_numbers: list[E164] = Field(default_factory=list)
    submitted_at: dt.datetime | None = None
    estimated_completion: dt.date | None = None
    carrier_name: str | None = None
    account_number: Secret | None = None
    account_pin: Secret | None = None
    requested_port_date: dt.date | None = None


class PortingOrderPage(ZoomPage):
    orders: list[PortingOrder] = Field(default_factory=list)


class PortingOrderCreate(RequestModel):
    """``POST /phone/porting/orders``: a port-in request."""

    phone_numbers: list[E164] = Field(min_length=1, max_length=100)
    carrier_name: str = Field(min_length=1, max_length=128)
    account_number: Secret = Field(min_length=1, max_length=64)
    account_pin: Secret | None = Field(default=None, min_length=1, max_length=16)
    authorized_person: str = Field(min_length=1, max_length=128)
    billing_address: BillingAddress
    requested_port_date: dt.date | None = None


class PortingOrderUpdate(RequestModel):
    """``PATCH /phone/porting/orders/{orderId}``."""

    requested_port_date: dt.date | None = None
    authorized_person: str | None = Field(default=None, min_length=1, max_length=128)
    billing_address: BillingAddress | None = None
    account_pin: Secret | None = Field(default=None, min_length=1, max_length=16)


class ValidatePortability(RequestModel):
    """``POST /phone/porting/validate``."""

    phone_numbers: list[E164] = Field(min_length=1, max_length=100)


class PortabilityCheck(ApiModel):
    phone_number: E164
    portable: bool
    reason: str | None = None


class PortabilityResult(ApiModel):
    results: list[PortabilityCheck] = Field(default_factory=list)
