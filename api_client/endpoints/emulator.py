"""Builders for the emulator's own API (``/_emulator/…`` under the Zoom base URL; emulator-only)."""

from __future__ import annotations

from api_client._call import Call, empty, model, op
from api_client.models.emulator import (
    EmulatorCall,
    EmulatorCallList,
    EmulatorCalloutList,
    EmulatorCalloutUpdate,
    EmulatorConfig,
    EmulatorConfigUpdate,
    StartCall,
)


def start_call(request: StartCall) -> Call[EmulatorCall]:
    """Emulator-only: ``POST /_emulator/calls`` (409 when every CRC port is busy)."""
    return op("POST", "/_emulator/calls", model(EmulatorCall), json=request.to_wire())


def end_call(call_id: str) -> Call[None]:
    """Emulator-only: ``DELETE /_emulator/calls/{callId}``."""
    return op("DELETE", "/_emulator/calls/{callId}", empty, ids={"callId": call_id})


def list_calls() -> Call[EmulatorCallList]:
    """Emulator-only: ``GET /_emulator/calls`` (active calls)."""
    return op("GET", "/_emulator/calls", model(EmulatorCallList))


def get_config() -> Call[EmulatorConfig]:
    return op("GET", "/_emulator/config", model(EmulatorConfig))


def update_config(update: EmulatorConfigUpdate) -> Call[EmulatorConfig]:
    """Emulator-only: ``PATCH /_emulator/config``."""
    return op("PATCH", "/_emulator/config", model(EmulatorConfig), json=update.to_wire())


def list_callouts(status: str | None = "pending") -> Call[EmulatorCalloutList]:
    """Emulator-only: ``GET /_emulator/callouts`` (the meetings' room-system call-outs)."""
    return op("GET", "/_emulator/callouts", model(EmulatorCalloutList), params={"status": status})


def update_callout(callout_id: str, update: EmulatorCalloutUpdate) -> Call[None]:
    """Emulator-only: ``PATCH /_emulator/callouts/{calloutId}``: the dialer's outcome."""
    return op("PATCH", "/_emulator/callouts/{calloutId}", empty, ids={"calloutId": callout_id},
              json=update.to_wire())
