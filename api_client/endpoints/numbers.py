"""Builders for the seed's number surface (``/phone/…``) and Zoom's Number Management."""

from __future__ import annotations

from api_client._call import Call, empty, model, op
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

LIGHT, MEDIUM, HEAVY = RateLabel.LIGHT, RateLabel.MEDIUM, RateLabel.HEAVY

#: ``/phone/numbers`` and ``/phone/numbers/{numberId}`` (DELETE releases the number).
PHONE_NUMBERS = Crud(
    "/phone/numbers",
    "numberId",
    "phone_numbers",
    PhoneNumber,
    PhoneNumberPage,
    PhoneNumber,
    PhoneNumberCreate,
    PhoneNumberUpdate,
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
    label=MEDIUM,
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
    label=HEAVY,
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
        label=MEDIUM,
    )


def provision(request: ProvisionNumbers, *, toll_free: bool = False) -> Call[ProvisionResult]:
    """``POST /phone/numbers/provision`` (or ``POST /phone/numbers/toll_free``)."""
    where = "/phone/numbers/toll_free" if toll_free else "/phone/numbers/provision"
    return op(
        "POST",
        where,
        model(ProvisionResult),
        json=request.to_wire(),
        label=HEAVY,
    )


def inventory() -> Call[NumberInventory]:
    """``GET /phone/numbers/inventory``."""
    return op("GET", "/phone/numbers/inventory", model(NumberInventory), label=LIGHT)


def assign(number_id: str, request: AssignNumber) -> Call[PhoneNumber]:
    """``POST /phone/numbers/{numberId}/assign``."""
    return op(
        "POST",
        "/phone/numbers/{numberId}/assign",
        model(PhoneNumber),
        ids={"numberId": number_id},
        json=request.to_wire(),
        label=LIGHT,
    )


def unassign(number_id: str) -> Call[None]:
    """``DELETE /phone/numbers/{numberId}/assign``."""
    return op(
        "DELETE",
        "/phone/numbers/{numberId}/assign",
        empty,
        ids={"numberId": number_id},
        label=LIGHT,
    )


def list_numbers(where: str, size: int | None, **filters: str | None) -> Call[PhoneNumberPage]:
    """``GET /phone/numbers``, ``/phone/numbers/unassigned`` or ``/phone/numbers/toll_free``."""
    return op(
        "GET",
        where,
        model(PhoneNumberPage),
        params={"page_size": page_size(size), **filters},
        label=LIGHT,
    )


def validate_porting(request: ValidatePortability) -> Call[PortabilityResult]:
    """``POST /phone/porting/validate``."""
    return op(
        "POST",
        "/phone/porting/validate",
        model(PortabilityResult),
        json=request.to_wire(),
        label=MEDIUM,
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
