"""The status page's speed against a running ``crcgw serve`` (one room, one live call):
server time for the whole page and for the fragment the page polls, and Chromium's first
contentful paint of the page on loopback.

Run: ``.venv/bin/python -m pytest bench/test_bench_status_page.py --benchmark-only -s``.

Budget: first contentful paint under 200 ms (median of 10 loads); the script prints it.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.web.conftest import TOKEN, Served, served  # noqa: F401 - the fixture

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
pytestmark = pytest.mark.benchmark(group="status_page")


@pytest.fixture(scope="module")
def with_call(served: Served) -> Iterator[tuple[Served, httpx.Client]]:  # noqa: F811
    call_id = served.start_call()
    client = httpx.Client(base_url=served.base, timeout=20)
    assert client.post("/status/login", data={"token": TOKEN}).status_code == 303
    try:
        yield served, client
    finally:
        client.close()
        httpx.delete(f"{served.base}/calls/{call_id}", timeout=20,
                     headers={"Authorization": f"Bearer {TOKEN}"})


def test_page(benchmark: Any, with_call: tuple[Served, httpx.Client]) -> None:
    _, client = with_call
    response = benchmark(client.get, "/status/")
    assert response.status_code == 200 and "live-call" in response.text


def test_fragment(benchmark: Any, with_call: tuple[Served, httpx.Client]) -> None:
    _, client = with_call
    response = benchmark(client.get, "/status/fragment")
    assert response.status_code == 200 and "live-call" in response.text


@pytest.mark.skipif(not os.path.exists(CHROMEDRIVER), reason="chromium-driver is not installed")
def test_first_contentful_paint(with_call: tuple[Served, httpx.Client]) -> None:
    from selenium import webdriver

    served_, _ = with_call
    profile = tempfile.mkdtemp(prefix="crcgw-chromium.")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", "--window-size=1280,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        driver.get(f"{served_.base}/status/login")
        driver.find_element("id", "token").send_keys(TOKEN)
        driver.find_element("id", "login-button").click()
        paints = []
        for n in range(10):
            driver.get(f"{served_.base}/status/?load={n}")
            paint = None
            for _ in range(50):  # the entry may come just after the load event
                paint = driver.execute_script(
                    "const p = performance.getEntriesByName('first-contentful-paint');"
                    "return p.length ? p[0].startTime : null;")
                if paint is not None:
                    break
                time.sleep(0.05)
            paints.append(paint)
        assert all(p is not None for p in paints), paints
        median = statistics.median(paints)
        print(f"\nfirst contentful paint: median {median:.0f} ms, "
              f"min {min(paints):.0f}, max {max(paints):.0f} (10 loads)")
        assert median < 200
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
