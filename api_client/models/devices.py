"""Room-device models: Zoom SIP phones and H.323/SIP devices.

- ``/sip_phones`` (the seed's and the older Zoom form): flat ``proxy_server``/``register_server``/
  ``transport_protocol`` fields; answers carry ``id``.
- ``/sip_phones/phones`` (the newer Zoom form): ``server``, ``server_2``, ``server_3`` objects;
  answers carry ``phone_id``.
- ``/h323/devices``: ``name``, ``protocol`` (``H.323``/``SIP``), ``ip``, ``encryption``.

``registration_expire_time`` is in minutes at Zoom (1..127, default 60); the seed table says
seconds, and its example (60) fits both readings.

Zoom requires more of ``POST /sip_phones`` than the seed's example sends (``proxy_server``,
``register_server``, ``user_email``; and on ``PATCH`` all but the expiry and transports) and all
four fields of an H.323 device on ``PATCH``. The models accept the seed's shorter bodies (the
emulator serves them); :meth:`zoom_missing` names what Zoom would refuse, and a client talking
to api.zoom.us raises :class:`~api_client.errors.NotAtZoomError` instead of sending them.

Answers keep ``protocol``, ``encryption`` and ``transport_protocol`` as plain strings.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, get_args

from pydantic import AliasChoices, Field

from api_client.models._base import ApiModel, RequestModel, Secret
from api_client.models._page import ZoomPage

__all__ = [
    "H323Device",
    "H323DeviceCreate",
    "H323DevicePage",
    "H323DeviceUpdate",
    "SipPhone",
    "SipPhoneCreate",
    "SipPhoneCreated",
    "SipPhonePage",
    "SipPhoneServer",
    "SipPhoneServerInfo",
    "SipPhoneUpdate",
    "SipPhoneV2",
    "SipPhoneV2Create",
    "SipPhoneV2Created",
    "SipPhoneV2Page",
    "SipPhoneV2Update",
    "TRANSPORTS",
]

Transport = Literal["UDP", "TCP", "TLS", "AUTO"]
TRANSPORTS: tuple[str, ...] = get_args(Transport)
_HOST = r"^[A-Za-z0-9.\-\[\]:]+$"
#: An e-mail address (Zoom allows platform suffixes such as ``.win`` or ``.mac``).
EmailStr = Annotated[str, Field(max_length=64, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Server = Annotated[str, Field(min_length=1, max_length=255, pattern=_HOST)]
#: Zoom's ``registration_expire_time``: minutes, 1..127.
ExpireMinutes = Annotated[int, Field(ge=1, le=127)]
_NAME = Field(min_length=1, max_length=64)
#: An H.323 device's ``ip``: an IP address or a URI (``room@example.com``, ``sip:...``).
_IP_OR_URI = r"^[A-Za-z0-9.\-\[\]:@_+;=]+$"


class _ZoomRequired(RequestModel):
    """A body for which Zoom requires more than the seed sends (see :meth:`zoom_missing`)."""

    _zoom_required: ClassVar[tuple[str, ...]] = ()

    def zoom_missing(self) -> list[str]:
        """The fields api.zoom.us requires that this body leaves out."""
        return [name for name in self._zoom_required if getattr(self, name) is None]


class SipPhone(ApiModel):
    """``/sip_phones`` item (seed and older Zoom form), backup servers included."""

    id: str = Field(min_length=1, validation_alias=AliasChoices("id", "phone_id"))
    authorization_name: str | None = None
    domain: str | None = None
    user_name: str | None = None
    password: Secret | None = None
    voice_mail: str | None = None
    user_email: str | None = None
    registration_expire_time: int | None = None
    proxy_server: str | None = None
    proxy_server2: str | None = None
    proxy_server3: str | None = None
    register_server: str | None = None
    register_server2: str | None = None
    register_server3: str | None = None
    transport_protocol: str | None = None
    transport_protocol2: str | None = None
    transport_protocol3: str | None = None


class SipPhonePage(ZoomPage):
    phones: list[SipPhone] = Field(default_factory=list)


class SipPhoneCreated(SipPhone):
    """``POST /sip_phones`` 201 (Zoom documents no body: an empty one decodes, ``id`` None)."""

    id: str | None = Field(  # type: ignore[assignment]
        default=None, validation_alias=AliasChoices("id", "phone_id")
    )


class _SipPhoneFields(_ZoomRequired):
    voice_mail: str | None = Field(default=None, max_length=255)
    registration_expire_time: ExpireMinutes | None = None
    user_email: EmailStr | None = None
    proxy_server: Server | None = None
    proxy_server2: Server | None = None
    proxy_server3: Server | None = None
    register_server: Server | None = None
    register_server2: Server | None = None
    register_server3: Server | None = None
    transport_protocol: Transport | None = None
    transport_protocol2: Transport | None = None
    transport_protocol3: Transport | None = None


class SipPhoneCreate(_SipPhoneFields):
    """``POST /sip_phones`` body. Zoom requires ``proxy_server``, ``register_server`` and
    ``user_email`` too; the seed's example sends only the first six fields."""

    _zoom_required = ("proxy_server", "register_server", "user_email")

    authorization_name: str = _NAME
    domain: str = Field(min_length=1, max_length=64, pattern=_HOST)
    user_name: str = _NAME
    password: Secret = Field(min_length=1, max_length=128)


