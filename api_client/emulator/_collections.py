"""Generic collections for the emulator: Zoom-style (``next_page_token``) and PortSIP-style
(``skip``/``top``, ``filter``, ``search``, ``orderby``; update by POST, delete by POST
``…/destroy``).

Request bodies are validated with the client's own request models, so the emulator is exactly as
strict as the client.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api_client.emulator._core import (
    Ctx,
    Emulator,
    PortSipFault,
    ZoomFault,
    decode_page_token,
    encode_page_token,
    validate,
)
from api_client.emulator._store import new_id, utcnow

__all__ = [
    "Collection",
    "page",
    "portsip_routes",
    "public",
    "zoom_page",
    "zoom_page_body",
    "zoom_routes",
]


@dataclass
class Collection:
    """One collection: where it lives, how its items are named and validated."""

    kind: str
    path: str
    items_key: str
    create_model: type[BaseModel] | None
    update_model: type[BaseModel] | None
    id_field: str = "id"
    id_prefix: str = ""
    label: str = "light"
    list_label: str = "light"
    hidden: frozenset[str] = frozenset()
    defaults: Callable[[Ctx, dict[str, Any]], dict[str, Any]] | None = None
    on_delete: Callable[[Ctx, dict[str, Any]], None] | None = None
    max_page_size: int = 300
    read_only: bool = False
    not_found_code: int = 1001
    list_filter: Callable[[Ctx, dict[str, Any]], bool] | None = None
    unique: Sequence[str] = field(default_factory=tuple)
    #: The 201 body of a create (Zoom answers some creates with just the new id); default: the
    #: stored document without its hidden fields.
    created_view: Callable[[dict[str, Any]], dict[str, Any]] | None = None


def public(collection: Collection, doc: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in doc.items() if key not in collection.hidden}


def page(docs: list[dict[str, Any]], offset: int, size: int) -> tuple[list[dict[str, Any]], str]:
    chunk = docs[offset : offset + size]
    after = offset + len(chunk)
    return chunk, encode_page_token(after) if after < len(docs) else ""


def zoom_page_body(
    ctx: Ctx, key: str, docs: list[dict[str, Any]], max_size: int = 300
) -> dict[str, Any]:
    """A Zoom page of ``docs`` for the request's ``page_size``/``next_page_token``."""
    size = ctx.int_query("page_size", 30, 1, max_size)
    token = ctx.query("next_page_token")
    offset = decode_page_token(token) if token else 0
    chunk, next_token = page(docs, offset, size)
    return {"page_size": size, "total_records": len(docs), "next_page_token": next_token,
            key: chunk}


def zoom_page(ctx: Ctx, key: str, docs: list[dict[str, Any]], max_size: int = 300) -> Response:
    """:func:`zoom_page_body` as a response."""
    return JSONResponse(zoom_page_body(ctx, key, docs, max_size))


def _find(ctx: Ctx, collection: Collection, item_id: str) -> dict[str, Any]:
    doc = ctx.store.get(collection.kind, item_id)
    if doc is None:
        raise ZoomFault(404, collection.not_found_code, f"{collection.kind} not found: {item_id}.")
    return doc


def _check_unique(
    ctx: Ctx, collection: Collection, doc: dict[str, Any], own_id: str | None
) -> None:
    for key in collection.unique:
        if key not in doc:
            continue
        for other in ctx.store.all(collection.kind):
            if other.get(key) == doc[key] and other.get(collection.id_field) != own_id:
                raise ZoomFault(409, 409, f"{key} {doc[key]} already exists.")


def zoom_routes(emulator: Emulator, collection: Collection) -> list[Route]:
    """``GET/POST {path}`` and ``GET/PATCH/DELETE {path}/{id}``."""

    async def list_items(ctx: Ctx) -> Response:
        docs = ctx.store.all(collection.kind)
        if collection.list_filter is not None:
            docs = [doc for doc in docs if collection.list_filter(ctx, doc)]
        docs = [public(collection, doc) for doc in docs]
        return zoom_page(ctx, collection.items_key, docs, collection.max_page_size)

    async def create(ctx: Ctx) -> Response:
        assert collection.create_model is not None
        body = validate(collection.create_model, await ctx.json())
        doc = body.model_dump(mode="json", exclude_none=True, context={"reveal_secrets": True})
        if collection.defaults is not None:
            doc = collection.defaults(ctx, doc)
        doc_id = doc.get(collection.id_field) or new_id(collection.id_prefix)
        doc[collection.id_field] = doc_id
        _check_unique(ctx, collection, doc, None)
        if not ctx.store.insert(collection.kind, doc_id, doc):
            raise ZoomFault(409, 409, f"{collection.kind} {doc_id} already exists.")
        if collection.created_view is not None:
            return JSONResponse(collection.created_view(doc), status_code=201)
        return JSONResponse(public(collection, doc), status_code=201)

    async def get(ctx: Ctx) -> Response:
        return JSONResponse(public(collection, _find(ctx, collection, ctx.param("item_id"))))

    async def update(ctx: Ctx) -> Response:
        assert collection.update_model is not None
        item_id = ctx.param("item_id")
        body = validate(collection.update_model, await ctx.json())  # read before the document:
        doc = _find(ctx, collection, item_id)  # no await between reading and writing it
        doc.update(
            body.model_dump(mode="json", exclude_none=True, context={"reveal_secrets": True})
        )
        _check_unique(ctx, collection, doc, item_id)
        ctx.store.replace(collection.kind, item_id, doc)
        return Response(status_code=204)

    async def delete(ctx: Ctx) -> Response:
        item_id = ctx.param("item_id")
        doc = _find(ctx, collection, item_id)
        if collection.on_delete is not None:
            collection.on_delete(ctx, doc)
        else:
            ctx.store.delete(collection.kind, item_id)
        return Response(status_code=204)

    item = collection.path + "/{item_id}"
    routes = [
        emulator.zoom_route(collection.path, list_items, ["GET"], collection.list_label),
        emulator.zoom_route(item, get, ["GET"], collection.label),
    ]
    if not collection.read_only:
        routes.append(emulator.zoom_route(collection.path, create, ["POST"], collection.label))
        if collection.update_model is not None:  # else PATCH is 405, in Zoom's error body
            routes.append(emulator.zoom_route(item, update, ["PATCH"], collection.label))
        routes.append(emulator.zoom_route(item, delete, ["DELETE"], collection.label))
    return routes


