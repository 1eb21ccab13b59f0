"""A misbehaving network makes ``crcgw test-dial`` fail with clear verdicts: the stand-in
meeting and crcgw run inside a network namespace whose loopback loses, delays and bunches up
media packets (:mod:`tests.testdial.impair`). Loopback only; the namespace is always deleted."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import pytest

from tests.testdial.conftest import MEETING, run_crcgw, stage, verdict
from tests.testdial.impair import ImpairedNamespace, impairment_unavailable

pytestmark = pytest.mark.slow


@pytest.fixture
def impaired() -> Iterator[ImpairedNamespace]:
    reason = impairment_unavailable()
    if reason is not None:
        pytest.skip(reason)
    namespace = ImpairedNamespace()
    try:
        namespace.start()
    except subprocess.CalledProcessError as exc:
        namespace.stop()
        pytest.skip(f"cannot set up the namespace: {exc.stderr.strip()}")
    yield namespace
    namespace.stop()
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert namespace.name not in listed


def test_loss_and_jitter_fail_the_verdicts_and_the_exit_code(impaired: ImpairedNamespace) -> None:
    run = run_crcgw(["test-dial", MEETING, "--embedded", "--duration", "5s", "--json"],
                    prefix=impaired.prefix)
    stats = impaired.stats()
    assert run.code == 1, run.stderr + run.stdout
    report = run.json()
    assert report["ok"] is False
    # signalling is not impaired: the call is set up, joined and hung up normally
    for name in ("invite_200", "bye"):
        assert stage(report, name)["status"] == "ok", (impaired.method, report["stages"])
    assert stage(report, "media")["status"] == "ok"  # media flows, badly
    media = report["media"]
    assert media["lost"] > 0 and media["loss_pct"] > 5, (impaired.method, media, stats)
    for metric in ("loss_pct", "jitter_ms", "mos"):
        assert verdict(report, metric)["status"] == "fail", (impaired.method, media, stats)
    assert media["mos"] < 3.6 and media["jitter_ms"] > 30
    for metric in ("setup_ms", "dns_ms", "packets"):
        assert verdict(report, metric)["status"] == "pass"
    if "netem" not in impaired.method:  # the black-hole class really dropped packets
        dropped = re.search(r"class htb 1:30 .*?dropped (\d+)", stats, re.S)
        assert dropped is not None and int(dropped.group(1)) > 0, stats
