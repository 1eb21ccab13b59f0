"""Room-device models: Zoom SIP phones and H.323/SIP devices.

- ``/sip_phones`` (the seed's and the older Zoom form): flat ``proxy_server``/``register_server``/
  ``transport_protocol`` fields; answers carry ``id``.
- ``/sip_phones/phones`` (the newer Zoom form): ``server``, ``server_2``, ``server_3`` objects;
  answers carry ``phone_id``.
- ``/h323/devices``: ``name``, ``protocol`` (``H.323``/``SIP``), ``ip``, ``encryption``.

``registration_expire_time`` is in minutes at Zoom; the seed table says seconds. The field is
passed through unchanged; the bound (1..1440) fits both readings of the seed's example (60).
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field

from api_client.models._base import ApiModel, RequestModel, Secret
from api_client.models._page import ZoomPage

__all__ = [
    "H323Device",
    "H323DeviceCreate",
    "H323DevicePage",
    "H323DeviceUpdate",
    "SipPhone",
    "SipPhoneCreate",
    "SipPhonePage",
    "SipPhoneServer",
    "SipPhoneUpdate",
    "SipPhoneV2",
    "SipPhoneV2Create",
    "SipPhoneV2Page",
    "SipPhoneV2Update",
    "TRANSPORTS",
]

Transport = Literal["UDP", "TCP", "TLS", "AUTO"]
TRANSPORTS: tuple[str, ...] = get_args(Transport)
_HOST = r"^[A-Za-z0-9.\-\[\]:]+$"
#: An e-mail address (Zoom allows platform suffixes such as ``.win`` or ``.mac``).
EmailStr = Annotated[str, Field(max_length=128, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class SipPhone(ApiModel):
    """``/sip_phones`` item (seed and older Zoom form)."""

    id: str = Field(min_length=1)
    authorization_name: str | None = None
    domain: str | None = None
    user_name: str | None = None
    password: Secret | None = None
    voice_mail: str | None = None
    user_email: str | None = None
    registration_expire_time: int | None = None
    proxy_server: str | None = None
    register_server: str | None = None
    transport_protocol: Transport | None = None


class SipPhonePage(ZoomPage):
    phones: list[SipPhone] = Field(default_factory=list)


class SipPhoneCreate(RequestModel):
    """``POST /sip_phones`` body. The seed's example sends only the first six fields."""

    authorization_name: str = Field(min_length=1, max_length=64)
    domain: str = Field(min_length=1, max_length=255, pattern=_HOST)
    user_name: str = Field(min_length=1, max_length=64)
    password: Secret = Field(min_length=1, max_length=128)
    voice_mail: str | None = Field(default=None, max_length=255)
    registration_expire_time: int | None = Field(default=None, ge=1, le=1440)
    user_email: EmailStr | None = None
    proxy_server: str | None = Field(default=None, max_length=255, pattern=_HOST)
    register_server: str | None = Field(default=None, max_length=255, pattern=_HOST)
    transport_protocol: Transport | None = None


class SipPhoneUpdate(RequestModel):
    """``PATCH /sip_phones/{phoneId}`` body: any subset."""

    authorization_name: str | None = Field(default=None, min_length=1, max_length=64)
    domain: str | None = Field(default=None, min_length=1, max_length=255, pattern=_HOST)
    user_name: str | None = Field(default=None, min_length=1, max_length=64)
    password: Secret | None = Field(default=None, min_length=1, max_length=128)
    voice_mail: str | None = Field(default=None, max_length=255)
    registration_expire_time: int | None = Field(default=None, ge=1, le=1440)
    user_email: EmailStr | None = None
    proxy_server: str | None = Field(default=None, max_length=255, pattern=_HOST)
    register_server: str | None = Field(default=None, max_length=255, pattern=_HOST)
    transport_protocol: Transport | None = None


class SipPhoneServer(RequestModel):
    """One server block of the ``/sip_phones/phones`` form (also used in answers)."""

    proxy_server: str | None = Field(default=None, max_length=255, pattern=_HOST)
    register_server: str | None = Field(default=None, max_length=255, pattern=_HOST)
    transport_protocol: Transport | None = None


class SipPhoneV2(ApiModel):
    """Zoom ``/sip_phones/phones`` item."""

    phone_id: str = Field(min_length=1)
    authorization_name: str | None = None
    domain: str | None = None
    user_name: str | None = None
    user_email: str | None = None
    display_number: str | None = None
    password: Secret | None = None
    voice_mail: str | None = None
    registration_expire_time: int | None = None
    server: dict[str, str | None] | None = None
    server_2: dict[str, str | None] | None = None
    server_3: dict[str, str | None] | None = None


class SipPhoneV2Page(ZoomPage):
    phones: list[SipPhoneV2] = Field(default_factory=list)


class SipPhoneV2Create(RequestModel):
    """Zoom ``POST /sip_phones/phones`` body."""

    authorization_name: str = Field(min_length=1, max_length=64)
    domain: str = Field(min_length=1, max_length=255, pattern=_HOST)
    user_name: str = Field(min_length=1, max_length=64)
    password: Secret = Field(min_length=1, max_length=128)
    user_email: EmailStr
    voice_mail: str | None = Field(default=None, max_length=255)
    display_number: str | None = Field(default=None, max_length=32)
    registration_expire_time: int | None = Field(default=None, ge=1, le=1440)
    server: SipPhoneServer | None = None
    server_2: SipPhoneServer | None = None
    server_3: SipPhoneServer | None = None


class SipPhoneV2Update(RequestModel):
    """Zoom ``PATCH /sip_phones/phones/{phoneId}`` body."""

    authorization_name: str | None = Field(default=None, min_length=1, max_length=64)
    domain: str | None = Field(default=None, min_length=1, max_length=255, pattern=_HOST)
    user_name: str | None = Field(default=None, min_length=1, max_length=64)
    password: Secret | None = Field(default=None, min_length=1, max_length=128)
    voice_mail: str | None = Field(default=None, max_length=255)
    display_number: str | None = Field(default=None, max_length=32)
    registration_expire_time: int | None = Field(default=None, ge=1, le=1440)
    server: SipPhoneServer | None = None
    server_2: SipPhoneServer | None = None
    server_3: SipPhoneServer | None = None


Protocol = Literal["H.323", "SIP"]
Encryption = Literal["auto", "yes", "no"]


class H323Device(ApiModel):
    """``/h323/devices`` item."""

    id: str = Field(min_length=1)
    name: str | None = None
    protocol: Protocol | None = None
    ip: str | None = None
    encryption: Encryption | None = None


class H323DevicePage(ZoomPage):
    devices: list[H323Device] = Field(default_factory=list)


class H323DeviceCreate(RequestModel):
    """``POST /h323/devices`` body (all fields required at Zoom)."""

    name: str = Field(min_length=1, max_length=64)
    protocol: Protocol
    ip: str = Field(min_length=1, max_length=255, pattern=_HOST)
    encryption: Encryption = "auto"


class H323DeviceUpdate(RequestModel):
    """``PATCH /h323/devices/{deviceId}`` body."""

    name: str | None = Field(default=None, min_length=1, max_length=64)
    protocol: Protocol | None = None
    ip: str | None = Field(default=None, min_length=1, max_length=255, pattern=_HOST)
    encryption: Encryption | None = None
