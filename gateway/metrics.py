"""Prometheus metrics of one gateway, in their own registry (several gateways may live in one
test process). ``GET /metrics`` serves :meth:`GatewayMetrics.render`."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge
from prometheus_client.exposition import generate_latest

__all__ = ["CONTENT_TYPE", "GatewayMetrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST


class GatewayMetrics:
    """Every metric the gateway exports. The port gauges are set by the port pool, the redirect
    counter by the redirect service; the daemon sets registrations and calls."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.ports_allocated = Gauge(
            "crcgw_ports_allocated", "CRC ports of the account (API or configuration)", registry=r
        )
        self.ports_leased = Gauge(
            "crcgw_ports_leased", "CRC ports leased by the gateways sharing the store", registry=r
        )
        self.ports_used_elsewhere = Gauge(
            "crcgw_ports_used_elsewhere",
            "CRC ports the API reports in use beyond the leases (other devices)",
            registry=r,
        )
        self.ports_free = Gauge("crcgw_ports_free", "CRC ports a new call may take", registry=r)
        self.reconcile_drift = Gauge(
            "crcgw_reconcile_drift", "API ports in use minus leases at the last reconcile",
            registry=r,
        )
        self.reconcile_runs = Counter(
            "crcgw_reconcile_runs", "Reconcile passes, by result", ["result"], registry=r
        )
        self.leases_reclaimed = Counter(
            "crcgw_leases_reclaimed", "Leases taken back, by reason", ["reason"], registry=r
        )
        self.port_refusals = Counter(
            "crcgw_port_refusals", "Calls refused because no CRC port was free", registry=r
        )
        self.api_errors = Counter(
            "crcgw_api_errors", "Errors talking to the Zoom/PortSIP API, by operation",
            ["operation"], registry=r,
        )
        self.registrations = Gauge(
            "crcgw_registrations", "Rooms by registration state", ["state"], registry=r
        )
        self.calls = Gauge("crcgw_calls", "Calls by state", ["state"], registry=r)
        self.call_outcomes = Counter(
            "crcgw_call_outcomes", "Calls placed by the gateway that ended, by CDR outcome",
            ["outcome"], registry=r,
        )
        self.redirects = Counter(
            "crcgw_redirects", "Dial-string redirect answers, by SIP status", ["status"],
            registry=r,
        )

        self.degraded = Gauge(
            "crcgw_degraded", "1 while a dependency (api, store) is degraded", ["component"],
            registry=r,
        )
        self.degraded_since = Gauge(
            "crcgw_degraded_since_seconds",
            "When the current degraded state of a dependency began (epoch seconds; 0: healthy)",
            ["component"], registry=r,
        )
        self.figures_age = Gauge(
            "crcgw_pool_figures_age_seconds",
            "Age of the last good port figures from the API", registry=r,
        )
        self.cdr_journal = Gauge(
            "crcgw_cdr_journal_pending",
            "CDR updates waiting in the journal for the store to come back", registry=r,
        )

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