class SipPhoneUpdate(_SipPhoneFields):
    """``PATCH /sip_phones/{phoneId}`` body: any subset for the seed; Zoom requires every field
    but the expiry and the transports."""

    _zoom_required = (
        "authorization_name",
        "domain",
        "user_name",
        "password",
        "voice_mail",
        "user_email",
        "proxy_server",
        "register_server",
    )

    authorization_name: str | None = Field(default=None, min_length=1, max_length=64)
    domain: str | None = Field(default=None, min_length=1, max_length=64, pattern=_HOST)
    user_name: str | None = Field(default=None, min_length=1, max_length=64)
    password: Secret | None = Field(default=None, min_length=1, max_length=128)


class SipPhoneServer(RequestModel):
    """One server block of the ``/sip_phones/phones`` form (``server``, ``server_2``,
    ``server_3``)."""

    proxy_server: Server | None = None
    register_server: Server | None = None
    transport_protocol: Transport | None = None


class SipPhoneServerInfo(ApiModel):
    """A server block as Zoom answers it (the transport kept as a plain string)."""

    proxy_server: str | None = None
    register_server: str | None = None
    transport_protocol: str | None = None


class SipPhoneV2(ApiModel):
    """Zoom ``/sip_phones/phones`` item."""

    phone_id: str = Field(min_length=1, validation_alias=AliasChoices("phone_id", "id"))
    authorization_name: str | None = None
    domain: str | None = None
    user_name: str | None = None
    user_email: str | None = None
    display_number: str | None = None
    password: Secret | None = None
    voice_mail: str | None = None
    registration_expire_time: int | None = None
    server: SipPhoneServerInfo | None = None
    server_2: SipPhoneServerInfo | None = None
    server_3: SipPhoneServerInfo | None = None


class SipPhoneV2Page(ZoomPage):
    phones: list[SipPhoneV2] = Field(default_factory=list)


class SipPhoneV2Created(SipPhoneV2):
    """``POST /sip_phones/phones`` 201 (no documented body: an empty one decodes)."""

    phone_id: str | None = Field(  # type: ignore[assignment]
        default=None, validation_alias=AliasChoices("phone_id", "id")
    )


class SipPhoneV2Create(RequestModel):
    """Zoom ``POST /sip_phones/phones`` body: ``server`` is required, ``server_2``/``server_3``
    are the backups."""

    authorization_name: str = _NAME
    domain: str = Field(min_length=1, max_length=64, pattern=_HOST)
    user_name: str = _NAME
    password: Secret = Field(min_length=1, max_length=128)
    user_email: EmailStr
    server: SipPhoneServer
    voice_mail: str | None = Field(default=None, max_length=255)
    display_number: str | None = Field(default=None, max_length=32)
    registration_expire_time: ExpireMinutes | None = None
    server_2: SipPhoneServer | None = None
    server_3: SipPhoneServer | None = None


class SipPhoneV2Update(RequestModel):
    """Zoom ``PATCH /sip_phones/phones/{phoneId}`` body (nothing required)."""

    authorization_name: str | None = Field(default=None, min_length=1, max_length=64)
    domain: str | None = Field(default=None, min_length=1, max_length=64, pattern=_HOST)
    user_name: str | None = Field(default=None, min_length=1, max_length=64)
    password: Secret | None = Field(default=None, min_length=1, max_length=128)
    voice_mail: str | None = Field(default=None, max_length=255)
    display_number: str | None = Field(default=None, max_length=32)
    registration_expire_time: ExpireMinutes | None = None
    server: SipPhoneServer | None = None
    server_2: SipPhoneServer | None = None
    server_3: SipPhoneServer | None = None


Protocol = Literal["H.323", "SIP"]
Encryption = Literal["auto", "yes", "no"]


class H323Device(ApiModel):
    """``/h323/devices`` item (and the 201 of a create: the body plus ``id``)."""

    id: str = Field(min_length=1)
    name: str | None = None
    protocol: str | None = None
    ip: str | None = None
    encryption: str | None = None


class H323DevicePage(ZoomPage):
    devices: list[H323Device] = Field(default_factory=list)


class H323DeviceCreate(RequestModel):
    """``POST /h323/devices`` body (all fields required at Zoom)."""

    name: str = _NAME
    protocol: Protocol
    ip: str = Field(min_length=1, max_length=255, pattern=_IP_OR_URI)
    encryption: Encryption = "auto"


class H323DeviceUpdate(_ZoomRequired):
    """``PATCH /h323/devices/{deviceId}`` body: Zoom requires all four fields."""

    _zoom_required = ("name", "protocol", "ip", "encryption")

    name: str | None = Field(default=None, min_length=1, max_length=64)
    protocol: Protocol | None = None
    ip: str | None = Field(default=None, min_length=1, max_length=255, pattern=_IP_OR_URI)
    encryption: Encryption | None = None
