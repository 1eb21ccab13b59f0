"""Builders for the seed's number surface (``/phone/…``) and Zoom's Number Management.

Zoom Phone publishes ``GET /phone/numbers``, ``GET`` and ``PATCH /phone/numbers/{id}`` (counted
in Zoom Phone's own rate-limit buckets, ``phone_*`` labels); the rest of ``/phone/…`` here is the
seed's (served by the emulator) and is refused unsent against api.zoom.us.
"""

from __future__ import annotations

from api_client._call import Call, empty, model, op, seed_only
from api_client.endpoints._common import Crud, page_size
from api_client.models._base import RequestModel
from api_client.models.numbers import (
    AssignNumber,
    AvailableNumberPage,
    ManagedNumberPage,
    NumberBlock,
    NumberBlockCreate,
    NumberBlockPage,
    NumberInventory,
    PhoneNumber,
    PhoneNumberCreate,
    PhoneNumberPage,
    PhoneNumberUpdate,
    ProvisionNumbers,
    ProvisionResult,
)
from api_client.models.porting import (
    PortabilityResult,
    PortingOrder,
    PortingOrderCreate,
    PortingOrderPage,
    PortingOrderUpdate,
    ValidatePortability,
)
from api_client.ratelimit import RateLabel

LIGHT = RateLabel.LIGHT
P_LIGHT, P_MEDIUM, P_HEAVY = RateLabel.PHONE_LIGHT, RateLabel.PHONE_MEDIUM, RateLabel.PHONE_HEAVY
_PORTAL = "buy, assign and port numbers in the Zoom web portal; list them with GET /phone/numbers"
_ALL = ("list", "get", "create", "update", "delete")

#: ``/phone/numbers`` and ``/phone/numbers/{numberId}``: Zoom serves list, get and update (labels
#: not confirmed: Medium list, Light otherwise, in the Zoom Phone buckets); create and DELETE
#: (release) are the seed's.
PHONE_NUMBERS = Crud(
    "/phone/numbers",
    "numberId",
    "phone_numbers",
    PhoneNumber,
    PhoneNumberPage,
    PhoneNumber,
    PhoneNumberCreate,
    PhoneNumberUpdate,
    label=P_LIGHT,
    list_label=P_MEDIUM,
    not_at_zoom={"create": _PORTAL, "delete": _PORTAL},
)
#: ``/phone/porting/orders`` and ``/phone/porting/orders/{orderId}`` (DELETE cancels).
PORTING_ORDERS = Crud(
    "/phone/porting/orders",
    "orderId",
    "orders",
    PortingOrder,
    PortingOrderPage,
    PortingOrder,
    PortingOrderCreate,
    PortingOrderUpdate,
    label=P_MEDIUM,
    list_label=P_MEDIUM,
    not_at_zoom=dict.fromkeys(_ALL, _PORTAL),
)
#: ``/phone/number_blocks`` and ``/phone/number_blocks/{blockId}`` (DELETE releases).
NUMBER_BLOCKS = Crud(
    "/phone/number_blocks",
    "blockId",
    "number_blocks",
    NumberBlock,
    NumberBlockPage,
    NumberBlock,
    NumberBlockCreate,
    RequestModel,
    label=P_HEAVY,
    list_label=P_LIGHT,
    not_at_zoom=dict.fromkeys(_ALL, _PORTAL),
)


def search_available(
    *,
    country: str = "US",
    state: str | None = None,
    area_code: str | None = None,
    quantity: int | None = None,
    number_type: str | None = None,
    toll_free: bool = False,
) -> Call[AvailableNumberPage]:
    """``GET /phone/numbers/available`` (or ``/phone/numbers/toll_free/available``)."""
    if quantity is not None and not 1 <= quantity <= 100:
        raise ValueError(f"quantity must be 1..100 (got {quantity})")
    if area_code is not None and not (area_code.isdigit() and 1 <= len(area_code) <= 6):
        raise ValueError(f"area_code must be 1..6 digits (got {area_code!r})")
    where = "/phone/numbers/toll_free/available" if toll_free else "/phone/numbers/available"
    return op(
        "GET",
        where,
        model(AvailableNumberPage),
        params={
            "country": country,
            "state": state,
            "area_code": area_code,
            "quantity": quantity,
            "type": number_type,
        },
        label=P_MEDIUM,
        not_at_zoom=seed_only(_PORTAL),
    )


def provision(request: ProvisionNumbers, *, toll_free: bool = False) -> Call[ProvisionResult]:
    """``POST /phone/numbers/provision`` (or ``POST /phone/numbers/toll_free``)."""
    where = "/phone/numbers/toll_free" if toll_free else "/phone/numbers/provision"
    return op(
        "POST",
        where,
        model(ProvisionResult),
        json=request.to_wire(),
        label=P_HEAVY,
        not_at_zoom=seed_only(_PORTAL),
    )


def inventory() -> Call[NumberInventory]:
    """``GET /phone/numbers/inventory``."""
    return op(
        "GET",
        "/phone/numbers/inventory",
        model(NumberInventory),
        label=P_LIGHT,
        not_at_zoom=seed_only(_PORTAL),
    )


def assign(number_id: str, request: AssignNumber) -> Call[PhoneNumber]:
    """``POST /phone/numbers/{numberId}/assign``."""
    return op(
        "POST",
        "/phone/numbers/{numberId}/assign",
        model(PhoneNumber),
        ids={"numberId": number_id},
        json=request.to_wire(),
        label=P_LIGHT,
        not_at_zoom=seed_only(_PORTAL),
    )


def unassign(number_id: str) -> Call[None]:
    """``DELETE /phone/numbers/{numberId}/assign``."""
    return op(
        "DELETE",
        "/phone/numbers/{numberId}/assign",
        empty,
        ids={"numberId": number_id},
        label=P_LIGHT,
        not_at_zoom=seed_only(_PORTAL),
    )


def list_numbers(where: str, size: int | None, **filters: str | None) -> Call[PhoneNumberPage]:
    """``GET /phone/numbers``, ``/phone/numbers/unassigned`` or ``/phone/numbers/toll_free``."""
    return op(
        "GET",
        where,
        model(PhoneNumberPage),
        params={"page_size": page_size(size), **filters},
        label=P_MEDIUM,
        not_at_zoom=None if where == "/phone/numbers" else seed_only(_PORTAL),
    )


def validate_porting(request: ValidatePortability) -> Call[PortabilityResult]:
    """``POST /phone/porting/validate``."""
    return op(
        "POST",
        "/phone/porting/validate",
        model(PortabilityResult),
        json=request.to_wire(),
        label=P_MEDIUM,
        not_at_zoom=seed_only(_PORTAL),
    )


def managed_numbers(
    size: int | None = None,
    *,
    number_type: str | None = None,
    number_status: str | None = None,
    keyword: str | None = None,
) -> Call[ManagedNumberPage]:
    """Zoom: ``GET /number_management/numbers`` (``page_size`` up to 200)."""
    return op(
        "GET",
        "/number_management/numbers",
        model(ManagedNumberPage),
        params={
            "page_size": page_size(size, 200),
            "number_type": number_type,
            "number_status": number_status,
            "keyword": keyword,
        },
        label=LIGHT,
    )
