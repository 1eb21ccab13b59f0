"""Port usage sources for :meth:`gateway.ports.PortPool.run`, over the API client.

- :func:`seed_usage`: the seed API's ``GET /accounts/{id}/crc/ports`` (the emulator and
  compatible services): live ``ports_allocated`` and ``ports_in_use``.
- :func:`metrics_usage`: real Zoom, which only offers ``GET /metrics/crc`` (hourly usage): the
  latest hour's ``max_usage`` today stands in for "in use" (conservative: it counts calls that
  ended within the hour), and the size comes from ``ports.pool_size``.

Each returns an async callable; API errors propagate, and the pool counts them
(``crcgw_api_errors_total``) and keeps its last figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from api_client import AsyncZoomClient
from gateway.ports import PortUsage, UsageSource

__all__ = ["metrics_usage", "seed_usage"]


def seed_usage(client: AsyncZoomClient) -> UsageSource:
    async def usage() -> PortUsage:
        ports = await client.crc.ports()
        return PortUsage(in_use=ports.ports_in_use, allocated=ports.ports_allocated)

    return usage


def metrics_usage(
    client: AsyncZoomClient, today: Callable[[], dt.date] = lambda: dt.datetime.now(dt.UTC).date()
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
