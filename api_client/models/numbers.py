"""Phone-number models: the seed's ``/phone/numbers…`` surface and Zoom's Number Management.

Requests use the seed's enums: number types ``local``/``toll_free``/``national``/``mobile``,
capabilities ``voice``/``sms``/``mms``/``fax``, assignee types ``user``/``call_queue``/
``auto_receptionist``/``common_area``/``zoom_room``. Answers keep every enum as a plain string:
Zoom Phone's ``GET /phone/numbers`` answers its own vocabulary (``number_type``, ``capability``,
``assignee.type`` of any kind: a user, a call queue, a common-area phone, ...) and a value the
client does not know never fails a page. Zoom's ``GET /number_management/numbers`` uses
``Toll``, ``TollFree``, … (:data:`MANAGED_NUMBER_TYPES`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, get_args

from pydantic import AliasChoices, Field

from api_client.models._base import ApiModel, RequestModel
from api_client.models._page import ZoomPage

__all__ = [
    "ASSIGNEE_TYPES",
    "AssignNumber",
    "Assignee",
    "AvailableNumber",
    "AvailableNumberPage",
    "CAPABILITIES",
    "E164",
    "MANAGED_NUMBER_TYPES",
    "ManagedAssignment",
    "ManagedNumber",
    "ManagedNumberPage",
    "NUMBER_TYPES",
    "NamedRef",
    "NumberBlock",
    "NumberBlockCreate",
    "NumberBlockPage",
    "NumberInventory",
    "PhoneNumber",
    "PhoneNumberCreate",
    "PhoneNumberPage",
    "PhoneNumberUpdate",
    "ProvisionNumbers",
    "ProvisionedNumber",
    "ProvisionResult",
]

#: An E.164 number: ``+`` and 7 to 15 digits.
E164 = Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$")]
NumberType = Literal["local", "toll_free", "national", "mobile"]
Capability = Literal["voice", "sms", "mms", "fax"]
AssigneeType = Literal["user", "call_queue", "auto_receptionist", "common_area", "zoom_room"]
NUMBER_TYPES: tuple[str, ...] = get_args(NumberType)
CAPABILITIES: tuple[str, ...] = get_args(Capability)
ASSIGNEE_TYPES: tuple[str, ...] = get_args(AssigneeType)
ManagedNumberType = Literal[
    "Toll", "TollFree", "VirtualService", "Mobile", "SharedCost", "National", "ITFS"
]
MANAGED_NUMBER_TYPES: tuple[str, ...] = get_args(ManagedNumberType)


class Assignee(ApiModel):
    """Who holds a number: any ``type`` (seed ``user``, Zoom ``callQueue``, ``commonArea``, ...)."""

    type: str | None = None
    id: str | None = None
    name: str | None = None
    extension_number: int | str | None = None
    display_number: str | None = None


class NamedRef(ApiModel):
    """``{id, name}`` (Zoom: ``site``, ``carrier`` has ``code`` too, ``sip_group``)."""

    id: str | None = None
    name: str | None = None
    display_name: str | None = None
    code: int | str | None = None


class PhoneNumber(ApiModel):
    """A number of the account (``/phone/numbers`` item). Zoom calls the number ``number`` and
    adds ``number_type``, ``capability``, ``source``, ``location``, ``carrier``, ``sip_group``,
    ``site`` and the emergency address."""

    id: str
    phone_number: str = Field(validation_alias=AliasChoices("phone_number", "number"))
    status: str | None = None
    type: str | None = None
    capabilities: list[str] = Field(default_factory=list)
    number_type: str | None = None
    capability: list[str] = Field(default_factory=list)
    source: str | None = None
    location: str | None = None
    carrier: NamedRef | None = None
    sip_group: NamedRef | None = None
    site: NamedRef | None = None
    emergency_address: dict[str, object] | None = None
    emergency_address_status: int | str | None = None
    country: str | None = None
    state: str | None = None
    city: str | None = None
    site_id: str | None = None
    display_name: str | None = None
    assignee: Assignee | None = None
    monthly_cost: float | None = Field(default=None, ge=0)


class PhoneNumberPage(ZoomPage):
    phone_numbers: list[PhoneNumber] = Field(default_factory=list)


class PhoneNumberCreate(RequestModel):
    """``POST /phone/numbers``: add a number the account already owns (e.g. BYOC)."""

    phone_number: E164
    type: NumberType = "local"
    capabilities: list[Capability] = Field(
        default_factory=lambda: list[Capability](["voice"]), min_length=1
    )
    site_id: str | None = None
    display_name: str | None = Field(default=None, max_length=64)


class PhoneNumberUpdate(RequestModel):
    """``PATCH /phone/numbers/{numberId}``: Zoom takes ``display_name``, ``capability``,
    ``emergency_address_status`` and ``sip_group_id``; ``capabilities``/``site_id`` are the
    seed's."""

    display_name: str | None = Field(default=None, max_length=64)
    capability: list[str] | None = Field(default=None, min_length=1)
    emergency_address_status: int | None = None
    sip_group_id: str | None = None
    capabilities: list[Capability] | None = Field(default=None, min_length=1)
    site_id: str | None = None


