"""The Grafana dashboard and the Prometheus alert rules in ``configs/``: every query names a
metric the gateway exports, the rules pass ``promtool check rules`` (Debian ``prometheus``),
and ``promtool test rules`` fires each alert on the series that should fire it, not on a
healthy gateway's."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gateway.metrics import GatewayMetrics
from tests.web.conftest import Served

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
DASHBOARD = CONFIGS / "grafana-dashboard.json"
ALERTS = CONFIGS / "prometheus-alerts.yml"
METRIC = re.compile(r"\b(crcgw_[a-z_]+)\b")
#: Series Prometheus makes itself (not exported by /metrics).
SYNTHETIC = {"up"}


def exported(text: str) -> set[str]:
    """Metric names in a Prometheus text exposition (from its TYPE lines)."""
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def dashboard_queries() -> list[tuple[str, str]]:
    board = json.loads(DASHBOARD.read_text())
    queries = []
    for panel in board["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        queries += [(panel["title"], target["expr"]) for target in panel["targets"]]
    for variable in board["templating"]["list"]:
        queries.append((f"variable {variable['name']}", variable["definition"]))
    return queries


def alert_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for group in yaml.safe_load(ALERTS.read_text())["groups"]:
        rules += group["rules"]
    return rules


def test_every_dashboard_query_names_an_exported_metric() -> None:
    names = exported(GatewayMetrics().render().decode())
    assert "crcgw_ports_free" in names and "crcgw_port_refusals_total" in names
    board = json.loads(DASHBOARD.read_text())
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in board["panels"]:  # on Grafana's 24-column grid, no two panels overlap
        box = panel["gridPos"]
        assert box["x"] + box["w"] <= 24, panel["title"]
        mine = {(x, y) for x in range(box["x"], box["x"] + box["w"])
                for y in range(box["y"], box["y"] + box["h"])}
        assert not mine & cells, f"{panel['title']} overlaps another panel"
        cells |= mine
    assert board["__inputs"][0]["pluginId"] == "prometheus"
    queries = dashboard_queries()
    assert len(queries) >= 10
    for title, expr in queries:
        used = set(METRIC.findall(expr))
        assert used, f"{title}: {expr!r} names no crcgw metric"
        assert used <= names, f"{title}: {sorted(used - names)} not exported by /metrics"


def test_alert_rules_name_exported_metrics() -> None:
    names = exported(GatewayMetrics().render().decode()) | SYNTHETIC
    rules = alert_rules()
    assert {rule["alert"] for rule in rules} >= {
        "CrcgwPoolExhausted", "CrcgwRoomUnregistered", "CrcgwApiDegraded", "CrcgwCallsFailing"}
    for rule in rules:
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"]
        metrics = set(METRIC.findall(rule["expr"]))
        metrics |= {name for name in SYNTHETIC if re.search(rf"\b{name}\{{", rule["expr"])}
        assert metrics, rule["alert"]
        assert metrics <= names, f"{rule['alert']}: {sorted(metrics - names)} not exported"


def test_a_running_gateway_exports_what_the_dashboard_reads(served: Served) -> None:
    text = httpx.get(f"{served.base}/metrics", timeout=20).text
    names = exported(text)
    for title, expr in dashboard_queries():
        assert set(METRIC.findall(expr)) <= names, title


PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None,
                                    reason="promtool (Debian prometheus) is not installed")


@needs_promtool
def test_promtool_checks_the_rules() -> None:
    assert PROMTOOL is not None
    result = subprocess.run([PROMTOOL, "check", "rules", str(ALERTS)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


UNIT_TESTS = """\
rule_files: [{rules}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'crcgw_ports_allocated{{job="crcgw",instance="gw-a"}}'
        values: '10x20'
      - series: 'crcgw_ports_free{{job="crcgw",instance="gw-a"}}'
        values: '3 3 0x18'
      - series: 'crcgw_port_refusals_total{{job="crcgw",instance="gw-a"}}'
        values: '0x10 2x10'
      - series: 'crcgw_registrations{{job="crcgw",instance="gw-a",state="registered"}}'
        values: '2 2 1x18'
      - series: 'crcgw_registrations{{job="crcgw",instance="gw-a",state="failed"}}'
        values: '0 0 1x18'
      - series: 'crcgw_api_errors_total{{job="crcgw",instance="gw-a",operation="crc_ports"}}'
        values: '0+1x20'
      - series: 'crcgw_call_outcomes_total{{job="crcgw",instance="gw-a",outcome="connected"}}'
        values: '1x20'
      - series: 'crcgw_call_outcomes_total{{job="crcgw",instance="gw-a",outcome="failed"}}'
        values: '0x5 0+1x15'
      - series: 'up{{job="crcgw",instance="gw-a"}}'
        values: '1x20'
    alert_rule_test:
      - {{eval_time: 1m, alertname: CrcgwPoolExhausted, exp_alerts: []}}
      - {{eval_time: 1m, alertname: CrcgwRoomUnregistered, exp_alerts: []}}
      - {{eval_time: 1m, alertname: CrcgwCallsFailing, exp_alerts: []}}
      - {{eval_time: 5m, alertname: CrcgwCallsRefusedNoPort, exp_alerts: []}}
      - {{eval_time: 15m, alertname: CrcgwControlApiDown, exp_alerts: []}}
{firing_a}
  - interval: 1m
    input_series:
      - series: 'up{{job="crcgw",instance="gw-b"}}'
        values: '1 1 0x10'
    alert_rule_test:
      - {{eval_time: 3m, alertname: CrcgwControlApiDown, exp_alerts: []}}
{firing_b}
"""


def firing(at: str, alert: str, instance: str, value: str) -> str:
    """A promtool expectation: ``alert`` fires at ``at`` for ``instance`` with its annotations
    rendered from the rule's templates (``$value`` as ``value``)."""
    rule = next(r for r in alert_rules() if r["alert"] == alert)
    annotations = {}
    for key, template in rule["annotations"].items():
        text = template.replace("{{ $labels.instance }}", instance)
        annotations[key] = re.sub(r"\{\{ \$value( \| humanize)? \}\}", value, text)
    labels = {**rule["labels"], "job": "crcgw", "instance": instance}
    expected = {"eval_time": at, "alertname": alert,
                "exp_alerts": [{"exp_labels": labels, "exp_annotations": annotations}]}
    return textwrap.indent(yaml.safe_dump([expected], width=1000), "      ")


@needs_promtool
def test_promtool_fires_each_alert_on_its_series(tmp_path: Path) -> None:
    assert PROMTOOL is not None
    tests = tmp_path / "crcgw-alerts.test.yml"
    firing_a = "".join([
        firing("10m", "CrcgwPoolExhausted", "gw-a", ""),
        firing("10m", "CrcgwRoomUnregistered", "gw-a", "1"),
        firing("10m", "CrcgwApiDegraded", "gw-a", "10"),
        firing("15m", "CrcgwCallsRefusedNoPort", "gw-a", "2"),
        firing("15m", "CrcgwCallsFailing", "gw-a", ""),
    ])
    firing_b = firing("6m", "CrcgwControlApiDown", "gw-b", "")
    tests.write_text(UNIT_TESTS.format(rules=json.dumps(str(ALERTS)),
                                       firing_a=firing_a.rstrip("\n"),
                                       firing_b=firing_b.rstrip("\n")))
    result = subprocess.run([PROMTOOL, "test", "rules", str(tests)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
