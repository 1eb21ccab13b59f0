"""The CRC port pool: a lease for every call the gateway places or redirects, kept in sync with the
account's port usage as the API reports it.

Invariants, kept by construction:

- a live call's lease is kept alive by the heartbeat loop from the call's own life (the set of
  live calls), never by an API poll: the heartbeat loop never waits on the API, and an acquire
  first refreshes its own gateway's live leases in the same transaction;
- every API request of the reconcile loop has an overall deadline (``api_deadline``);
- when the API fails, the last good figures stay in use until ``stale_after`` seconds after they
  were asked for; then ``ports.pool_size`` (if configured) or no size, and every refusal says why;
- figures carry the time they were asked for: the store keeps the newest (a slow answer never
  overwrites a newer one);
- a store that cannot be written (locked, full, read-only) refuses new calls at once until the
  maintenance loop sees it writable again; the loop backs off and logs state changes only.

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
import datetime as dt
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import TypeVar

from gateway.health import Backoff, Health
from gateway.metrics import GatewayMetrics
from gateway.store import Lease, PoolState, Store, StoreUnavailableError

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
#: Overall deadline of one API usage request, retries included (seconds).
DEFAULT_API_DEADLINE = 10.0
#: The last good API figures are used this long after they were asked for (seconds); then the
#: configured ``ports.pool_size``, or no size at all (every new call refused, saying why).
DEFAULT_STALE_AFTER = 300.0


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
    Store operations run on two small thread pools of their own (writes, reads), so a stuck
    store never takes every worker thread of the process.
    """

    def __init__(
        self,
        store: Store,
        owner: str,
        *,
        metrics: GatewayMetrics | None = None,
        clock: Callable[[], float] = time.time,
        grace: float = DEFAULT_GRACE,
        api_deadline: float = DEFAULT_API_DEADLINE,
        stale_after: float = DEFAULT_STALE_AFTER,
        live_calls: LiveCalls | None = None,
    ) -> None:
        self.store = store
        self.owner = owner
        self.metrics = metrics
        self.clock = clock
        self.grace = grace
        self.api_deadline = api_deadline
        self.stale_after = stale_after
        self.live_calls = live_calls
        self.last_result: ReconcileResult | None = None
        self.api_health = Health("API", clock=clock)
        self.store_health = Health("store", clock=clock)
        self._maintenance = Health("port pool heartbeat", clock=clock)
        self._reconciling = Health("port reconcile", clock=clock)
        self.last_good_at: float | None = None
        """When the last good API figures were asked for (seconds since the epoch)."""
        self.refusal: str | None = None
        """Why the pool has no size (every new call is refused), or ``None``."""
        self._pending_releases: set[str] = set()
        self._writes = ThreadPoolExecutor(2, thread_name_prefix="crcgw-store-write")
        self._reads = ThreadPoolExecutor(2, thread_name_prefix="crcgw-store-read")

    async def _run(self, func: Callable[[], T]) -> T:
        return await self.write(func)

    async def write(self, func: Callable[[], T]) -> T:
        """Run a blocking store write on the write threads; a :class:`StoreUnavailableError`
        marks the store degraded (and is raised)."""
        try:
            result = await asyncio.get_running_loop().run_in_executor(self._writes, func)
        except StoreUnavailableError as exc:
            self._store_failed(exc)
            raise
        return result

    async def read(self, func: Callable[[], T]) -> T:
        """Run a blocking store read on the read threads (never behind a stuck write)."""
        return await asyncio.get_running_loop().run_in_executor(self._reads, func)

    def close(self) -> None:
        """Stop the store threads (the store itself is closed by its owner)."""
        self._writes.shutdown(wait=False, cancel_futures=True)
        self._reads.shutdown(wait=False, cancel_futures=True)

    def _store_failed(self, exc: StoreUnavailableError) -> None:
        self.store_health.fail(exc.reason)
        self._publish_health()

    def _live(self) -> Collection[str]:
        return self.live_calls() if self.live_calls is not None else ()

    # -- leases -------------------------------------------------------------------------------

    async def acquire(self, call_id: str, room: str, target: str) -> Lease | None:
        """A lease for ``call_id``, or ``None`` when no port is free.

        Raises :class:`StoreUnavailableError` at once while the store is degraded (the
        maintenance loop probes it and lifts that), or when this acquire finds it so.
        Cancelling the caller never leaks a port: an acquire already running in the store
        finishes, and its lease is released at once.
        """
        if self.store_health.degraded:
            raise StoreUnavailableError(self.store_health.reason)
        loop = asyncio.get_running_loop()
        work = functools.partial(
            self.store.acquire, call_id, room, target, self.owner, self.clock(),
            keep_alive=tuple(self._live()),
        )
        future = loop.run_in_executor(self._writes, work)
        try:
            lease = await asyncio.shield(future)
        except asyncio.CancelledError:
            future.add_done_callback(functools.partial(self._release_orphan, call_id))
            raise
        except StoreUnavailableError as exc:
            self._store_failed(exc)
            raise
        if lease is None and self.metrics is not None:
            self.metrics.port_refusals.inc()
        await self._publish()
        return lease

    def _release_orphan(self, call_id: str, future: asyncio.Future[Lease | None]) -> None:
        if not future.cancelled() and future.exception() is None and future.result() is not None:
            log.info("releasing lease %s: its caller was cancelled", call_id)
            asyncio.get_running_loop().create_task(self.release(call_id))

    async def release(self, call_id: str) -> Lease | None:
        """Give the port of ``call_id`` back (no-op when it holds none). Never raises for a
        store fault: the release is retried by the maintenance loop (and the lease, no longer
        kept alive by a live call, expires by itself anyway)."""
        try:
            lease = await self.write(functools.partial(self.store.release, call_id))
        except StoreUnavailableError:
            self._pending_releases.add(call_id)
            return None
        self._pending_releases.discard(call_id)
        await self._publish()
        return lease

    def refusal_reason(self, state: PoolState | None = None) -> str:
        """Why a new call gets no port, for the 503 the caller sees."""
        if self.store_health.degraded:
            return f"the port store is unavailable ({self.store_health.reason})"
        if state is None:
            return self.refusal or "no CRC port is free: every port of the pool is in use"
        if state.size is None:
            return self.refusal or "the pool size is unknown: set ports.pool_size"
        return (f"no CRC port is free: {state.leased} leased + {state.used_elsewhere} used "
                f"elsewhere of {state.size}")

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
        return await self.read(self.store.pool_state)

    async def leases(self, mine_only: bool = False) -> list[Lease]:
        owner = self.owner if mine_only else None
        return await self.read(functools.partial(self.store.leases, owner))

    async def heartbeat(self) -> int:
        """Keep the leases of this gateway's live calls alive (and only those: a lease whose call
        is gone expires); drop expired leases of every owner; retry releases that failed."""
        now = self.clock()
        live = tuple(self._live())
        count = await self.write(
            functools.partial(self.store.heartbeat_calls, self.owner, live, now)
        )
        expired = await self.write(functools.partial(self.store.expire, now))
        for lease in expired:
            log.warning("lease %s of %s expired (no heartbeat)", lease.call_id, lease.owner)
            if self.metrics is not None:
                self.metrics.leases_reclaimed.labels("expired").inc()
        for call_id in sorted(self._pending_releases):
            if call_id not in live:
                await self.write(functools.partial(self.store.release, call_id))
            self._pending_releases.discard(call_id)
        if self.store_health.ok():
            self._publish_health()
        await self._publish()
        return count

    async def restart(self) -> list[Lease]:
        """At start-up: free what this instance id held before a crash or restart."""
        freed = await self._run(functools.partial(self.store.release_owner, self.owner))
        for lease in freed:
            log.warning("lease %s left from a previous run: released", lease.call_id)
        self.last_good_at = await self.read(self.store.figures_at)
        await self._publish()
        return freed

    # -- reconcile ----------------------------------------------------------------------------

    async def _ask(self, usage: UsageSource) -> tuple[PortUsage | None, bool]:
        """The API's usage within the overall deadline: ``(snapshot, answered)``."""
        try:
            async with asyncio.timeout(self.api_deadline):
                snapshot = await usage()
        except Exception as exc:  # noqa: BLE001 - any API failure: keep going without it
            if isinstance(exc, TimeoutError):
                reason = f"no answer within {self.api_deadline:g} s"
            else:
                first = str(exc).splitlines()[0][:120] if str(exc) else ""
                reason = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
            self.api_health.fail(reason)
            if self.metrics is not None:
                self.metrics.api_errors.labels("crc_ports").inc()
            return None, False
        self.api_health.ok()
        return snapshot, True

    async def reconcile_once(
        self,
        usage: UsageSource | None,
        live_calls: LiveCalls,
        configured_size: int | None = None,
    ) -> ReconcileResult:
        """Ask the API (``usage``; ``None``: no API), run :func:`reconcile`, apply it.

        Without an answer, the figures in the store (the last good ones) stay while they are
        younger than ``stale_after``; then ``configured_size`` replaces them, or, without one,
        the size becomes unknown and :attr:`refusal` says why."""
        asked_at = self.clock()
        snapshot: PortUsage | None = None
        write_figures = True
        size = configured_size
        if usage is not None:
            snapshot, answered = await self._ask(usage)
            if answered:
                self.last_good_at = max(asked_at, self.last_good_at or asked_at)
                self.refusal = None
            elif self.last_good_at is not None and asked_at - self.last_good_at <= self.stale_after:
                write_figures = False  # keep the last good figures
            else:
                since = self.api_health.since or asked_at
                stamp = dt.datetime.fromtimestamp(since, dt.UTC).isoformat(timespec="seconds")
                why = (f"no port figure from the API since {stamp} "
                       f"({self.api_health.reason}; stale after {self.stale_after:g} s)")
                self.refusal = None if configured_size is not None else (
                    f"{why} and no ports.pool_size configured: no call can start")
                if configured_size is not None and self.api_health.failures == 1:
                    log.warning("%s: using ports.pool_size %d", why, configured_size)
        previous = await self.status()
        leases = await self.leases()
        if not write_figures:
            size = previous.size
        result = reconcile(
            snapshot, leases, live_calls(), owner=self.owner, now=self.clock(),
            configured_size=size, previous=previous, grace=self.grace,
        )
        await self.apply(result, observed_at=asked_at if write_figures else None)
        for line in result.lines:
            log.info("reconcile: %s", line)
        if self.metrics is not None:
            self.metrics.reconcile_runs.labels("api" if snapshot else "no-api").inc()
            if result.drift is not None:
                self.metrics.reconcile_drift.set(result.drift)
        self.last_result = result
        self._publish_health()
        return result

    async def apply(self, result: ReconcileResult, observed_at: float | None = -1.0) -> None:
        """Write a reconcile decision to the store: size, usage elsewhere (as seen at
        ``observed_at``; default now, ``None``: leave the figures), reclaimed leases."""
        if observed_at is not None:
            at = self.clock() if observed_at < 0 else observed_at
            await self._run(functools.partial(
                self.store.set_figures, result.size, result.used_elsewhere, at
            ))
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
        on_store_ok: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        """Heartbeat and reconcile until ``stop`` is set (the first reconcile runs at once), as
        two independent loops: a hung API never delays a heartbeat. A failing pass is retried
        with exponential back-off; the loops never die of it. ``on_store_ok`` runs after every
        good heartbeat (the daemon replays its CDR journal there)."""
        self.live_calls = live_calls

        async def heartbeat() -> None:
            await self.heartbeat()
            if on_store_ok is not None:
                await on_store_ok()

        async def reconcile() -> None:
            await self.reconcile_once(usage, live_calls, configured_size)

        await asyncio.gather(
            self._loop(heartbeat, self._maintenance, stop,
                       heartbeat_interval, Backoff(base=min(0.25, heartbeat_interval),
                                                   cap=min(heartbeat_interval, 5.0))),
            self._loop(reconcile, self._reconciling, stop,
                       reconcile_interval, Backoff(base=min(1.0, reconcile_interval),
                                                   cap=reconcile_interval)),
        )

    async def _loop(
        self, step: Callable[[], Awaitable[None]], health: Health, stop: asyncio.Event,
        interval: float, backoff: Backoff,
    ) -> None:
        """Run ``step`` every ``interval`` until ``stop``; a failing step is retried with
        ``backoff`` and reported through ``health``, logged once per bad spell by its name."""
        while not stop.is_set():
            wait = interval
            try:
                await step()
                backoff.succeeded()
                health.ok()
            except StoreUnavailableError as exc:
                self._store_failed(exc)
                wait = backoff.failed()
            except Exception as exc:  # noqa: BLE001 - logged once per bad spell, retried
                if health.fail(f"{type(exc).__name__}: {exc}"):
                    log.exception("%s failed; retrying with back-off", health.name)
                wait = backoff.failed()
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)

    def _publish_health(self) -> None:
        if self.metrics is None:
            return
        for health in (self.api_health, self.store_health):
            self.metrics.degraded.labels(health.name.lower()).set(1 if health.degraded else 0)
            self.metrics.degraded_since.labels(health.name.lower()).set(
                health.since if health.degraded and health.since else 0
            )
        if self.last_good_at is not None:
            self.metrics.figures_age.set(max(0.0, self.clock() - self.last_good_at))

    async def _publish(self) -> None:
        if self.metrics is None:
            return
        try:
            state = await self.status()
        except StoreUnavailableError:
            return
        self.metrics.ports_allocated.set(state.size or 0)
        self.metrics.ports_leased.set(state.leased)
        self.metrics.ports_used_elsewhere.set(state.used_elsewhere)
        self.metrics.ports_free.set(state.free)
