"""The CRC port pool: a lease for every call the gateway places or redirects, kept in sync with the
account's port usage as the API reports it.

Accounting (one account, possibly several gateways sharing one store)::

    size          ports of the account: the API's ports_allocated (seed /accounts/{id}/crc/ports),
                  else the configuration's ports.pool_size (real Zoom only offers /metrics/crc)
    leased        leases held by the gateways (the store counts them)
    used_elsewhere = max(0, api_in_use - leased)      other devices of the account
    free          = size - leased - used_elsewhere  = size - max(leased, api_in_use)

A call starts only with a lease, and the store grants one only while ``free > 0``: the gateway
never starts a call that would exceed the pool.

:func:`reconcile` is pure (data in, decisions out, explicit ``now``); :class:`PortPool` applies
its decisions to the store and runs it on an interval, with the API behind an injected callable.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import TypeVar

from gateway.metrics import GatewayMetrics
from gateway.store import Lease, PoolState, Store

__all__ = [
    "LiveCalls",
    "PoolFullError",
    "PortPool",
    "PortUsage",
    "ReconcileResult",
    "UsageSource",
    "reconcile",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: A new lease whose call is not yet in the live list is left alone for this long (seconds).
DEFAULT_GRACE = 10.0


@dataclass(frozen=True)
class PortUsage:
    """What the API says: ``in_use`` ports now, and ``allocated`` when it knows (``None`` for
    Zoom's ``/metrics/crc``, which has no allocation figure)."""

    in_use: int
    allocated: int | None = None


#: Returns the API's current usage, ``None`` when it has no figure; raises on API errors.
UsageSource = Callable[[], Awaitable[PortUsage | None]]
#: Returns the call ids of the calls (and redirect holds) this gateway has live now.
LiveCalls = Callable[[], Collection[str]]


class PoolFullError(RuntimeError):
    """No CRC port is free: the call must not start."""


@dataclass(frozen=True)
class ReconcileResult:
    """What one reconcile pass decided."""

    size: int | None
    used_elsewhere: int | None
    """``None``: no API figure this time, keep the previous value."""
    drift: int | None
    """API ports in use minus leases (after reclaiming); ``None`` without an API figure.
    Positive: other devices (or calls the API still counts); negative: leases the API does not
    see yet (calls being set up) or leaked leases."""
    reclaim: tuple[Lease, ...]
    lines: tuple[str, ...]


def reconcile(
    snapshot: PortUsage | None,
    leases: Sequence[Lease],
    live_call_ids: Collection[str],
    *,
    owner: str,
    now: float,
    configured_size: int | None = None,
    previous: PoolState | None = None,
    grace: float = DEFAULT_GRACE,
) -> ReconcileResult:
    """Compare the API's figures with the leases; decide what to reclaim and what is free.

    - ``leases``: every lease in the store (all gateways); expired ones do not count.
    - Leases of ``owner`` whose call is not in ``live_call_ids`` and older than ``grace``
      seconds are reclaimed (their call is gone: ended, failed, or lost in a crash).
      Other owners' leases are theirs to manage (they expire without heartbeats).
    - ``size``: the API's allocation when it gives one, else ``configured_size``.
    - ``previous`` (the store's state before) only makes the log lines say what changed.
    """
    live = set(live_call_ids)
    current = [lease for lease in leases if lease.expires_at > now]
    reclaim = tuple(
        lease
        for lease in current
        if lease.owner == owner and lease.call_id not in live and now - lease.acquired_at >= grace
    )
    leased = len(current) - len(reclaim)
    lines = [
        f"reclaiming lease {lease.call_id} (room {lease.room}): its call is gone"
        for lease in reclaim
    ]
    if snapshot is not None and snapshot.allocated is not None:
        size: int | None = snapshot.allocated
        source = "API"
    else:
        size, source = configured_size, "configuration"
    if previous is not None and previous.size != size:
        lines.append(f"pool size {previous.size} -> {size} (from the {source})")
    if size is None:
        lines.append("pool size unknown: set ports.pool_size, no call can start")
    used_elsewhere: int | None = None
    drift: int | None = None
    if snapshot is None:
        lines.append("no API usage figure: keeping the last count of ports used elsewhere")
    else:
        drift = snapshot.in_use - leased
        used_elsewhere = max(0, drift)
        if drift:
            lines.append(
                f"drift {drift:+d}: API reports {snapshot.in_use} ports in use, "
                f"leases hold {leased} ({used_elsewhere} used elsewhere)"
            )
        if previous is not None and previous.used_elsewhere != used_elsewhere:
            lines.append(f"ports used elsewhere {previous.used_elsewhere} -> {used_elsewhere}")
    elsewhere_now = used_elsewhere if used_elsewhere is not None else (
        previous.used_elsewhere if previous is not None else 0
    )
    if size is not None and leased + elsewhere_now > size:
        lines.append(
            f"pool over-committed: {leased} leased + {elsewhere_now} elsewhere > {size} ports; "
            "new calls wait until calls end"
        )
    return ReconcileResult(size, used_elsewhere, drift, reclaim, tuple(lines))


class PortPool:
    """The pool as the daemon uses it: async methods over the (thread-safe, blocking) store.

    ``owner`` is this gateway's instance id; ``clock`` gives seconds since the epoch.
    """

    def __init__(
        self,
        store: Store,
        owner: str,
        *,
        metrics: GatewayMetrics | None = None,
        clock: Callable[[], float] = time.time,
        grace: float = DEFAULT_GRACE,
    ) -> None:
        self.store = store
        self.owner = owner
        self.metrics = metrics
        self.clock = clock
        self.grace = grace
        self.last_result: ReconcileResult | None = None

    async def _run(self, func: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(None, func)

    # -- leases -------------------------------------------------------------------------------

    async def acquire(self, call_id: str, room: str, target: str) -> Lease | None:
        """A lease for ``call_id``, or ``None`` when no port is free.

        Cancelling the caller never leaks a port: an acquire already running in the store
        finishes, and its lease is released at once.
        """
        loop = asyncio.get_running_loop()
        work = functools.partial(
            self.store.acquire, call_id, room, target, self.owner, self.clock()
        )
        future = loop.run_in_executor(None, work)
        try:
            lease = await asyncio.shield(future)
        except asyncio.CancelledError:
            future.add_done_callback(functools.partial(self._release_orphan, call_id))
            raise
        if lease is None and self.metrics is not None:
            self.metrics.port_refusals.inc()
        await self._publish()
        return lease

    def _release_orphan(self, call_id: str, future: asyncio.Future[Lease | None]) -> None:
        if not future.cancelled() and future.exception() is None and future.result() is not None:
            log.info("releasing lease %s: its caller was cancelled", call_id)
            asyncio.get_running_loop().run_in_executor(
                None, functools.partial(self.store.release, call_id)
            )

    async def release(self, call_id: str) -> Lease | None:
        """Give the port of ``call_id`` back (no-op when it holds none)."""
        lease = await self._run(functools.partial(self.store.release, call_id))
        await self._publish()
        return lease

    @asynccontextmanager
    async def lease(self, call_id: str, room: str, target: str) -> AsyncIterator[Lease]:
        """``async with pool.lease(...) as lease:`` run the call; the port is released however
        the block ends (return, exception, cancellation). :class:`PoolFullError` when no port
        is free."""
        lease = await self.acquire(call_id, room, target)
        if lease is None:
            raise PoolFullError("no CRC port is free")
        try:
            yield lease
        finally:
            # Shielded: a cancelled call still gives its port back.
            await asyncio.shield(self.release(call_id))

    async def status(self) -> PoolState:
        return await self._run(self.store.pool_state)

    async def leases(self, mine_only: bool = False) -> list[Lease]:
        owner = self.owner if mine_only else None
        return await self._run(functools.partial(self.store.leases, owner))

    async def heartbeat(self) -> int:
        """Keep this gateway's leases alive; also drops other owners' expired leases."""
        now = self.clock()
        count = await self._run(functools.partial(self.store.heartbeat, self.owner, now))
        expired = await self._run(functools.partial(self.store.expire, now))
        for lease in expired:
            log.warning("lease %s of %s expired (owner silent)", lease.call_id, lease.owner)
            if self.metrics is not None:
                self.metrics.leases_reclaimed.labels("expired").inc()
        if expired:
            await self._publish()
        return count

    async def restart(self) -> list[Lease]:
        """At start-up: free what this instance id held before a crash or restart."""
        freed = await self._run(functools.partial(self.store.release_owner, self.owner))
        for lease in freed:
            log.warning("lease %s left from a previous run: released", lease.call_id)
        await self._publish()
        return freed

    # -- reconcile ----------------------------------------------------------------------------

    async def reconcile_once(
        self,
        usage: UsageSource | None,
        live_calls: LiveCalls,
        configured_size: int | None = None,
    ) -> ReconcileResult:
        """Ask the API (``usage``; ``None``: no API), run :func:`reconcile`, apply it."""
        snapshot: PortUsage | None = None
        if usage is not None:
            try:
                snapshot = await usage()
            except Exception as exc:  # noqa: BLE001 - any API failure: keep going without it
                log.warning("port usage from the API failed: %s", type(exc).__name__)
                if self.metrics is not None:
                    self.metrics.api_errors.labels("crc_ports").inc()
        previous = await self.status()
        leases = await self.leases()
        result = reconcile(
            snapshot, leases, live_calls(), owner=self.owner, now=self.clock(),
            configured_size=configured_size, previous=previous, grace=self.grace,
        )
        await self.apply(result)
        for line in result.lines:
            log.info("reconcile: %s", line)
        if self.metrics is not None:
            self.metrics.reconcile_runs.labels("api" if snapshot else "no-api").inc()
            if result.drift is not None:
                self.metrics.reconcile_drift.set(result.drift)
        self.last_result = result
        return result

    async def apply(self, result: ReconcileResult) -> None:
        """Write a reconcile decision to the store: size, usage elsewhere, reclaimed leases."""
        await self._run(functools.partial(self.store.set_pool_size, result.size))
        if result.used_elsewhere is not None:
            await self._run(functools.partial(self.store.set_used_elsewhere, result.used_elsewhere))
        for lease in result.reclaim:
            if await self.release(lease.call_id) is not None and self.metrics is not None:
                self.metrics.leases_reclaimed.labels("call-gone").inc()
        await self._publish()

    async def run(
        self,
        usage: UsageSource | None,
        live_calls: LiveCalls,
        *,
        configured_size: int | None,
        reconcile_interval: float,
        heartbeat_interval: float,
        stop: asyncio.Event,
    ) -> None:
        """Heartbeat and reconcile until ``stop`` is set (the first reconcile runs at once).
        A failing pass is logged and retried on the next tick; the loop never dies of it."""
        next_reconcile = 0.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                await self.heartbeat()
                if loop.time() >= next_reconcile:
                    next_reconcile = loop.time() + reconcile_interval
                    await self.reconcile_once(usage, live_calls, configured_size)
            except Exception:  # noqa: BLE001
                log.exception("port pool maintenance failed; retrying")
            wait = min(heartbeat_interval, max(0.0, next_reconcile - loop.time()))
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)

    async def _publish(self) -> None:
        if self.metrics is None:
            return
        state = await self.status()
        self.metrics.ports_allocated.set(state.size or 0)
        self.metrics.ports_leased.set(state.leased)
        self.metrics.ports_used_elsewhere.set(state.used_elsewhere)
        self.metrics.ports_free.set(state.free)
