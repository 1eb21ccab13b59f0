"""Fixtures of the ``crcgw test-dial`` tests: the command run as a child process (it owns a
pjsua2 engine, one per process), a private Kamailio with a registered baresip, and helpers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Baresip, Kamailio, baresip_available, kamailio_available

REPO = Path(__file__).resolve().parents[2]
MEETING = "82419374650"


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        data = json.loads(self.stdout)
        assert isinstance(data, dict)
        return data


def crcgw_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "gateway", *args]


def run_crcgw(
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    timeout: float = 120.0,
    prefix: Sequence[str] = (),
) -> Run:
    """``crcgw ARGS`` in a child process (optionally under ``prefix``, e.g. ``ip netns exec``)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CRCGW_")}
    environ.update(env or {})
    environ["PYTHONPATH"] = str(REPO)
    proc = subprocess.run(
        [*prefix, *crcgw_argv(*args)], capture_output=True, text=True, timeout=timeout,
        env=environ, cwd=REPO, stdin=subprocess.DEVNULL, check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def stage(report: Mapping[str, Any], name: str) -> dict[str, Any]:
    found = [s for s in report["stages"] if s["name"] == name]
    assert len(found) == 1, report["stages"]
    result = found[0]
    assert isinstance(result, dict)
    return result


def verdict(report: Mapping[str, Any], metric: str) -> dict[str, Any]:
    found = [v for v in report["verdicts"] if v["metric"] == metric]
    assert len(found) == 1, (metric, report["verdicts"])
    result = found[0]
    assert isinstance(result, dict)
    return result


@dataclass(frozen=True)
class Pbx:
    kamailio: Kamailio
    bob: Baresip


@pytest.fixture(scope="module")
def pbx() -> Iterator[Pbx]:
    """Kamailio (users alice and bob) with baresip registered as bob over UDP, auto-answering."""
    if not (kamailio_available() and baresip_available()):
        pytest.skip("kamailio (with TLS modules) or baresip-core not installed")
    with Kamailio(users={"alice": "alicepw", "bob": "bobpw"}) as kam:
        with Baresip("bob", "bobpw", registrar=kam.address("udp")) as bob:
            assert bob.wait_registered(), bob.log_tail()
            yield Pbx(kam, bob)