_FILTER = re.compile(r"^\s*(\w+)\s+eq\s+'?([^']*)'?\s*$")
_ORDER = re.compile(r"^\s*(\w+)(?:\s+(asc|desc))?\s*$", re.I)


def _portsip_list(ctx: Ctx, collection: Collection) -> Response:
    docs = [public(collection, doc) for doc in ctx.store.all(collection.kind)]
    flt = ctx.query("filter")
    if flt:
        match = _FILTER.match(flt)
        if match is None:
            raise PortSipFault(400, "INVALID_ARGUMENT", "filter must read: <field> eq '<value>'")
        key, value = match.groups()
        docs = [doc for doc in docs if str(doc.get(key, "")).lower() == value.lower()]
    search = ctx.query("search")
    if search:
        needle = search.lower()
        docs = [doc for doc in docs if any(needle in str(v).lower() for v in doc.values())]
    orderby = ctx.query("orderby")
    if orderby:
        match = _ORDER.match(orderby)
        if match is None:
            raise PortSipFault(400, "INVALID_ARGUMENT", "orderby must read: <field> [asc|desc]")
        key, direction = match.group(1), (match.group(2) or "asc").lower()
        docs.sort(key=lambda doc: str(doc.get(key, "")), reverse=direction == "desc")
    skip = ctx.int_query("skip", 0, 0, 2**31 - 1)
    top = ctx.int_query("top", 100, 1, 100)
    return JSONResponse({"count": len(docs), "items": docs[skip : skip + top]})


def portsip_routes(emulator: Emulator, collection: Collection) -> list[Route]:
    """PortSIP: ``GET/POST {path}``, ``GET/POST {path}/{id}``, ``POST {path}/{id}/destroy``."""

    def find(ctx: Ctx) -> dict[str, Any]:
        doc = ctx.store.get(collection.kind, ctx.param("item_id"))
        if doc is None:
            raise PortSipFault(404, "NOT_FOUND", f"The {collection.kind} does not exist.")
        return doc

    def unique(ctx: Ctx, doc: dict[str, Any], own_id: str | None) -> None:
        try:
            _check_unique(ctx, collection, doc, own_id)
        except ZoomFault as fault:
            raise PortSipFault(409, "ALREADY_EXISTS", fault.message) from None

    async def list_items(ctx: Ctx) -> Response:
        return _portsip_list(ctx, collection)

    async def create(ctx: Ctx) -> Response:
        assert collection.create_model is not None
        body = validate(collection.create_model, await ctx.json())
        doc = body.model_dump(mode="json", exclude_none=True, context={"reveal_secrets": True})
        if collection.defaults is not None:
            doc = collection.defaults(ctx, doc)
        doc["id"] = new_id(collection.id_prefix)
        doc["created_at"] = utcnow().isoformat().replace("+00:00", "Z")
        unique(ctx, doc, None)
        ctx.store.insert(collection.kind, doc["id"], doc)
        return JSONResponse({"id": doc["id"]}, status_code=201)

    async def get(ctx: Ctx) -> Response:
        return JSONResponse(public(collection, find(ctx)))

    async def update(ctx: Ctx) -> Response:
        assert collection.update_model is not None
        body = validate(collection.update_model, await ctx.json())
        doc = find(ctx)
        doc.update(
            body.model_dump(mode="json", exclude_none=True, context={"reveal_secrets": True})
        )
        unique(ctx, doc, doc["id"])
        ctx.store.replace(collection.kind, doc["id"], doc)
        return Response(status_code=200)

    async def destroy(ctx: Ctx) -> Response:
        doc = find(ctx)
        ctx.store.delete(collection.kind, doc["id"])
        return Response(status_code=200)

    item = collection.path + "/{item_id}"
    return [
        emulator.portsip_route(collection.path, list_items, ["GET"]),
        emulator.portsip_route(collection.path, create, ["POST"]),
        emulator.portsip_route(item + "/destroy", destroy, ["POST"]),
        emulator.portsip_route(item, get, ["GET"]),
        emulator.portsip_route(item, update, ["POST"]),
    ]