class AvailableNumber(ApiModel):
    phone_number: str
    country: str | None = None
    state: str | None = None
    city: str | None = None
    type: str | None = None
    capabilities: list[str] = Field(default_factory=list)
    monthly_cost: float | None = Field(default=None, ge=0)


class AvailableNumberPage(ZoomPage):
    available_numbers: list[AvailableNumber] = Field(default_factory=list)


class ProvisionNumbers(RequestModel):
    """``POST /phone/numbers/provision`` and ``POST /phone/numbers/toll_free``."""

    phone_numbers: list[E164] = Field(min_length=1, max_length=100)
    site_id: str | None = None


class ProvisionedNumber(ApiModel):
    id: str
    phone_number: str
    status: str | None = None


class ProvisionResult(ApiModel):
    provisioned_numbers: list[ProvisionedNumber] = Field(default_factory=list)


class NumberInventory(ApiModel):
    """``GET /phone/numbers/inventory`` (shape not shown by the seed: totals, extra fields kept)."""

    total: int = Field(ge=0)
    assigned: int = Field(ge=0)
    unassigned: int = Field(ge=0)
    by_type: dict[str, int] = Field(default_factory=dict)


class AssignNumber(RequestModel):
    """``POST /phone/numbers/{numberId}/assign``."""

    assignee_type: AssigneeType
    assignee_id: str = Field(min_length=1, max_length=128)


class NumberBlock(ApiModel):
    id: str
    country: str | None = None
    area_code: str | None = None
    type: str | None = None
    size: int | None = Field(default=None, ge=1)
    phone_numbers: list[str] = Field(default_factory=list)
    status: str | None = None


class NumberBlockPage(ZoomPage):
    number_blocks: list[NumberBlock] = Field(default_factory=list)


class NumberBlockCreate(RequestModel):
    """``POST /phone/number_blocks``: a block of consecutive numbers."""

    country: str = Field(pattern=r"^[A-Z]{2}$")
    size: int = Field(ge=1, le=1000)
    area_code: str | None = Field(default=None, pattern=r"^[0-9]{1,6}$")
    type: NumberType = "local"


class ManagedAssignment(ApiModel):
    """One ``assigned_list`` entry: ``assigned_to_type`` ``User``, ``CallQueue``,
    ``AutoReceptionist``, ``CiscoPolycomRoom``, ``CommonArea``, ... (kept as a string)."""

    assigned_to_type: str | None = None
    assigned_to_id: str | None = None
    assigned_to_name: str | None = None
    product: str | None = None


class ManagedNumber(ApiModel):
    """Zoom ``GET /number_management/numbers`` item (enums kept as strings)."""

    number: str = Field(validation_alias=AliasChoices("number", "phone_number"))
    number_id: str | None = Field(default=None, validation_alias=AliasChoices("number_id", "id"))
    number_type: str | None = None
    number_status: str | None = None
    number_source: str | None = None
    capability: list[str] = Field(default_factory=list)
    allocated_product: str | None = None
    assigned_list: list[ManagedAssignment] = Field(default_factory=list)
    created_at: dt.datetime | None = None


class ManagedNumberPage(ZoomPage):
    numbers: list[ManagedNumber] = Field(
        default_factory=list, validation_alias=AliasChoices("numbers", "phone_numbers")
    )
