"""Emulator-only models (``/v2/_emulator/…``): not part of any Zoom API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from api_client.models._base import ApiModel, RequestModel, Secret

__all__ = [
    "EmulatorCall",
    "EmulatorCallList",
    "EmulatorConfig",
    "EmulatorConfigUpdate",
    "EmulatorCallout",
    "EmulatorCalloutList",
    "EmulatorCalloutUpdate",
    "StartCall",
]


class StartCall(RequestModel):
    """A device reports a call that holds one CRC port until it ends."""

    device_id: str | None = Field(default=None, max_length=128)
    meeting_id: str | None = Field(default=None, pattern=r"^[0-9]{9,11}$")
    protocol: Literal["SIP", "H.323"] = "SIP"


class EmulatorCall(ApiModel):
    id: str
    device_id: str | None = None
    meeting_id: str | None = None
    protocol: str | None = None
    started_at: dt.datetime
    ended_at: dt.datetime | None = None


class EmulatorCallList(ApiModel):
    calls: list[EmulatorCall] = Field(default_factory=list)


class EmulatorConfig(ApiModel):
    """The emulator's behaviour: port pool, token lifetime, rate limits (requests per second per
    label; ``daily`` is a per-label daily quota), whether the account has a SIP trunk plan."""

    ports_allocated: int
    token_ttl: int
    rate_limits: dict[str, float] = Field(default_factory=dict)
    daily_limits: dict[str, int] = Field(default_factory=dict)
    sip_trunk_plan: bool = True
    account_id: str
    #: Where the emulator posts signed webhooks when emulated participants join and leave.
    webhook_url: str | None = None


Label = Literal[
    "light",
    "medium",
    "heavy",
    "resource_intensive",
    "phone_light",
    "phone_medium",
    "phone_heavy",
    "phone_resource_intensive",
]


class EmulatorConfigUpdate(RequestModel):
    ports_allocated: int | None = Field(default=None, ge=0, le=10000)
    token_ttl: int | None = Field(default=None, ge=1, le=86400)
    rate_limits: dict[Label, float] | None = None
    daily_limits: dict[Label, int] | None = None
    sip_trunk_plan: bool | None = None
    #: ``""`` stops the webhooks.
    webhook_url: str | None = Field(default=None, max_length=2000, pattern=r"^(https?://\S+)?$")
    webhook_secret: Secret | None = Field(default=None, max_length=256)


class EmulatorCallout(ApiModel):
    """A room-system call-out the emulated meeting is to place (``PATCH /live_meetings/{id}/
    events``): a dialer (the stand-in connector) takes ``pending`` ones and reports back."""

    id: str
    meeting_id: str
    call_type: str
    device_ip: str
    status: str  # pending, dialling, answered, failed, ended
    call_id: str | None = None


class EmulatorCalloutList(ApiModel):
    callouts: list[EmulatorCallout] = Field(default_factory=list)


class EmulatorCalloutUpdate(RequestModel):
    status: Literal["dialling", "answered", "failed", "ended"]
    reason: str | None = Field(default=None, max_length=200)
