"""Port usage sources for :meth:`gateway.ports.PortPool.run`, over the API client.

- :func:`seed_usage`: the seed API's ``GET /accounts/{id}/crc/ports`` (the emulator and
  compatible services): live ``ports_allocated`` and ``ports_in_use``.
- :class:`ZoomLiveUsage`: real Zoom. The Dashboard's live figures: ``GET /metrics/meetings?
  type=live`` (Resource-intensive, 10 a minute on Pro: the default 30 s reconcile uses 2) and,
  for each meeting with SIP/H.323, ``GET /metrics/meetings/{id}/participants?type=live``
  (Heavy): participants whose device is ``H.323/SIP`` are ports in use. Accounts without the
  Dashboard (it needs Business or higher) fall back to :func:`metrics_usage`.
- :func:`metrics_usage`: ``GET /metrics/crc`` (hourly usage): the latest hour's ``max_usage``
  today stands in for "in use" (conservative: it counts calls that ended within the hour), and
  the size comes from ``ports.pool_size``.

Webhooks (:mod:`gateway.live_usage`) move the figure at once between these periodic readings.

Each returns an async callable; API errors propagate, and the pool counts them
(``crcgw_api_errors_total``) and keeps its last figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from api_client import ApiStatusError, AsyncZoomClient
from gateway.ports import PortUsage, UsageSource

__all__ = ["ZoomLiveUsage", "metrics_usage", "room_system_ids", "seed_usage"]


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def seed_usage(client: AsyncZoomClient) -> UsageSource:
    async def usage() -> PortUsage:
        ports = await client.crc.ports()
        return PortUsage(in_use=ports.ports_in_use, allocated=ports.ports_allocated)

    return usage


def metrics_usage(
    client: AsyncZoomClient, today: Callable[[], dt.date] = _utc_today
) -> UsageSource:
    async def usage() -> PortUsage | None:
        day = today()
        metrics = await client.crc.port_metrics(day, day)
        hours = [hour for d in metrics.crc_ports_usage for hour in d.crc_ports_hour_usage]
        if not hours:
            return None
        latest = max(hours, key=lambda hour: hour.hour)
        return PortUsage(in_use=latest.max_usage, allocated=None)

    return usage


class ZoomLiveUsage:
    """Real Zoom's live figure (the Dashboard), else ``/metrics/crc``; ``exact`` says which one
    the last reading came from."""

    def __init__(
        self, client: AsyncZoomClient, today: Callable[[], dt.date] = _utc_today
    ) -> None:
        self.client = client
        self.today = today
        self.exact = False
        self._fallback = metrics_usage(client, today)

    async def __call__(self) -> PortUsage | None:
        day = self.today()
        try:
            in_use = 0
            async for meeting in self.client.meetings.live(day, day):
                if meeting.has_sip is False:
                    continue
                async for person in self.client.meetings.live_participants(meeting.id):
                    in_use += person.is_room_system
        except ApiStatusError as exc:
            if exc.status_code not in (400, 403, 404):
                raise
            self.exact = False
            return await self._fallback()
        self.exact = True
        return PortUsage(in_use=in_use, allocated=None)


async def room_system_ids(client: AsyncZoomClient, meeting: str) -> set[str]:
    """The identifiers (``id``, ``user_id``, ``participant_uuid``) of the meeting's room-system
    participants now (``GET /metrics/meetings/{id}/participants?type=live``, Heavy)."""
    found: set[str] = set()
    async for person in client.meetings.live_participants(meeting):
        if person.is_room_system:
            found |= {v for v in (person.id, person.user_id, person.participant_uuid) if v}
    return found
