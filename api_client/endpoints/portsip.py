"""Builders for PortSIP PBX conference rooms (paths relative to ``…/api``)."""

from __future__ import annotations

from api_client._call import Call
from api_client.endpoints._common import Crud
from api_client.models.rooms import (
    ConferenceRoom,
    ConferenceRoomCreate,
    ConferenceRoomCreated,
    ConferenceRoomPage,
    ConferenceRoomUpdate,
)

#: ``/conference_rooms``; update is ``POST /conference_rooms/{id}``, delete ``POST …/{id}/destroy``.
CONFERENCE_ROOMS = Crud(
    "/conference_rooms",
    "id",
    "items",
    ConferenceRoom,
    ConferenceRoomPage,
    ConferenceRoomCreated,
    ConferenceRoomCreate,
    ConferenceRoomUpdate,
    label=None,
    list_label=None,
    update_method="POST",
    delete_method="POST",
    delete_suffix="/destroy",
    paging="skip_top",
)

MAX_TOP = 100


def list_rooms(
    *,
    filter: str | None = None,
    search: str | None = None,
    orderby: str | None = None,
    skip: int = 0,
    top: int = MAX_TOP,
) -> Call[ConferenceRoomPage]:
    """``GET /conference_rooms?filter=&search=&orderby=&skip=&top=`` (``top`` 1..100)."""
    if skip < 0:
        raise ValueError(f"skip must be >= 0 (got {skip})")
    if not 1 <= top <= MAX_TOP:
        raise ValueError(f"top must be 1..{MAX_TOP} (got {top})")
    return CONFERENCE_ROOMS.list(
        {"filter": filter, "search": search, "orderby": orderby, "skip": skip, "top": top}
    )
