"""Live CRC port usage from Zoom's webhooks: which room systems are in meetings right now.

A pure state machine (events and an explicit clock in, a count out) that :mod:`gateway.webhook`
feeds and the port pool reads through :meth:`LiveUsage.snapshot` (at once, on every change) and
:meth:`LiveUsage.source` (the periodic reconcile).

What counts as one CRC port in use:

- a participant of ``meeting.participant_joined`` that is a room system, until its
  ``meeting.participant_left`` (or ``meeting.ended``). Zoom's published payload types do not
  carry the participant's device; the payload is taken as a room system when it says so
  (``participant.device`` ``H.323/SIP``, as in Zoom's dashboard, or a ``sip_uri``; the emulator
  sends ``device``). A participant whose payload names no device is *unknown* until
  :meth:`LiveUsage.resolve` learns, from the Dashboard's live participants, whether it is one.
- a room-system call-out that is ringing or accepted (``meeting.participant_room_system_
  callout_ringing``/``_accepted``), until it is rejected, missed or failed, or until a room
  system joins that meeting (the call-out became that participant).

How accurate: exact while every join and leave arrives (Zoom retries undelivered notifications
for about 85 minutes); calls already in progress when notifications start are unknown until
they end, and a lost leave keeps a port counted. The periodic reconcile therefore keeps the API's
own figure when it has a live one (the seed ``/accounts/{id}/crc/ports``, Zoom's Dashboard live
participants) and uses the webhook count instead of ``/metrics/crc``'s hourly peak.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.ports import PortUsage, UsageSource

__all__ = ["CALLOUT_EVENTS", "LiveUsage", "is_room_system"]

ROOM_SYSTEM_DEVICES = frozenset({"h.323/sip", "h.323", "sip"})
_CALLOUT = "meeting.participant_room_system_callout_"
CALLOUT_EVENTS = frozenset(
    _CALLOUT + name for name in ("ringing", "accepted", "rejected", "missed", "failed")
)
_CALLOUT_HOLDS = frozenset({_CALLOUT + "ringing", _CALLOUT + "accepted"})


def is_room_system(participant: Mapping[str, Any]) -> bool:
    """Whether a webhook participant says it is an H.323/SIP room system."""
    device = participant.get("device")
    if isinstance(device, str) and device.strip().lower() in ROOM_SYSTEM_DEVICES:
        return True
    return bool(participant.get("sip_uri") or participant.get("from_sip_uri"))


def _names_device(participant: Mapping[str, Any]) -> bool:
    """Whether the payload says anything about the device (then it is not unknown)."""
    return any(participant.get(k) for k in ("device", "sip_uri", "from_sip_uri"))


def _meeting(obj: Mapping[str, Any]) -> str:
    return str(obj.get("uuid") or obj.get("id") or "")


def _participant(obj: Mapping[str, Any]) -> tuple[Mapping[str, Any], str] | None:
    person = obj.get("participant")
    if not isinstance(person, Mapping):
        return None
    ident = (
        person.get("participant_uuid") or person.get("id") or person.get("user_id")
        or person.get("participant_user_id")
    )
    return (person, str(ident)) if ident else None


@dataclass
class LiveUsage:
    """Room systems in meetings (``meeting -> participant``) and call-outs in progress."""

    participants: dict[tuple[str, str], float] = field(default_factory=dict)
    callouts: dict[tuple[str, str], float] = field(default_factory=dict)
    #: Joined participants whose payload names no device: (meeting, participant) -> the
    #: meeting's number, for :meth:`resolve`.
    unknown: dict[tuple[str, str], str] = field(default_factory=dict)
    #: The last allocation the API gave (the webhooks have none).
    allocated: int | None = None
    #: Whether any usage notification arrived (before that, the count means nothing).
    primed: bool = False
    changes: int = 0

    def in_use(self) -> int:
        return len(self.participants) + len(self.callouts)

    def snapshot(self) -> PortUsage:
        return PortUsage(in_use=self.in_use(), allocated=self.allocated)

    def apply(self, event: str, obj: Mapping[str, Any], now: float) -> bool:
        """Apply one notification (``event`` name, ``payload.object``); ``True`` when the count
        or the set behind it changed."""
        before = (dict(self.participants), dict(self.callouts))
        meeting = _meeting(obj)
        if event == "meeting.participant_joined":
            self._joined(meeting, obj, now)
        elif event == "meeting.participant_left":
            found = _participant(obj)
            if found is not None:
                self.primed = True
                self.participants.pop((meeting, found[1]), None)
                self.unknown.pop((meeting, found[1]), None)
        elif event == "meeting.ended":
            self.participants = {k: v for k, v in self.participants.items() if k[0] != meeting}
            self.callouts = {k: v for k, v in self.callouts.items() if k[0] != meeting}
            self.unknown = {k: v for k, v in self.unknown.items() if k[0] != meeting}
        elif event in CALLOUT_EVENTS:
            self._callout(event, meeting, obj, now)
        else:
            return False
        changed = before != (self.participants, self.callouts)
        self.changes += int(changed)
        return changed

    def _joined(self, meeting: str, obj: Mapping[str, Any], now: float) -> None:
        found = _participant(obj)
        if found is None:
            return
        person, ident = found
        self.primed = True
        if (meeting, ident) in self.participants:
            return
        if not is_room_system(person):
            if not _names_device(person):
                self.unknown[(meeting, ident)] = str(obj.get("id") or meeting)
            return
        self._add(meeting, ident, now)

    def _add(self, meeting: str, ident: str, now: float) -> None:
        self.participants[(meeting, ident)] = now
        waiting = sorted((stamp, key) for key, stamp in self.callouts.items() if key[0] == meeting)
        if waiting:  # the call-out has become this participant
            del self.callouts[waiting[0][1]]

    def pending(self) -> dict[str, str]:
        """Meetings with unknown participants: meeting key -> meeting number (for the API)."""
        return {key[0]: number for key, number in self.unknown.items()}

    def resolve(self, meeting: str, room_system_ids: set[str], now: float) -> bool:
        """The Dashboard's answer for ``meeting``: the identifiers (``id``, ``user_id``,
        ``participant_uuid``) of its room-system participants. Unknown participants found there
        are counted; the others are not room systems. ``True`` when the count changed."""
        before = len(self.participants) + len(self.callouts)
        for key in [k for k in self.unknown if k[0] == meeting]:
            del self.unknown[key]
            if key[1] in room_system_ids:
                self._add(meeting, key[1], now)
        changed = before != len(self.participants) + len(self.callouts)
        self.changes += int(changed)
        return changed

    def _callout(self, event: str, meeting: str, obj: Mapping[str, Any], now: float) -> None:
        self.primed = True
        person = obj.get("participant")
        target = person.get("device_ip") if isinstance(person, Mapping) else None
        key = (meeting, str(target or obj.get("message_id") or ""))
        if event in _CALLOUT_HOLDS:
            self.callouts.setdefault(key, now)
        else:
            self.callouts.pop(key, None)

    def source(
        self, fallback: UsageSource | None, *, exact: bool | Callable[[], bool]
    ) -> UsageSource:
        """The periodic reconcile's usage: ``fallback`` (the API) gives the allocation; its
        in-use figure wins when ``exact`` (a live count: the seed's, or Zoom's Dashboard; a
        callable is asked after each reading), else the live count does once notifications
        flow (``/metrics/crc`` only knows the hour's peak)."""

        async def usage() -> PortUsage | None:
            api = await fallback() if fallback is not None else None
            if api is not None and api.allocated is not None:
                self.allocated = api.allocated
            is_exact = exact() if callable(exact) else exact
            if is_exact and api is not None:
                return api
            if self.primed:
                return self.snapshot()
            return api

        return usage

