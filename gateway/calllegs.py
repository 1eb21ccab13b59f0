"""The protocols' calls as :class:`gateway.callcontrol.CallControl` drives them.

:class:`SipLeg` wraps the SIP engine (in-process :class:`signaling.pjsua.SipEngine` or the
pool of engine processes): it listens to the engine's events (``add_listener``: pushed, one
IPC message per event in pool mode, never a request) and translates them with
:func:`signaling.callevents.from_sip`. :class:`H323Leg` runs each call as an
:func:`signaling.h323.dial.dial` task held until hung up; the dialler pushes its events already
translated (:func:`signaling.callevents.from_h323`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from gateway.callcontrol import CallControl, CallPolicy
from signaling.callevents import CallEvent, from_sip
from signaling.callevents import Protocol as CallProtocol
from signaling.dialstring import DialTarget, IvrStep
from signaling.sip.config import CallOptions
from signaling.sip.events import CallStateChanged, CallStats, EngineEvent
from signaling.sip.types import CallPhase

if TYPE_CHECKING:
    from signaling.h323.dial import DialResult

__all__ = ["H323Leg", "SipCallEngine", "SipLeg", "dial_h323", "rtp_figures"]


class SipCallEngine(Protocol):
    """What the SIP leg needs of :class:`signaling.pjsua.SipEngine` or its pool."""

    def add_listener(self, listener: Callable[[EngineEvent], None]) -> None: ...

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


def rtp_figures(stats: CallStats | None) -> dict[str, Any] | None:
    """The CDR's ``rtp`` figures of a SIP call."""
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


class SipLeg:
    protocol: CallProtocol = "sip"

    def __init__(self, engine: SipCallEngine) -> None:
        self.engine = engine
        self.last_stats: dict[str, CallStats] = {}

    def subscribe(self, listener: Callable[[CallEvent], None]) -> None:
        def translate(event: EngineEvent) -> None:
            call_event = from_sip(event)
            if call_event is not None:
                listener(call_event)

        self.engine.add_listener(translate)

    async def place(self, target: DialTarget | str, endpoint: str | None,
                    options: CallOptions, ivr: Sequence[IvrStep]) -> str:
        return await self.engine.dial(target, endpoint, options, ivr)

    async def hangup(self, call_id: str) -> None:
        await self.engine.hangup(call_id)

    async def stats(self, call_id: str) -> CallStats:
        stats = await self.engine.call_stats(call_id)
        self.last_stats[call_id] = stats
        return stats

    async def media_report(self, call_id: str) -> dict[str, Any] | None:
        """The engine keeps an ended call's final figures: one request, at the end (the
        caller pops them from :attr:`last_stats`)."""
        return rtp_figures(await self.stats(call_id))


class H323Leg:
    """H.323 calls dialled from this host (fastStart G.711, H.245 channels when the far end
    answers without fastStart), each held until :meth:`hangup`."""

    protocol: CallProtocol = "h323"

    def __init__(self, *, timeout: float = 10.0, rtp_port: int = 0, video: bool = True,
                 tunnel: bool = True, rtcp_interval: float | None = None) -> None:
        self.timeout = timeout
        self.rtp_port = rtp_port
        self.video = video  # H.264 by H.245 when the far end offers it
        self.tunnel = tunnel  # H.245 tunnelled in Q.931, or on its own connection
        self.rtcp_interval = rtcp_interval
        self._listeners: list[Callable[[CallEvent], None]] = []
        self._ids = itertools.count(1)
        self._stops: dict[str, asyncio.Event] = {}
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._media: dict[str, dict[str, Any] | None] = {}
        self.results: dict[str, Any] = {}
        """The :class:`~signaling.h323.dial.DialResult` of each ended call, until
        :meth:`take_result` takes it."""

    def subscribe(self, listener: Callable[[CallEvent], None]) -> None:
        self._listeners.append(listener)

    def _emit(self, event: CallEvent) -> None:
        for listener in self._listeners:
            listener(event)

    async def place(self, target: DialTarget | str, endpoint: str | None,
                    options: CallOptions, ivr: Sequence[IvrStep]) -> str:
        from signaling.dialstring import parse
        from signaling.h323.dial import dial
        from signaling.h323.rtp import RTCP_INTERVAL

        parsed = parse(target) if isinstance(target, str) else target
        if parsed.protocol != "h323" or not parsed.host:
            raise ValueError(f"not an H.323 target: {parsed.without_secrets().dial_string()}")
        call_id = f"h323-{next(self._ids)}"
        stop = asyncio.Event()
        self._stops[call_id] = stop
        alias = endpoint or "crcgw"

        async def run() -> None:
            try:
                result = await dial(
                    parsed, timeout=self.timeout, hold=math.inf, fast_start=True,
                    h245_channels=True, setup_timeout=options.timeout_s, source_alias=alias,
                    rtp_port=self.rtp_port, video=self.video, h245_tunnelling=self.tunnel,
                    rtcp_interval=self.rtcp_interval or RTCP_INTERVAL,
                    call_id=call_id, listener=self._emit, stop=stop,
                )
                self.results[call_id] = result
            finally:
                self._stops.pop(call_id, None)
                self._tasks.pop(call_id, None)

        self._tasks[call_id] = asyncio.get_running_loop().create_task(run(), name=call_id)
        return call_id

    async def hangup(self, call_id: str) -> None:
        stop = self._stops.get(call_id)
        if stop is not None:
            stop.set()

    async def media_report(self, call_id: str) -> dict[str, Any] | None:
        task = self._tasks.get(call_id)
        if task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(task), 10)
        result = self.results.get(call_id)
        return None if result is None else result.media

    def take_result(self, call_id: str) -> Any:
        """The ended call's :class:`~signaling.h323.dial.DialResult` (forgotten here)."""
        return self.results.pop(call_id, None)

    async def close(self) -> None:
        for stop in list(self._stops.values()):
            stop.set()
        tasks = list(self._tasks.values())
        if tasks:
            await asyncio.wait(tasks, timeout=15)


async def dial_h323(
    target: DialTarget, duration_s: float, timeout_s: float, rtp_port: int = 0, *,
    video: bool = True, tunnel: bool = True, rtcp_interval: float | None = None,
) -> DialResult:
    """One H.323 call under the call controller (``crcgw dial``, test-dial), as the daemon's:
    G.711 by fastStart (H.245 OpenLogicalChannel if refused), H.264 video when offered, hung up
    ``duration_s`` after the media came up; answered without media is a failure."""
    leg = H323Leg(timeout=min(timeout_s, 10.0), rtp_port=rtp_port, video=video, tunnel=tunnel,
                  rtcp_interval=rtcp_interval)
    control = CallControl()
    call = await control.place(
        leg, target, options=CallOptions(timeout_s=timeout_s),
        policy=CallPolicy(answer_timeout_s=timeout_s + 5, hold_s=duration_s, end_timeout_s=15),
    )
    finished = await call.wait()
    await control.close()
    result: DialResult | None = leg.take_result(call.call_id)
    if result is None:  # the dialler never reported (it cannot happen without a bug)
        from signaling.h323.dial import DialResult

        result = DialResult(target.without_secrets().dial_string(), "", error=finished.cause.reason)
    if finished.answered and not finished.connected and result.error is None:
        result.error = finished.cause.reason
    return result
