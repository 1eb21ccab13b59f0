"""One caller's way into a meeting through the stand-in connector: a pure state machine.

Inputs are the dialled user part, the DTMF digits and the time (explicit ``now``); outputs are
actions for the SIP side (prompt, join, claim host, hang up). Like Zoom's connector it answers
first and then asks, by voice prompt, for the meeting ID and the passcode that the URI did not
carry, each entered followed by ``#``; three wrong entries end the call.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from signaling.dialstring import DialStringError, parse

__all__ = ["Action", "ConnectorSession", "Meeting", "Phase"]

MAX_ATTEMPTS = 3
ENTRY_TIMEOUT_S = 20.0


@dataclass(frozen=True, slots=True)
class Meeting:
    meeting_id: str
    passcode: str | None = field(default=None, repr=False)
    host_key: str | None = field(default=None, repr=False)


class Phase(enum.Enum):
    ASK_MEETING = "ask_meeting"
    ASK_PASSCODE = "ask_passcode"
    JOINED = "joined"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Action:
    """``kind``: ``prompt`` (``detail`` names what is asked), ``join``, ``host``, ``hangup``."""

    kind: str
    detail: str = ""
    code: int | None = None


@dataclass
class ConnectorSession:
    """Drive one call: ``start()`` after answer, then ``digit()`` per DTMF, ``tick()`` on time."""

    directory: Mapping[str, Meeting]
    dialled_user: str
    now: float
    phase: Phase = Phase.ASK_MEETING
    meeting: Meeting | None = None
    host_claimed: bool = False
    attempts: int = 0
    _buffer: str = ""
    _offered_passcode: str | None = None
    _offered_host_key: str | None = None
    _deadline: float = 0.0

    def start(self) -> list[Action]:
        """Read what the dialled URI carries (``MID[.PASS[.LAYOUT[.HOSTKEY]]]``)."""
        self._deadline = self.now + ENTRY_TIMEOUT_S
        try:
            target = parse(f"{self.dialled_user}@standin.invalid")
        except DialStringError:
            return [self._ask(Phase.ASK_MEETING)]
        meeting = self.directory.get(target.meeting_id)
        if meeting is None:
            return self._wrong("meeting ID", Phase.ASK_MEETING)
        self.meeting = meeting
        self._offered_passcode = target.passcode
        self._offered_host_key = target.host_key
        return self._after_meeting()

    def digit(self, digit: str, now: float) -> list[Action]:
        self.now = now
        if self.phase is Phase.ENDED:
            return []
        if digit != "#":
            self._buffer += digit
            return []
        entry, self._buffer = self._buffer, ""
        if self.phase is Phase.ASK_MEETING:
            meeting = self.directory.get(entry)
            if meeting is None:
                return self._wrong("meeting ID", Phase.ASK_MEETING)
            self.meeting = meeting
            return self._after_meeting()
        if self.phase is Phase.ASK_PASSCODE:
            self._offered_passcode = entry
            return self._after_meeting()
        # joined: a host key entered as HOSTKEY# claims host
        assert self.meeting is not None
        if self.meeting.host_key and entry == self.meeting.host_key and not self.host_claimed:
            self.host_claimed = True
            return [Action("host")]
        return []

    def tick(self, now: float) -> list[Action]:
        """Hang up a caller who keeps the IVR waiting past the entry timeout."""
        self.now = now
        if self.phase in (Phase.ASK_MEETING, Phase.ASK_PASSCODE) and now >= self._deadline:
            return self._end("no entry before the timeout", 408)
        return []

    # -- internals ---------------------------------------------------------------------------

    def _ask(self, phase: Phase) -> Action:
        self.phase = phase
        self._deadline = self.now + ENTRY_TIMEOUT_S
        return Action("prompt", "meeting_id" if phase is Phase.ASK_MEETING else "passcode")

    def _after_meeting(self) -> list[Action]:
        assert self.meeting is not None
        needed = self.meeting.passcode
        if needed and self._offered_passcode != needed:
            if self._offered_passcode is None:
                return [self._ask(Phase.ASK_PASSCODE)]
            self._offered_passcode = None
            return self._wrong("passcode", Phase.ASK_PASSCODE)
        self.phase = Phase.JOINED
        actions = [Action("join", self.meeting.meeting_id)]
        key = self._offered_host_key
        if key is not None and key == self.meeting.host_key:
            self.host_claimed = True
            actions.append(Action("host"))
        return actions

    def _wrong(self, what: str, phase: Phase) -> list[Action]:
        self.attempts += 1
        if self.attempts >= MAX_ATTEMPTS:
            return self._end(f"{what} wrong {self.attempts} times", 403)
        return [Action("prompt", f"invalid {what}, try again"), self._ask(phase)]

    def _end(self, reason: str, code: int) -> list[Action]:
        self.phase = Phase.ENDED
        return [Action("hangup", reason, code)]
