"""Dial a meeting over H.323: Setup to ``HOST[:PORT]##MID#PASS…``, report every message in time.

>>> import asyncio
>>> result = asyncio.run(dial("127.0.0.1:1##123456789", timeout=1))   # nothing listens on port 1
>>> result.connected, result.error.startswith("cannot connect")
(False, True)
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from signaling.dialstring import DialTarget, parse
from signaling.h323.call import CallEvent, CallState, OutgoingCall
from signaling.h323.cause import explain
from signaling.h323.errors import H323ConnectionError, H323DecodeError, H323Timeout
from signaling.h323.h225 import Alias, CallMessage
from signaling.h323.h245 import H245Session, fast_start_proposals, summarize
from signaling.h323.transport import SignalChannel, open_channel

__all__ = ["DEFAULT_PORT", "DialEvent", "DialResult", "dial", "masked_user_part", "meeting_aliases"]

DEFAULT_PORT = 1720
AliasForm = Literal["dialledDigits", "h323-ID"]
TIMER_EXPIRY = 102  # Q.850: recovery on timer expiry
INVALID_MESSAGE = 95


def masked_user_part(target: DialTarget) -> str:
    """``MID#***#LAYOUT#***``: the dialled user part with the passcode and host key hidden."""
    hidden = target._replace(
        passcode="***" if target.passcode else None,
        host_key="***" if target.host_key else None,
    )
    return DialTarget.user_part(hidden)


def meeting_aliases(target: DialTarget, forms: tuple[AliasForm, ...]) -> list[Alias]:
    """The destination aliases for ``target``: its user part as dialledDigits and/or h323-ID.

    dialledDigits only carries ``0-9 # * ,``; an alphanumeric passcode leaves only the h323-ID.
    """
    user = target.user_part()
    aliases: list[Alias] = []
    for form in forms:
        if form == "dialledDigits":
            try:
                aliases.append(Alias.digits(user))
            except ValueError:
                continue
        else:
            aliases.append(Alias.h323_id(user))
    if not aliases:
        aliases.append(Alias.h323_id(user))
    return aliases


@dataclass(frozen=True, slots=True)
class DialEvent:
    """One line of the call's story: seconds since the dial started, direction and message."""

    at: float
    direction: Literal["sent", "received", "info"]
    message: str
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": round(self.at, 4),
            "direction": self.direction,
            "message": self.message,
            "detail": self.detail,
        }


@dataclass(slots=True)
class DialResult:
    """What happened: ``connected`` is true only when the far end sent Connect."""

    target: str
    remote: str
    connected: bool = False
    h245_ready: bool = False
    call_reference: int | None = None
    cause: int | None = None
    reason: str | None = None
    error: str | None = None
    events: list[DialEvent] = field(default_factory=list)
    duration: float = 0.0

    @property
    def cause_text(self) -> str | None:
        return None if self.cause is None else explain(self.cause)

    @property
    def outcome(self) -> str:
        """One line for people: ``connected``, ``released: 17 user busy``, or the error."""
        if self.connected:
            return "connected" + (" (H.245 complete)" if self.h245_ready else "")
        if self.cause is not None:
            reason = f", reason {self.reason}" if self.reason else ""
            return f"released by the far end: cause {self.cause} {self.cause_text}{reason}"
        if self.reason is not None:
            return f"released by the far end: reason {self.reason}"
        return self.error or "not connected"

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "remote": self.remote,
            "connected": self.connected,
            "h245_ready": self.h245_ready,
            "call_reference": self.call_reference,
            "cause": self.cause,
            "cause_text": self.cause_text,
            "reason": self.reason,
            "error": self.error,
            "outcome": self.outcome,
            "duration": round(self.duration, 4),
            "events": [event.as_dict() for event in self.events],
        }


def _describe(message: CallMessage) -> str:
    parts: list[str] = []
    if message.q931.cause is not None:
        value = message.q931.cause.value
        parts.append(f"cause {value} {explain(value)}")
    uu = message.uu
    if uu is not None:
        if uu.release_reason:
            parts.append(f"reason {uu.release_reason}")
        if uu.h245_control:
            parts.append("H.245 " + ", ".join(_h245_name(data) for data in uu.h245_control))
    return ", ".join(parts)


def _h245_name(data: bytes) -> str:
    try:
        return summarize(data).name
    except ValueError:
        return "undecodable"


