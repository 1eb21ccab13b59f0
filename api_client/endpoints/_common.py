"""Helpers shared by the builder modules: page-size checks and the CRUD builder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar, cast

from pydantic import BaseModel

from api_client._call import Call, Params, empty, model, model_or_empty, op, seed_only
from api_client.models._base import RequestModel
from api_client.ratelimit import RateLabel

__all__ = ["Crud", "MAX_ZOOM_PAGE_SIZE", "page_size", "zoom_missing"]

MAX_ZOOM_PAGE_SIZE = 300

Item = TypeVar("Item", bound=BaseModel)
Page = TypeVar("Page", bound=BaseModel)
Created = TypeVar("Created", bound=BaseModel)
Create = TypeVar("Create", bound=RequestModel)
Update = TypeVar("Update", bound=RequestModel)


def page_size(value: int | None, maximum: int = MAX_ZOOM_PAGE_SIZE) -> int | None:
    """Check a ``page_size`` before any I/O."""
    if value is not None and not 1 <= value <= maximum:
        raise ValueError(f"page_size must be 1..{maximum} (got {value})")
    return value


def _check(value: RequestModel, cls: type[RequestModel]) -> dict[str, Any]:
    if not isinstance(value, cls):
        raise TypeError(f"expected {cls.__name__}, got {type(value).__name__}")
    return value.to_wire()


@dataclass(frozen=True)
class Crud(Generic[Item, Page, Created, Create, Update]):
    """Builders for a collection at ``collection`` with items at ``collection/{id}``; a page holds
    its items under ``items_field``.

    ``id_name`` names the path parameter in error messages (``phoneId``); ``update_method``,
    ``delete_method`` and ``delete_suffix`` cover PortSIP (``POST …/{id}`` updates, ``POST
    …/{id}/destroy`` deletes).
    """

    collection: str
    id_name: str
    items_field: str
    item: type[Item]
    page: type[Page]
    created: type[Created]
    create_body: type[Create]
    update_body: type[Update]
    label: RateLabel | None = RateLabel.LIGHT
    list_label: RateLabel | None = RateLabel.LIGHT
    get_label: RateLabel | None = None  # None: ``label``
    update_method: str = "PATCH"
    delete_method: str = "DELETE"
    delete_suffix: str = ""
    paging: Literal["token", "skip_top"] = "token"
    #: Operations (``list``, ``get``, ``create``, ``update``, ``delete``) api.zoom.us does not
    #: serve, each with the real alternative; refused unsent by clients talking to Zoom.
    not_at_zoom: Mapping[str, str] = field(default_factory=dict)

    def items(self, page: Page) -> Sequence[Item]:
        """The items of one page (the list under ``items_field``)."""
        return cast(Sequence[Item], getattr(page, self.items_field))

    def _item(self, suffix: str = "") -> str:
        return f"{self.collection}/{{{self.id_name}}}{suffix}"

    def _refusal(self, operation: str, body: RequestModel | None = None) -> str | None:
        if operation in self.not_at_zoom:
            return seed_only(self.not_at_zoom[operation])
        missing = zoom_missing(body) if body is not None else []
        if missing:
            return "Zoom requires " + ", ".join(missing) + " in this body (the seed does not)"
        return None

    def list(self, params: Params | None = None) -> Call[Page]:
        return op(
            "GET",
            self.collection,
            model(self.page),
            params=params,
            label=self.list_label,
            not_at_zoom=self._refusal("list"),
        )

    def get(self, item_id: str) -> Call[Item]:
        ids = {self.id_name: item_id}
        return op(
            "GET",
            self._item(),
            model(self.item),
            ids=ids,
            label=self.get_label or self.label,
            not_at_zoom=self._refusal("get"),
        )

    def create(self, body: Create) -> Call[Created]:
        wire = _check(body, self.create_body)
        return op(
            "POST",
            self.collection,
            model_or_empty(self.created),
            json=wire,
            label=self.label,
            not_at_zoom=self._refusal("create", body),
        )

    def update(self, item_id: str, body: Update) -> Call[None]:
        wire = _check(body, self.update_body)
        ids = {self.id_name: item_id}
        return op(
            self.update_method,
            self._item(),
            empty,
            ids=ids,
            json=wire,
            label=self.label,
            not_at_zoom=self._refusal("update", body),
        )

    def delete(self, item_id: str) -> Call[None]:
        ids = {self.id_name: item_id}
        return op(
            self.delete_method,
            self._item(self.delete_suffix),
            empty,
            ids=ids,
            label=self.label,
            not_at_zoom=self._refusal("delete"),
        )


def zoom_missing(body: RequestModel) -> list[str]:
    """The fields Zoom requires that ``body`` leaves out (models that know define
    ``zoom_missing``)."""
    check = getattr(body, "zoom_missing", None)
    return list(check()) if callable(check) else []
