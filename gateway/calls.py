"""Calls the gateway places from its rooms: port lease, dial, IVR, watch, CDR, release.

A call holds a CRC port lease from before the INVITE leaves until it has ended, whoever ends it
and however (answer then BYE from either side, busy, timeout, 4xx/5xx, cancellation, the
gateway stopping). Its call detail record is written when it starts and updated as it goes, so
a crash loses nothing already reported (:mod:`gateway.cdrs` writes it; an update the store
cannot take goes to the durable CDR journal and reaches the store when it is back).

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
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from gateway.callerrors import CallFailed, CallNotPlaced, UnknownCall
from gateway.cdrs import CdrRecorder
from gateway.http_api import START_CONTEXT, START_DEADLINE_S, CallInfo
from gateway.metrics import GatewayMetrics
from gateway.ports import PortPool
from gateway.store import StoreUnavailableError
from gateway.store.journal import CdrJournal
from signaling.dialstring import DialTarget, IvrStep, ivr_steps
from signaling.sip.config import CallOptions
from signaling.sip.errors import SipConfigError, SipError
from signaling.sip.events import CallStateChanged, CallStats
from signaling.sip.types import CallPhase

if TYPE_CHECKING:
    from gateway.roomvideo import RoomVideo

__all__ = ["CallEngine", "CallTracker", "TrackedCall", "outcome_of"]

log = logging.getLogger(__name__)

STATS_INTERVAL_S = 2.0
KEEP_FINISHED = 100
"""Ended calls kept for ``GET /calls`` and late questions; older ones live in the CDR store."""
_ANSWERED = {CallPhase.CONNECTED, CallPhase.DISCONNECTED}


class CallEngine(Protocol):
    """What the tracker needs of the SIP core (:class:`signaling.pjsua.SipEngine` or its pool)."""

    async def dial(
        self,
        target: DialTarget | str,
        endpoint: str | None = None,
        options: CallOptions | None = None,
        ivr: Sequence[IvrStep] = (),
    ) -> str: ...

    async def wait_call(
        self, call_id: str, phases: Collection[CallPhase] = ..., timeout: float = 60.0
    ) -> CallStateChanged: ...

    async def hangup(self, call_id: str, code: int | None = None) -> None: ...

    async def call_stats(self, call_id: str) -> CallStats: ...


def outcome_of(code: int | None, connected: bool) -> str:
    """The CDR outcome of a call that ended with SIP ``code``."""
    if connected:
        return "connected"
    if code in (486, 600):
        return "busy"
    if code in (408, 480):
        return "timeout"
    if code == 487:
        return "cancelled"
    return "failed"


def _said(event: CallStateChanged) -> str:
    """The reason phrase, and for an end whether it was received or made locally (CDRs)."""
    if event.origin is None:
        return event.reason
    return f"{event.reason} ({event.origin.value})".strip()


def stats_dict(stats: CallStats | None) -> dict[str, Any] | None:
    if stats is None:
        return None
    return {
        "codec": stats.codec,
        "clock_rate": stats.clock_rate,
        "rx_packets": stats.rx_packets,
        "tx_packets": stats.tx_packets,
        "rx_lost": stats.rx_lost,
        "jitter_ms": stats.rx_jitter_ms,
        "max_jitter_ms": stats.rx_jitter_max_ms,
        "invite_to_200_ms": stats.invite_to_200_ms,
    }


@dataclass
class TrackedCall:
    info: CallInfo
    engine_call_id: str | None = None
    stats: CallStats | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class CallTracker:
    """Place and follow calls on ``engine`` from registered rooms, with leases from ``pool``."""

    def __init__(
        self,
        engine: CallEngine,
        pool: PortPool,
        *,
        call_timeout_s: float = 60.0,
        ivr_first_delay_s: float = 2.0,
        ivr_gap_s: float = 1.5,
        clock: Callable[[], float] = time.time,
        metrics: GatewayMetrics | None = None,
        journal: CdrJournal | None = None,
        cdrs: CdrRecorder | None = None,
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
        self.calls: dict[str, TrackedCall] = {}
        self.keep_finished = KEEP_FINISHED
        self._finished: deque[str] = deque()

    def live_call_ids(self) -> set[str]:
        return {cid for cid, call in self.calls.items() if call.info.ended_at is None}

    def _set(self, call: TrackedCall, **changes: Any) -> None:
        call.info = replace(call.info, **changes)

    async def start(self, room: str, target: DialTarget, *, ivr: bool = True) -> CallInfo:
        """Lease a port, record the CDR, dial ``target`` from ``room`` (passcode and host key by
        IVR when ``ivr``, else in the URI) and follow the call in the background.

        :class:`CallNotPlaced` at once while the store is unavailable or no port is free (saying
        why); a request whose deadline passed or whose client left before the INVITE is
        abandoned, not dialled (:class:`CallNotPlaced` too); :class:`CallFailed` when the SIP
        core refused it.
        """
        loop = asyncio.get_running_loop()
        context = START_CONTEXT.get()
        deadline = context.deadline if context else loop.time() + START_DEADLINE_S
        call_id = f"gw-{uuid.uuid4().hex[:12]}"
        dial = target.without_secrets() if ivr else target
        shown = target.without_secrets().dial_string()
        try:
            async with asyncio.timeout_at(deadline):
                lease = await self.pool.acquire(call_id, room, shown)
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
        call = TrackedCall(CallInfo(call_id, room, shown, "dialling", now))
        self.calls[call_id] = call
        try:
            try:
                async with asyncio.timeout_at(deadline):
                    await self.cdrs.open(call_id, room, shown, now)
            except (TimeoutError, StoreUnavailableError) as exc:
                self._set(call, state="ended", ended_at=self.clock())
                await self.pool.release(call_id)
                why = "did not answer in time" if isinstance(exc, TimeoutError) else str(exc)
                raise CallNotPlaced(f"the call record could not be written ({why}): "
                                    "the call was not placed") from None
            if loop.time() >= deadline or (context is not None and await context.client_gone()):
                await self._finish(call, None, "the request was abandoned before dialling",
                                   connected=False, outcome="abandoned")
                raise CallNotPlaced("the request expired before the call was dialled")
            steps = (
                ivr_steps(target, first_delay_s=self.ivr_first_delay_s, gap_s=self.ivr_gap_s)
                if ivr else ()
            )
            leg = self.video.prepare(room) if self.video is not None else None
            options = CallOptions(timeout_s=self.call_timeout_s,
                                  video=leg.settings if leg is not None else None)
            call.engine_call_id = await self.engine.dial(dial, room, options, steps)
            if leg is not None and self.video is not None:
                self.video.attach(leg, call.engine_call_id)
        except CallNotPlaced:
            raise
        except BaseException as exc:
            await self._finish(call, None, str(exc), connected=False)
            if isinstance(exc, Exception):
                raise CallFailed(f"the call could not be placed: {exc}") from exc
            raise
        call.task = asyncio.create_task(self._watch(call), name=f"watch-{call_id}")
        return call.info

    async def _update_cdr(self, call_id: str, **fields: Any) -> None:
        await self.cdrs.update(call_id, **fields)

    async def _watch(self, call: TrackedCall) -> None:
        assert call.engine_call_id is not None
        code: int | None = None
        reason = ""
        connected = False
        try:
            event = await self.engine.wait_call(
                call.engine_call_id, _ANSWERED, timeout=self.call_timeout_s + 5
            )
            code, reason = event.code, _said(event)
            if event.phase is CallPhase.CONNECTED:
                connected = True
                now = self.clock()
                self._set(call, state="connected", connected_at=now, sip_code=code)
                with contextlib.suppress(StoreUnavailableError):  # no journal: the end counts
                    await self._update_cdr(
                        call.info.call_id, answered_at=now, sip_code=code, sip_reason=reason,
                    )
                while True:
                    with contextlib.suppress(Exception):
                        call.stats = await self.engine.call_stats(call.engine_call_id)
                    try:
                        event = await self.engine.wait_call(
                            call.engine_call_id, {CallPhase.DISCONNECTED},
                            timeout=STATS_INTERVAL_S,
                        )
                    except TimeoutError:
                        continue
                    code = event.code if event.code else code
                    reason = _said(event) or reason
                    break
        except TimeoutError:
            reason = "no answer before the call timeout"
            with contextlib.suppress(Exception):
                await self.engine.hangup(call.engine_call_id)
        except asyncio.CancelledError:
            reason = "gateway stopping"
            with contextlib.suppress(Exception):
                await asyncio.shield(self.engine.hangup(call.engine_call_id))
            raise
        finally:
            await asyncio.shield(self._finish(call, code, reason, connected))

    async def _finish(
        self, call: TrackedCall, code: int | None, reason: str, connected: bool,
        outcome: str | None = None,
    ) -> None:
        if call.info.ended_at is not None:
            return
        now = self.clock()
        self._set(call, state="ended", ended_at=now, sip_code=code or call.info.sip_code)
        try:
            await self._update_cdr(
                call.info.call_id, ended_at=now, outcome=outcome or outcome_of(code, connected),
                sip_code=code, sip_reason=reason[:200], rtp=stats_dict(call.stats),
            )
        except StoreUnavailableError as exc:
            log.error("call %s: its record could not be closed: %s", call.info.call_id, exc)
        finally:
            await self.pool.release(call.info.call_id)
            if self.metrics is not None:
                self.metrics.call_outcomes.labels(outcome_of(code, connected)).inc()
            self._finished.append(call.info.call_id)
            while len(self._finished) > self.keep_finished:
                self.calls.pop(self._finished.popleft(), None)
        log.info("call %s from %s ended: %s %s", call.info.call_id, call.info.room, code, reason)

    async def hangup(self, call_id: str) -> CallInfo:
        call = self.calls.get(call_id)
        if call is None:
            raise UnknownCall(f"no call {call_id!r}")
        if call.info.ended_at is None and call.engine_call_id is not None:
            with contextlib.suppress(Exception):
                call.stats = await self.engine.call_stats(call.engine_call_id)
            try:
                await self.engine.hangup(call.engine_call_id)
            except SipConfigError:
                pass  # it ended meanwhile (BYE from the far end, timeout): the watch closes it
            except SipError as exc:
                raise CallFailed(f"the call could not be hung up: {exc}") from exc
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
            if call.engine_call_id is not None:
                with contextlib.suppress(Exception):
                    await self.engine.hangup(call.engine_call_id)
        tasks = [c.task for c in live if c.task is not None]
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