async def dial(
    target: DialTarget | str,
    *,
    port: int | None = None,
    timeout: float = 10.0,
    hold: float = 0.0,
    fast_start: bool = False,
    alias_forms: tuple[AliasForm, ...] = ("dialledDigits", "h323-ID"),
    source_alias: str = "crcgw",
    clock: Callable[[], float] = time.monotonic,
) -> DialResult:
    """Place one H.323 call and hang it up; never raises for network or peer trouble.

    ``timeout`` bounds the TCP connect and each wait for the next message; ``hold`` keeps a
    connected call up that many seconds before Release Complete. Bad dial strings raise
    :class:`~signaling.dialstring.DialStringError` (a ``ValueError``).
    """
    if isinstance(target, str):
        target = parse(target)
    if target.protocol != "h323" or not target.host:
        raise ValueError(f"not an H.323 dial string: {target}")
    remote_port = port or target.port or DEFAULT_PORT
    start = clock()
    result = DialResult(
        f"{target.host}##{masked_user_part(target)}", f"{target.host}:{remote_port}"
    )

    def note(
        direction: Literal["sent", "received", "info"], message: str, detail: str = ""
    ) -> None:
        result.events.append(DialEvent(clock() - start, direction, message, detail))

    try:
        channel = await open_channel(target.host, remote_port, timeout)
    except (H323Timeout, H323ConnectionError) as exc:
        result.error = str(exc)
        result.duration = clock() - start
        return result
    note(
        "info",
        "TCP connected",
        f"{channel.local_address[0]}:{channel.local_address[1]} -> {result.remote}",
    )
    try:
        await _run_call(
            channel, target, result, note, timeout, hold, fast_start, alias_forms, source_alias
        )
    finally:
        await channel.close()
        result.duration = clock() - start
    return result


async def _run_call(
    channel: SignalChannel,
    target: DialTarget,
    result: DialResult,
    note: Callable[..., None],
    timeout: float,
    hold: float,
    fast_start: bool,
    alias_forms: tuple[AliasForm, ...],
    source_alias: str,
) -> None:
    local_host, local_port = channel.local_address
    call = OutgoingCall(
        secrets.randbelow(0x7FFF) + 1,
        os.urandom(16),
        os.urandom(16),
        False,
        H245Session(secrets.randbelow(1 << 24)),
        destination=meeting_aliases(target, alias_forms),
        called_digits=target.user_part() if "dialledDigits" in alias_forms else None,
        source=[Alias.h323_id(source_alias)],
        destination_address=channel.remote_address,
        source_address=(local_host, local_port),
        fast_start=fast_start_proposals(local_host, (local_port & ~1) or 5000)
        if fast_start
        else None,
    )
    setup = call.setup()
    result.call_reference = call.call_reference
    forms = ", ".join(alias.kind for alias in call.destination)
    extra = f"; fastStart {len(call.fast_start)} channels" if call.fast_start else ""
    await channel.send(setup)
    note("sent", "Setup", f"to {masked_user_part(target)} ({forms}); h245Tunnelling{extra}")
    hold_until: float | None = None
    loop = asyncio.get_running_loop()
    while call.state is not CallState.RELEASED:
        wait = timeout
        if hold_until is not None:
            wait = hold_until - loop.time()
            if wait <= 0:
                await channel.send(call.release())
                note("sent", "Release Complete", "cause 16 normal call clearing")
                return
        try:
            message = await channel.receive(wait)
        except H323Timeout:
            if hold_until is not None:
                continue
            result.error = f"no answer within {timeout:g} s in state {call.state.value}"
            note("info", "timeout", result.error)
            await _send_quietly(channel, call, TIMER_EXPIRY, note)
            return
        except H323DecodeError as exc:
            result.error = f"malformed message from the far end: {exc}"
            note("info", "malformed", str(exc))
            await _send_quietly(channel, call, INVALID_MESSAGE, note)
            return
        except H323ConnectionError as exc:
            result.error = str(exc) if not result.connected else None
            note("info", "closed", str(exc))
            return
        note("received", message.name, _describe(message))
        replies, events = call.receive(message)
        for event in events:
            _apply(event, result)
        for reply in replies:
            await channel.send(reply)
            note("sent", reply.name, _describe(reply))
        if result.connected and hold_until is None:
            hold_until = loop.time() + hold


async def _send_quietly(
    channel: SignalChannel, call: OutgoingCall, cause: int, note: Callable[..., None]
) -> None:
    try:
        await channel.send(call.release(cause))
        note("sent", "Release Complete", f"cause {cause} {explain(cause)}")
    except H323ConnectionError:
        pass


def _apply(event: CallEvent, result: DialResult) -> None:
    if event.kind == "connected":
        result.connected = True
    elif event.kind == "h245-ready":
        result.h245_ready = True
    elif event.kind == "released":
        result.cause = event.cause
        result.reason = event.reason
