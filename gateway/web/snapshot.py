"""What the status page shows, gathered from the daemon's public methods into plain rows.

:class:`StatusSource` is the part of :class:`gateway.daemon.Gateway` the page reads.
:class:`Observer` keeps what the daemon does not: when each room's registration last changed,
the recent redirect answers, and the pool's history (sampled by :meth:`Observer.sample`).
:func:`collect` builds one snapshot; every section that fails shows its error instead of
failing the page.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from prometheus_client import CollectorRegistry

from gateway.calls import CallTracker
from gateway.http_api import CallInfo, Readiness, RoomInfo
from gateway.metrics import GatewayMetrics
from gateway.redirect import RedirectEvent, RedirectService
from gateway.store import Cdr, PoolState
from gateway.web.history import PoolHistory
from gateway.web.quality import media_quality

__all__ = ["OUTCOMES", "Observer", "StatusSource", "clock_text", "collect", "duration_text"]

#: The CDR outcomes the filter offers (``crcgw.store`` writes these).
OUTCOMES = ("connected", "busy", "failed", "timeout", "cancelled", "interrupted",
            "redirected", "no-route", "no-port", "refused")


class StatusSource(Protocol):
    """What the page reads from the daemon (all public on :class:`gateway.daemon.Gateway`)."""

    @property
    def metrics(self) -> GatewayMetrics: ...

    @property
    def tracker(self) -> CallTracker | None: ...

    @property
    def redirect(self) -> RedirectService | None: ...

    def ready(self) -> Readiness: ...

    async def rooms(self) -> Sequence[RoomInfo]: ...

    async def reregister(self, room: str) -> RoomInfo: ...

    async def calls(self) -> Sequence[CallInfo]: ...

    async def hangup(self, call_id: str) -> CallInfo: ...

    async def ports(self) -> PoolState: ...

    async def cdrs(self, limit: int, room: str | None) -> Sequence[Cdr]: ...


def clock_text(at: float | None, *, date: bool = False) -> str:
    """``HH:MM:SS`` (UTC), with the date first when ``date``; ``–`` for no time."""
    if at is None:
        return "–"
    moment = datetime.fromtimestamp(at, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S")


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    whole = int(max(0.0, seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def meeting_of(target: str) -> str:
    """The meeting id of a dial string without secrets (``82419374650@host`` -> the digits)."""
    return target.split("@", 1)[0].split(".", 1)[0]


def family_values(registry: CollectorRegistry, name: str) -> dict[str, float]:
    """Samples of counter/gauge family ``name`` by their (first) label value ("" unlabelled)."""
    values: dict[str, float] = {}
    for family in registry.collect():
        if family.name != name:
            continue
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            key = next(iter(sample.labels.values()), "")
            values[key] = values.get(key, 0.0) + sample.value
    return values


@dataclass(frozen=True)
class RoomSeen:
    state: str
    code: int | None
    since: float
    first_seen: bool


class Observer:
    """What the page remembers between requests: registration changes, recent redirects and
    the pool history. Bounded: ``redirects`` entries, the history's span."""

    def __init__(self, history: PoolHistory | None = None, *, redirects: int = 50,
                 clock: Callable[[], float] = time.time) -> None:
        self.history = history or PoolHistory()
        self.clock = clock
        self.rooms: dict[str, RoomSeen] = {}
        self.redirects: deque[RedirectEvent] = deque(maxlen=redirects)
        self.started_at = clock()
        self.store_ms: float | None = None
        self.store_error: str | None = None

    def watch_redirects(self, service: RedirectService) -> None:
        """Also receive the redirect service's answers (its earlier callback still runs)."""
        earlier = service.on_event

        def record(event: RedirectEvent) -> None:
            self.redirects.append(event)
            if earlier is not None:
                earlier(event)

        service.on_event = record

    def see_rooms(self, rooms: Sequence[RoomInfo]) -> None:
        now = self.clock()
        for room in rooms:
            seen = self.rooms.get(room.name)
            if seen is None:
                self.rooms[room.name] = RoomSeen(room.registration, room.status_code, now, True)
            elif (seen.state, seen.code) != (room.registration, room.status_code):
                self.rooms[room.name] = RoomSeen(room.registration, room.status_code, now, False)

    async def sample(self, source: StatusSource) -> None:
        """One history sample (pool and refusals) and one look at the rooms."""
        self.see_rooms(await source.rooms())
        started = time.perf_counter()
        try:
            pool = await source.ports()
        except Exception as exc:  # noqa: BLE001 - shown on the page as the store's health
            self.store_error = f"{type(exc).__name__}: {exc}"[:200]
            return
        self.store_ms = 1000 * (time.perf_counter() - started)
        self.store_error = None
        refusals = source.metrics.registry.get_sample_value("crcgw_port_refusals_total") or 0.0
        self.history.add(self.clock(), pool.size, pool.leased, pool.used_elsewhere, pool.free,
                         refusals)


