"""Phone-number routes of the emulator: the seed's ``/phone/…`` surface and Zoom's
``/number_management/numbers``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api_client.emulator._collections import Collection, zoom_page, zoom_routes
from api_client.emulator._core import Ctx, Emulator, ZoomFault, validate
from api_client.emulator._store import new_id, utcnow
from api_client.models.numbers import (
    AssignNumber,
    NumberBlockCreate,
    PhoneNumberCreate,
    PhoneNumberUpdate,
    ProvisionNumbers,
)
from api_client.models.porting import PortingOrderCreate, PortingOrderUpdate, ValidatePortability

__all__ = ["number_routes"]

_MANAGED_TYPES = {
    "local": "Toll",
    "toll_free": "TollFree",
    "national": "National",
    "mobile": "Mobile",
}
_CITIES = {"415": ("CA", "San Francisco"), "212": ("NY", "New York"), "312": ("IL", "Chicago")}


def _numbers(ctx: Ctx) -> list[dict[str, Any]]:
    return ctx.store.all("phone_number")


def _owned(ctx: Ctx) -> set[str]:
    return {doc["phone_number"] for doc in _numbers(ctx)}


def _number_defaults(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    if doc["phone_number"] in _owned(ctx):
        raise ZoomFault(409, 409, f"Phone number {doc['phone_number']} already exists.")
    doc.setdefault("status", "active")
    doc.setdefault("country", "US")
    return doc


def _type_filter(ctx: Ctx, doc: dict[str, Any]) -> bool:
    wanted = ctx.query("type")
    return wanted is None or doc.get("type") == wanted


def _order_defaults(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    owned = _owned(ctx)
    taken = [number for number in doc["phone_numbers"] if number in owned]
    if taken:
        raise ZoomFault(409, 409, f"Already on this account: {', '.join(taken)}.")
    now = utcnow()
    doc["status"] = "submitted"
    doc["submitted_at"] = now.isoformat().replace("+00:00", "Z")
    requested = doc.get("requested_port_date")
    doc["estimated_completion"] = requested or (now.date() + dt.timedelta(days=14)).isoformat()
    return doc


def _cancel_order(ctx: Ctx, doc: dict[str, Any]) -> None:
    if doc["status"] in ("completed", "rejected", "cancelled"):
        raise ZoomFault(409, 409, f"A {doc['status']} porting order cannot be cancelled.")
    doc["status"] = "cancelled"
    ctx.store.replace("porting_order", doc["order_id"], doc)


def _block_defaults(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    area = doc.get("area_code") or "415"
    numbers = _free_numbers(ctx, f"+1{area}", doc["size"])
    if len(numbers) < doc["size"]:
        raise ZoomFault(400, 300, f"Not enough free numbers in area code {area}.")
    for number in numbers:
        member = {
            "id": new_id("num_"),
            "phone_number": number,
            "type": doc["type"],
            "status": "active",
            "country": doc["country"],
            "capabilities": ["voice"],
        }
        ctx.store.insert("phone_number", member["id"], member)
    doc["phone_numbers"] = numbers
    doc["status"] = "active"
    return doc


def _release_block(ctx: Ctx, doc: dict[str, Any]) -> None:
    members = set(doc.get("phone_numbers", []))
    for number in _numbers(ctx):
        if number["phone_number"] in members:
            ctx.store.delete("phone_number", number["id"])
    ctx.store.delete("number_block", doc["id"])


COLLECTIONS = [
    Collection(
        "phone_number",
        "/phone/numbers",
        "phone_numbers",
        PhoneNumberCreate,
        PhoneNumberUpdate,
        id_prefix="num_",
        label="phone_light",
        list_label="phone_medium",
        defaults=_number_defaults,
        list_filter=_type_filter,
    ),
    Collection(
        "porting_order",
        "/phone/porting/orders",
        "orders",
        PortingOrderCreate,
        PortingOrderUpdate,
        id_field="order_id",
        id_prefix="port_",
        label="phone_medium",
        list_label="phone_medium",
        defaults=_order_defaults,
        on_delete=_cancel_order,
        hidden=frozenset({"account_number", "account_pin"}),
    ),
    Collection(
        "number_block",
        "/phone/number_blocks",
        "number_blocks",
        NumberBlockCreate,
        None,
        id_prefix="blk_",
        label="phone_heavy",
        list_label="phone_light",
        defaults=_block_defaults,
        on_delete=_release_block,
    ),
]


def _free_numbers(ctx: Ctx, prefix: str, count: int) -> list[str]:
    owned = _owned(ctx)
    out: list[str] = []
    for line in range(1001, 10000):
        number = f"{prefix}555{line:04d}"
        if number not in owned and number not in out:
            out.append(number)
        if len(out) >= count:
            break
    return out


async def available(ctx: Ctx) -> Response:
    return _available(ctx, toll_free=False)


async def toll_free_available(ctx: Ctx) -> Response:
    return _available(ctx, toll_free=True)


def _available(ctx: Ctx, *, toll_free: bool) -> Response:
    country = ctx.query("country", "US")
    if country != "US":
        return JSONResponse({"available_numbers": [], "next_page_token": ""})
    quantity = ctx.int_query("quantity", 10, 1, 100)
    area = "800" if toll_free else (ctx.query("area_code") or "415")
    if not area.isdigit() or len(area) != 3:
        raise ZoomFault(400, 300, "area_code must be three digits in the US.")
    state, city = _CITIES.get(area, (ctx.query("state") or "", None))
    kind = "toll_free" if toll_free else (ctx.query("type") or "local")
    items = [
        {
            "phone_number": number,
            "country": "US",
            "state": None if toll_free else state,
            "city": None if toll_free else city,
            "type": kind,
            "capabilities": ["voice"] if toll_free else ["voice", "sms"],
            "monthly_cost": 2.0 if toll_free else 1.0,
        }
        for number in _free_numbers(ctx, f"+1{area}", quantity)
    ]
    return JSONResponse({"available_numbers": items, "next_page_token": ""})


async def provision(ctx: Ctx) -> Response:
    return await _provision(ctx, "local")


async def provision_toll_free(ctx: Ctx) -> Response:
    return await _provision(ctx, "toll_free")


async def _provision(ctx: Ctx, kind: str) -> Response:
    request = validate(ProvisionNumbers, await ctx.json())
    owned = _owned(ctx)
    taken = [number for number in request.phone_numbers if number in owned]
    if taken:
        raise ZoomFault(409, 409, f"Already provisioned: {', '.join(taken)}.")
    if kind == "toll_free":
        bad = [n for n in request.phone_numbers if not n.startswith(("+1800", "+1888", "+1877"))]
        if bad:
            raise ZoomFault(400, 300, f"Not toll-free numbers: {', '.join(bad)}.")
    created = []
    for number in request.phone_numbers:
        doc = {
            "id": new_id("num_"),
            "phone_number": number,
            "status": "active",
            "type": kind,
            "country": "US",
            "capabilities": ["voice"],
            "site_id": request.site_id,
        }
        ctx.store.insert("phone_number", doc["id"], doc)
        created.append({"id": doc["id"], "phone_number": number, "status": "active"})
    return JSONResponse({"provisioned_numbers": created}, status_code=201)


async def inventory(ctx: Ctx) -> Response:
    docs = _numbers(ctx)
    by_type: dict[str, int] = {}
    for doc in docs:
        by_type[doc.get("type") or "local"] = by_type.get(doc.get("type") or "local", 0) + 1
    assigned = sum(1 for doc in docs if doc.get("assignee"))
    return JSONResponse(
        {
            "total": len(docs),
            "assigned": assigned,
            "unassigned": len(docs) - assigned,
            "by_type": by_type,
        }
    )


def _number(ctx: Ctx) -> dict[str, Any]:
    doc = ctx.store.get("phone_number", ctx.param("number_id"))
    if doc is None:
        raise ZoomFault(404, 1001, "Phone number does not exist.")
    return doc


async def assign(ctx: Ctx) -> Response:
    request = validate(AssignNumber, await ctx.json())
    doc = _number(ctx)
    if doc.get("assignee"):
        raise ZoomFault(409, 409, "The number is already assigned; unassign it first.")
    doc["assignee"] = {"type": request.assignee_type, "id": request.assignee_id}
    ctx.store.replace("phone_number", doc["id"], doc)
    return JSONResponse(doc)


async def unassign(ctx: Ctx) -> Response:
    doc = _number(ctx)
    if not doc.pop("assignee", None):
        raise ZoomFault(400, 300, "The number is not assigned.")
    ctx.store.replace("phone_number", doc["id"], doc)
    return Response(status_code=204)


async def unassigned(ctx: Ctx) -> Response:
    docs = [doc for doc in _numbers(ctx) if not doc.get("assignee")]
    return zoom_page(ctx, "phone_numbers", docs)


async def toll_free(ctx: Ctx) -> Response:
    docs = [doc for doc in _numbers(ctx) if doc.get("type") == "toll_free"]
    return zoom_page(ctx, "phone_numbers", docs)


async def validate_porting(ctx: Ctx) -> Response:
    request = validate(ValidatePortability, await ctx.json())
    owned = _owned(ctx)
    results = []
    for number in request.phone_numbers:
        if number in owned:
            results.append(
                {"phone_number": number, "portable": False, "reason": "already on this account"}
            )
        elif number.startswith("+1900"):
            results.append(
                {
                    "phone_number": number,
                    "portable": False,
                    "reason": "premium-rate numbers cannot be ported",
                }
            )
        else:
            results.append({"phone_number": number, "portable": True, "reason": None})
    return JSONResponse({"results": results})


async def managed_numbers(ctx: Ctx) -> Response:
    """Zoom ``GET /number_management/numbers`` over the same numbers."""
    docs = []
    wanted = ctx.query("number_type")
    keyword = ctx.query("keyword")
    for doc in _numbers(ctx):
        item = {
            "number_id": doc["id"],
            "number": doc["phone_number"],
            "number_type": _MANAGED_TYPES.get(doc.get("type") or "local", "Toll"),
            "number_status": "Normal",
            "number_source": "Zoom",
            "allocated_product": "ZOOM_PHONE" if doc.get("assignee") else "UNALLOCATED",
        }
        if wanted and item["number_type"] != wanted:
            continue
        if keyword and not item["number"].lstrip("+").startswith(keyword.lstrip("+")):
            continue
        docs.append(item)
    return zoom_page(ctx, "numbers", docs, 200)


def number_routes(emulator: Emulator) -> list[Route]:
    z = emulator.zoom_route
    routes = [
        z("/phone/numbers/available", available, ["GET"], "phone_medium"),
        z("/phone/numbers/provision", provision, ["POST"], "phone_heavy"),
        z("/phone/numbers/inventory", inventory, ["GET"], "phone_light"),
        z("/phone/numbers/unassigned", unassigned, ["GET"], "phone_medium"),
        z("/phone/numbers/toll_free/available", toll_free_available, ["GET"], "phone_medium"),
        z("/phone/numbers/toll_free", toll_free, ["GET"], "phone_medium"),
        z("/phone/numbers/toll_free", provision_toll_free, ["POST"], "phone_heavy"),
        z("/phone/numbers/{number_id}/assign", assign, ["POST"], "phone_light"),
        z("/phone/numbers/{number_id}/assign", unassign, ["DELETE"], "phone_light"),
        z("/phone/porting/validate", validate_porting, ["POST"], "phone_medium"),
        z("/number_management/numbers", managed_numbers, ["GET"]),
    ]
    for collection in COLLECTIONS:
        routes += zoom_routes(emulator, collection)
    return routes
