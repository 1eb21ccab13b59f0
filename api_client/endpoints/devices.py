"""Builders for SIP phones, H.323 devices and the SIP trunk settings."""

from __future__ import annotations

from typing import Literal

from api_client._call import Call, empty, op
from api_client.endpoints._common import Crud
from api_client.models.devices import (
    H323Device,
    H323DeviceCreate,
    H323DevicePage,
    H323DeviceUpdate,
    SipPhone,
    SipPhoneCreate,
    SipPhoneCreated,
    SipPhonePage,
    SipPhoneUpdate,
    SipPhoneV2,
    SipPhoneV2Create,
    SipPhoneV2Created,
    SipPhoneV2Page,
    SipPhoneV2Update,
)
from api_client.models.trunk import SipTrunkSettings
from api_client.ratelimit import RateLabel

_NO_GET = "Zoom has no GET by id here: list with search_key and pick the item"

#: Seed and older Zoom form: ``/sip_phones`` and ``/sip_phones/{phoneId}`` (no GET by id at
#: Zoom); list Medium, the rest Light.
SIP_PHONES = Crud(
    "/sip_phones",
    "phoneId",
    "phones",
    SipPhone,
    SipPhonePage,
    SipPhoneCreated,
    SipPhoneCreate,
    SipPhoneUpdate,
    list_label=RateLabel.MEDIUM,
    not_at_zoom={"get": _NO_GET},
)
#: Newer Zoom form: ``/sip_phones/phones`` and ``/sip_phones/phones/{phoneId}``.
SIP_PHONES_V2 = Crud(
    "/sip_phones/phones",
    "phoneId",
    "phones",
    SipPhoneV2,
    SipPhoneV2Page,
    SipPhoneV2Created,
    SipPhoneV2Create,
    SipPhoneV2Update,
    list_label=RateLabel.MEDIUM,
    not_at_zoom={"get": _NO_GET},
)
#: ``/h323/devices`` and ``/h323/devices/{deviceId}`` (no GET by id at Zoom); list Medium.
H323_DEVICES = Crud(
    "/h323/devices",
    "deviceId",
    "devices",
    H323Device,
    H323DevicePage,
    H323Device,
    H323DeviceCreate,
    H323DeviceUpdate,
    list_label=RateLabel.MEDIUM,
    not_at_zoom={"get": "Zoom has no GET by id here: list /h323/devices and pick the item"},
)


def assign_sip_trunk(
    account_id: str, settings: SipTrunkSettings, encoding: Literal["multipart", "json"]
) -> Call[None]:
    """``PATCH /accounts/{accountId}/sip_trunk/settings`` as ``multipart/form-data`` (the seed) or
    JSON; 204 on success."""
    if encoding not in ("multipart", "json"):
        raise ValueError(f"encoding must be 'multipart' or 'json' (got {encoding!r})")
    return op(
        "PATCH",
        "/accounts/{accountId}/sip_trunk/settings",
        empty,
        ids={"accountId": account_id},
        json=settings.to_wire() if encoding == "json" else None,
        multipart=settings.to_form() if encoding == "multipart" else None,
        label=RateLabel.LIGHT,
    )