async def _guard(section: dict[str, Any], name: str, work: Any) -> Any:
    try:
        return await work
    except Exception as exc:  # noqa: BLE001 - one failed section must not fail the page
        section.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"[:200]
        return None


async def collect(source: StatusSource, observer: Observer, *, room: str | None = None,
                  outcome: str | None = None, cdr_rows: int = 50) -> dict[str, Any]:
    """One snapshot of everything the page shows, as template-ready rows."""
    now = observer.clock()
    out: dict[str, Any] = {"now": now, "now_text": clock_text(now, date=True)}
    rooms = await _guard(out, "rooms", source.rooms()) or []
    observer.see_rooms(rooms)
    out["rooms"] = [
        {"name": r.name, "aor": r.aor, "transport": r.transport, "state": r.registration,
         "code": r.status_code, "reason": r.reason, "expires_in": r.expires_in,
         "since": clock_text(observer.rooms[r.name].since, date=True),
         "since_start": observer.rooms[r.name].first_seen}
        for r in rooms
    ]
    tracker = source.tracker
    calls = await _guard(out, "calls", source.calls()) or []
    rows = []
    for call in calls:
        # asked of the engine now, as someone looks (the daemon does not poll calls)
        stats = await tracker.live_stats(call.call_id) if tracker is not None else None
        quality = media_quality(stats)
        rows.append({
            "id": call.call_id, "room": call.room, "meeting": meeting_of(call.target),
            "target": call.target, "state": call.state,
            "started": clock_text(call.started_at),
            "duration": duration_text(now - call.connected_at if call.connected_at else None),
            "quality": quality,
        })
    out["calls"] = rows
    started = time.perf_counter()
    pool = await _guard(out, "pool", source.ports())
    if pool is not None:
        observer.store_ms = 1000 * (time.perf_counter() - started)
        observer.store_error = None
    elif "pool" in out.get("errors", {}):
        observer.store_error = out["errors"]["pool"]
    out["pool"] = pool
    registry = source.metrics.registry
    out["refusals"] = int(registry.get_sample_value("crcgw_port_refusals_total") or 0)
    wanted = cdr_rows if outcome is None else 500
    cdrs: Sequence[Cdr] = []
    if cdr_rows > 0:
        cdrs = await _guard(out, "cdrs", source.cdrs(wanted, room)) or []
    picked = [c for c in cdrs if outcome is None or c.outcome == outcome][:cdr_rows]
    out["cdrs"] = [
        {"id": c.call_id, "room": c.room, "meeting": meeting_of(c.target), "target": c.target,
         "direction": c.direction, "started": clock_text(c.started_at, date=True),
         "duration": duration_text(c.duration), "outcome": c.outcome or "in progress",
         "sip": f"{c.sip_code or ''} {c.sip_reason or ''}".strip() or "–",
         "quality": _cdr_quality(c)}
        for c in picked
    ]
    out["redirects"] = [
        {"at": clock_text(e.at), "status": e.status, "target": e.target or "–",
         "caller": e.caller, "transport": e.transport}
        for e in reversed(observer.redirects)
    ]
    out["redirect_counts"] = family_values(registry, "crcgw_redirects")
    ready = source.ready()
    out["health"] = {
        "ready": ready.ready, "checks": ready.checks, "listen": ready.sip_listen,
        "api_errors": family_values(registry, "crcgw_api_errors"),
        "reconciles": family_values(registry, "crcgw_reconcile_runs"),
        "store_ms": observer.store_ms, "store_error": observer.store_error,
        "up_since": clock_text(observer.started_at, date=True),
    }
    return out


def _cdr_quality(cdr: Cdr) -> str:
    rtp = cdr.rtp or {}
    received, lost = rtp.get("rx_packets"), rtp.get("rx_lost")
    if not isinstance(received, int) or not isinstance(lost, int) or received + lost == 0:
        return "–"
    jitter = rtp.get("jitter_ms")
    text = f"loss {100 * lost / (received + lost):.1f}%"
    return text + (f", jitter {jitter:.1f} ms" if isinstance(jitter, int | float) else "")
