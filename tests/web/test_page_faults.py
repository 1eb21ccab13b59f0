"""Faults under the status page: the shared PostgreSQL store goes away while ``crcgw serve``
runs. The page still answers (no 500), says which parts it could not read and why, and the
rest (health, rooms) is still shown."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.gateway.pgserver import PgServer, pg_bin_dir
from tests.web.test_page_http import bare_gateway

pytestmark = pytest.mark.postgres


def test_the_page_survives_the_store_going_away(tmp_path: Path) -> None:
    if pg_bin_dir() is None:
        pytest.skip("PostgreSQL binaries not installed (apt-get install postgresql)")
    try:
        server = PgServer()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    server.start()
    token = "fault-token"
    try:
        with bare_gateway(tmp_path, token, store_url=server.url) as base, \
                httpx.Client(base_url=base, timeout=60) as client:
            assert client.post("/status/login", data={"token": token}).status_code == 303
            healthy = client.get("/status/fragment")
            assert healthy.status_code == 200 and "Could not read" not in healthy.text
            assert 'id="pool-free"' in healthy.text
            server.stop()
            deadline = time.monotonic() + 60
            while True:
                broken = client.get("/status/fragment")
                assert broken.status_code == 200, broken.text[:500]
                if "Could not read pool" in broken.text:
                    break
                assert time.monotonic() < deadline, "the page never noticed the store is gone"
                time.sleep(0.5)
            assert "Could not read cdrs" in broken.text
            assert 'class="badge bad">error</span>' in broken.text  # the store's health line
            assert 'id="region-health"' in broken.text and "ready" in broken.text
            page = client.get("/status/")
            assert page.status_code == 200 and "Could not read pool" in page.text
    finally:
        server.stop()
