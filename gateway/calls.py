"""Calls the gateway places from its rooms: port lease, dial, IVR, follow, CDR, release.

A call holds a CRC port lease from before the INVITE (or H.323 Setup) leaves until it has ended,
whoever ends it and however (answer then BYE from either side, busy, timeout, 4xx/5xx,
cancellation, no media, the gateway stopping). Its call detail record is written when it starts
and updated as it goes, so a crash loses nothing already reported (:mod:`gateway.cdrs` writes
it; an update the store cannot take goes to the durable CDR journal and reaches the store when
it is back).

Nothing here polls: the call controller (:mod:`gateway.callcontrol`) is fed the events the SIP
engine (or the H.323 dialler) pushes and decides; this module turns its decisions into the
call's state, its CDR and the port's release. The engine is asked for media figures once, when
a call has ended (and by the status page, when someone looks).

A request carries a deadline (:data:`gateway.http_api.START_CONTEXT`): a call whose client has
given up, or whose port and record could not be had in time, is never dialled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from gateway.callcontrol import (
    CallControl,
    CallLeg,
    CallPolicy,
    ControlledCall,
    Finished,
    planned_dial,
)
from gateway.callerrors import CallFailed, CallNotPlaced, UnknownCall
from gateway.calllegs import H323Leg, SipCallEngine, SipLeg
from gateway.cdrs import CdrRecorder
from gateway.http_api import START_CONTEXT, START_DEADLINE_S, CallInfo
from gateway.metrics import GatewayMetrics
from gateway.ports import PortPool
from gateway.store import StoreUnavailableError
from gateway.store.journal import CdrJournal
from signaling.callevents import CallEvent, EventKind
from signaling.dialstring import DialTarget
from signaling.sip.config import CallOptions
from signaling.sip.events import CallStats

if TYPE_CHECKING:
    from gateway.roomvideo import RoomVideo
    from gateway.videoleg import VideoLeg

__all__ = ["CallTracker", "TrackedCall"]

log = logging.getLogger(__name__)

KEEP_FINISHED = 100
"""Ended calls kept for ``GET /calls`` and late questions; older ones live in the CDR store."""
MEDIA_TIMEOUT_S = 10.0
"""An answered call without media by then is hung up and failed (no common codec...)."""
MAX_EVENTS = 64
"""Events a call shows in ``GET /calls`` (DTMF can be many; the first and the end matter)."""


@dataclass
class TrackedCall:
    info: CallInfo
    engine_call_id: str | None = None
    stats: CallStats | None = None
    controlled: ControlledCall | None = field(default=None, repr=False)
    task: asyncio.Task[None] | None = field(default=None, repr=False)
    started_mono: float = 0.0


class CallTracker:
    """Place and follow calls from registered rooms, with leases from ``pool``: SIP calls on
    ``engine`` (an engine or the pool of engine processes), H.323 calls by the dialler."""

    def __init__(
        self,
        engine: SipCallEngine,
        pool: PortPool,
        *,
        call_timeout_s: float = 60.0,
        ivr_first_delay_s: float = 2.0,
        ivr_gap_s: float = 1.5,
        clock: Callable[[], float] = time.time,
        metrics: GatewayMetrics | None = None,
        journal: CdrJournal | None = None,
        cdrs: CdrRecorder | None = None,
        bye_timeout_s: float = 32.0,
        video: RoomVideo | None = None,
    ) -> None:
        self.engine = engine
        self.video = video
        self.metrics = metrics
        self.pool = pool
        self.cdrs = cdrs or CdrRecorder(pool.store, pool.owner, write=pool.write,
                                        journal=journal)
        self.call_timeout_s = call_timeout_s
        self.ivr_first_delay_s = ivr_first_delay_s
        self.ivr_gap_s = ivr_gap_s
        self.clock = clock
        self.control = CallControl()
        self.sip = SipLeg(engine)
        self.h323 = H323Leg()
        self.policy = CallPolicy(answer_timeout_s=call_timeout_s + 5,
                                 media_timeout_s=MEDIA_TIMEOUT_S,
                                 end_timeout_s=bye_timeout_s + 8)
        self.calls: dict[str, TrackedCall] = {}
        self.keep_finished = KEEP_FINISHED
        self._finished: deque[str] = deque()
        self._tasks: set[asyncio.Task[None]] = set()

    def live_call_ids(self) -> set[str]:
        return {cid for cid, call in self.calls.items() if call.info.ended_at is None}

    def _set(self, call: TrackedCall, **changes: Any) -> None:
        call.info = replace(call.info, **changes)

    async def start(self, room: str, target: DialTarget, *, ivr: bool = True,
                    h323_alias: str | None = None) -> CallInfo:
        """Lease a port, record the CDR, dial ``target`` from ``room`` (SIP: passcode and host
        key by IVR when ``ivr``, else in the URI; H.323: in the destination alias, calling as
        ``h323_alias``) and follow the call from the events its engine pushes.

        :class:`CallNotPlaced` at once while the store is unavailable or no port is free (saying
        why); a request whose deadline passed or whose client left before the INVITE is
        abandoned, not dialled (:class:`CallNotPlaced` too); :class:`CallFailed` when the
        protocol stack refused it.
        """
        loop = asyncio.get_running_loop()
        context = START_CONTEXT.get()
        deadline = context.deadline if context else loop.time() + START_DEADLINE_S
        call_id = f"gw-{uuid.uuid4().hex[:12]}"
        plan = planned_dial(target, ivr=ivr and target.protocol == "sip",
                            first_delay_s=self.ivr_first_delay_s, gap_s=self.ivr_gap_s)
        try:
            async with asyncio.timeout_at(deadline):
                lease = await self.pool.acquire(call_id, room, plan.shown)
        except TimeoutError:
            raise CallNotPlaced("the port store did not answer in time: "
                                "the call was not placed") from None
        except StoreUnavailableError:
            raise CallNotPlaced(f"{self.pool.refusal_reason()}: "
                                "no call can start now") from None
        if lease is None:
            state = None
            with contextlib.suppress(Exception):
                state = await self.pool.status()
            raise CallNotPlaced(self.pool.refusal_reason(state))
        now = self.clock()
        call = TrackedCall(CallInfo(call_id, room, plan.shown, "dialling", now,
                                    protocol=target.protocol),
                           started_mono=time.monotonic())
        self.calls[call_id] = call
        room_video: VideoLeg | None = None
        try:
            try:
                async with asyncio.timeout_at(deadline):
                    await self.cdrs.open(call_id, room, plan.shown, now)
            except (TimeoutError, StoreUnavailableError) as exc:
                self._set(call, state="ended", ended_at=self.clock())
                await self.pool.release(call_id)
                why = "did not answer in time" if isinstance(exc, TimeoutError) else str(exc)
                raise CallNotPlaced(f"the call record could not be written ({why}): "
                                    "the call was not placed") from None
            if loop.time() >= deadline or (context is not None and await context.client_gone()):
                await self._finish(call, None, "the request was abandoned before dialling",
                                   outcome="abandoned")
                raise CallNotPlaced("the request expired before the call was dialled")
            leg: CallLeg = self.h323 if target.protocol == "h323" else self.sip
            endpoint = (h323_alias or room) if target.protocol == "h323" else room
            if self.video is not None and target.protocol == "sip":
                room_video = self.video.prepare(room)  # the room offers video (its port held)
            options = CallOptions(timeout_s=self.call_timeout_s,
                                  video=room_video.settings if room_video is not None else None)
            call.controlled = await self.control.place(
                leg, plan.dial, endpoint=endpoint, options=options, ivr=plan.steps,
                policy=self.policy, listener=lambda event: self._saw(call, event),
            )
            call.engine_call_id = call.controlled.call_id
            if room_video is not None and self.video is not None:
                self.video.attach(room_video, call.engine_call_id)
        except BaseException as exc:
            if room_video is not None and call.engine_call_id is None:
                room_video.stop()  # never attached: its port goes back
            if isinstance(exc, CallNotPlaced):
                raise
            await self._finish(call, None, str(exc))
            if isinstance(exc, Exception):
                raise CallFailed(f"the call could not be placed: {exc}") from exc
            raise
        call.task = asyncio.create_task(self._follow(call), name=f"follow-{call_id}")
        return call.info

    def _saw(self, call: TrackedCall, event: CallEvent) -> None:
        """An event the controller accepted: the call's state and story (and CDR at answer)."""
        if len(call.info.events) < MAX_EVENTS or event.kind is EventKind.ENDED:
            row = event.as_dict(since=call.started_mono)
            self._set(call, events=(*call.info.events, row))
        if event.kind is EventKind.RINGING and call.info.state == "dialling":
            self._set(call, state="ringing")
        elif event.kind is EventKind.ANSWERED and call.info.connected_at is None:
            now = self.clock()
            code = 200 if event.protocol == "sip" else None
            self._set(call, state="connected", connected_at=now, sip_code=code)
            self._spawn(self._answered(call, now, code, event.detail))

    async def _answered(self, call: TrackedCall, now: float, code: int | None,
                        reason: str) -> None:
        with contextlib.suppress(StoreUnavailableError):  # no journal: the end counts
            await self.cdrs.update(call.info.call_id, answered_at=now, sip_code=code,
                                   sip_reason=reason)

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _follow(self, call: TrackedCall) -> None:
        controlled = call.controlled
        assert controlled is not None
        try:
            finished = await controlled.wait()
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(controlled.leg.hangup(controlled.call_id))
            await asyncio.shield(self._finish(call, None, "gateway stopping"))
            raise
        if isinstance(controlled.leg, SipLeg):
            call.stats = controlled.leg.last_stats.pop(controlled.call_id, None)
        elif isinstance(controlled.leg, H323Leg):
            controlled.leg.take_result(controlled.call_id)  # the CDR has its media figures
        await asyncio.shield(self._finish(call, finished))

    async def _finish(
        self, call: TrackedCall, finished: Finished | None, reason: str = "",
        outcome: str | None = None,
    ) -> None:
        if call.info.ended_at is not None:
            return
        now = self.clock()
        code = finished.cause.code if finished else None
        if finished is not None:
            cause = finished.cause
            reason = f"{cause.reason} ({cause.origin.value})"
            outcome = outcome or finished.outcome
        outcome = outcome or "failed"
        media = call.controlled.media if call.controlled else None
        self._set(call, state="ended", ended_at=now, sip_code=code or call.info.sip_code)
        try:
            await self.cdrs.update(
                call.info.call_id, ended_at=now, outcome=outcome,
                sip_code=code, sip_reason=reason[:200], rtp=media,
            )
        except StoreUnavailableError as exc:
            log.error("call %s: its record could not be closed: %s", call.info.call_id, exc)
        finally:
            await self.pool.release(call.info.call_id)
            if self.metrics is not None:
                self.metrics.call_outcomes.labels(outcome).inc()
            self._finished.append(call.info.call_id)
            while len(self._finished) > self.keep_finished:
                self.calls.pop(self._finished.popleft(), None)
        log.info("call %s from %s ended: %s %s", call.info.call_id, call.info.room, code, reason)

    async def live_stats(self, call_id: str) -> CallStats | None:
        """A live SIP call's media figures, asked of its engine now (the status page asks
        when someone looks; nothing asks on a timer)."""
        call = self.calls.get(call_id)
        if call is None or call.controlled is None or call.info.ended_at is not None:
            return call.stats if call is not None else None
        leg = call.controlled.leg
        if isinstance(leg, SipLeg):
            with contextlib.suppress(Exception):
                call.stats = await self.engine.call_stats(call.controlled.call_id)
        return call.stats

    async def hangup(self, call_id: str) -> CallInfo:
        call = self.calls.get(call_id)
        if call is None:
            raise UnknownCall(f"no call {call_id!r}")
        if call.info.ended_at is None and call.controlled is not None:
            self.control.hangup(call.controlled, "hung up by the control API")
            if call.task is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(call.task), 10)
        return call.info

    async def wait_ended(self, call_id: str, timeout: float) -> CallInfo:
        call = self.calls[call_id]
        if call.task is not None:
            await asyncio.wait_for(asyncio.shield(call.task), timeout)
        return call.info

    async def drain(self, timeout: float) -> None:
        """Wait (bounded) for the live calls to end by themselves."""
        tasks = [c.task for c in self.calls.values() if c.info.ended_at is None and c.task]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def close(self, timeout: float) -> None:
        """Hang up every live call and wait (bounded) until each has released its port."""
        live = [c for c in self.calls.values() if c.info.ended_at is None]
        for call in live:
            if call.controlled is not None:
                self.control.hangup(call.controlled, "gateway stopping")
        tasks = [c.task for c in live if c.task is not None]
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self.h323.close()
        await self.control.close()
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
