"""The status page over plain HTTP against a running ``crcgw serve``: who may read, who may
change, what a forged or stale request gets, what the page never shows, and the filters."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from api_client.emulator import meeting_passcode
from gateway.peers.process import free_port, stop_process
from tests.gateway.sipclient import UdpClient, ack_for, address, invite
from tests.web.conftest import MEETING, READ_TOKEN, ROOM, TOKEN, Served


@contextlib.contextmanager
def session(served: Served, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.base, timeout=20) as client:
        opened = client.post("/status/login", data={"token": token})
        assert opened.status_code == 303, opened.text
        cookie = opened.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/status/" in cookie
        assert token not in opened.headers["set-cookie"]
        yield client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html[:2000]
    return found.group(1)


def test_reads_need_a_session(served: Served) -> None:
    with httpx.Client(base_url=served.base, timeout=20) as anonymous:
        page = anonymous.get("/status/")
        assert page.status_code == 303 and page.headers["location"] == "/status/login"
        assert anonymous.get("/status/fragment").status_code == 401
        assert anonymous.get("/status").status_code == 308
        login = anonymous.get("/status/login")
        assert login.status_code == 200 and 'type="password"' in login.text
        assert "default-src 'none'" in login.headers["content-security-policy"]
        assert anonymous.post("/status/login", data={"token": "wrong"}).status_code == 401
        forged = anonymous.post("/status/login", data={"token": TOKEN},
                                headers={"Origin": "http://evil.example"})
        assert forged.status_code == 400 and "set-cookie" not in forged.headers
    with session(served, READ_TOKEN) as reader:
        page = reader.get("/status/")
        assert page.status_code == 200
        assert ROOM in page.text and "read-only" in page.text
        fragment = reader.get("/status/fragment")
        assert fragment.status_code == 200 and 'id="region-rooms"' in fragment.text
        assert "<html" not in fragment.text
        asset = reader.get("/status/static/status.js")
        assert asset.status_code == 200 and "javascript" in asset.headers["content-type"]
        # every asset comes from crcgw itself: no CDN, no other host
        links = re.findall(r'(?:src|href|action)="([^"]*)"', page.text)
        assert links and all(link.startswith(("/status/", "#", "data:")) for link in links), links
        for link in links:
            if link.startswith("/status/static/"):
                assert reader.get(link).status_code == 200, link


def test_changes_need_session_csrf_origin_and_the_change_token(served: Served) -> None:
    call_id = served.start_call()
    try:
        with session(served, READ_TOKEN) as reader:
            confirm = reader.get("/status/confirm", params={"action": "hangup", "id": call_id})
            assert confirm.status_code == 200 and 'name="token"' in confirm.text
            assert meeting_passcode(MEETING) not in confirm.text
            csrf = csrf_of(confirm.text)
            url = f"/status/calls/{call_id}/hangup"
            refused = [
                reader.post(url, data={"token": TOKEN}),                     # no CSRF token
                reader.post(url, data={"csrf": "x" + csrf, "token": TOKEN}),  # a wrong one
                reader.post(url, data={"csrf": csrf, "token": TOKEN},        # another site
                            headers={"Origin": "http://evil.example"}),
                reader.post(url, data={"csrf": csrf}),                       # read-only session
                reader.post(url, data={"csrf": csrf, "token": READ_TOKEN}),
            ]
            assert [r.status_code for r in refused] == [403] * 5
            assert "Refused" in refused[-1].text
            assert httpx.post(f"{served.base}{url}", data={"csrf": csrf, "token": TOKEN},
                              timeout=20).status_code == 401  # no session cookie
            assert call_id in served.live_calls()
            done = reader.post(url, data={"csrf": csrf, "token": TOKEN})
            assert done.status_code == 303
            served.wait(lambda: call_id not in served.live_calls(), "the call to end")
            assert call_id in reader.get("/status/").text  # in the flash and the records
    finally:
        httpx.delete(f"{served.base}/calls/{call_id}", timeout=20,
                     headers={"Authorization": f"Bearer {TOKEN}"})


def test_reregister_a_room_and_unknown_targets(served: Served) -> None:
    with session(served, TOKEN) as admin:
        confirm = admin.get("/status/confirm", params={"action": "register", "id": ROOM})
        assert confirm.status_code == 200 and 'name="token"' not in confirm.text
        csrf = csrf_of(confirm.text)
        done = admin.post(f"/status/rooms/{ROOM}/register", data={"csrf": csrf})
        assert done.status_code == 303
        assert f"Room {ROOM} registering again" in admin.get("/status/").text
        missing = admin.post("/status/calls/gw-nope/hangup", data={"csrf": csrf})
        assert missing.status_code == 303
        assert "Not done (404)" in admin.get("/status/").text
        assert admin.get("/status/confirm", params={"action": "drop"}).status_code == 400
        out = admin.post("/status/logout", data={"csrf": csrf})
        assert out.status_code == 303
        assert admin.get("/status/").status_code == 303  # the session is gone


def test_recent_redirects_show_without_the_passcode(served: Served) -> None:
    listen = httpx.get(f"{served.base}/readyz", timeout=20).json()["sip_listen"]
    server = address(next(a for a in listen if a.startswith("udp://")))

    async def dial() -> int:
        client = UdpClient()
        try:
            request = invite("87654321012*7777", client.port)
            await client.send(request, server)
            replies = await client.replies(final_within=20.0)
            final = replies[-1]
            await client.send(ack_for(request, final.raw), server)
            return final.status
        finally:
            client.close()

    status = asyncio.run(dial())
    assert status == 302
    with session(served, READ_TOKEN) as reader:
        text = reader.get("/status/fragment").text
    region = text[text.index('id="region-redirects"'):]
    assert "87654321012@zoomcrc.com" in region and ">302<" in region
    assert "7777" not in text


def test_record_filters(served: Served) -> None:
    call_id = served.start_call()
    hung = httpx.delete(f"{served.base}/calls/{call_id}", timeout=20,
                        headers={"Authorization": f"Bearer {TOKEN}"})
    assert hung.status_code == 200
    with session(served, READ_TOKEN) as reader:
        def rows(**params: str) -> list[str]:
            text = reader.get("/status/fragment", params=params).text
            return re.findall(r'<tr id="cdr-([^"]+)"', text)

        assert call_id in rows()
        assert call_id in rows(room=ROOM, outcome="connected")
        assert call_id not in rows(outcome="busy")
        assert rows(room="no-such-room") == []
        assert call_id in rows(outcome="not-an-outcome")  # ignored, not an error


@contextlib.contextmanager
def bare_gateway(tmp_path: Path, token: str | None, store_url: str | None = None
                 ) -> Iterator[str]:
    """``crcgw serve`` with no configuration file (embedded defaults, no room), with the
    change token ``token`` or none at all, and the store at ``store_url`` (default SQLite)."""
    port = free_port()
    env = {**os.environ, "CRCGW_DATA_DIR": str(tmp_path / "data")}
    env.pop("CRCGW_HTTP__TOKEN_ENV", None)
    if token is not None:
        env.update(CRCGW_HTTP__TOKEN_ENV="PAGE_TOKEN", PAGE_TOKEN=token)
    if store_url is not None:
        env["CRCGW_STORE__URL"] = store_url
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--http", f"127.0.0.1:{port}",
             "--sip", "127.0.0.1:0"], env=env, stdout=subprocess.DEVNULL, stderr=sink)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "crcgw serve did not become ready"
            time.sleep(0.2)
        yield base
    finally:
        stop_process(process, timeout=30)


def test_without_any_token_the_page_is_open_and_read_only(tmp_path: Path) -> None:
    with bare_gateway(tmp_path, None) as open_gateway:
        check_open(open_gateway)


def check_open(open_gateway: str) -> None:
    page = httpx.get(f"{open_gateway}/status/", timeout=20)
    assert page.status_code == 200
    assert "no token configured" in page.text and "No room is configured" in page.text
    assert 'id="hangup-' not in page.text
    refused = httpx.post(f"{open_gateway}/status/rooms/x/register", data={}, timeout=20)
    assert refused.status_code == 401 and "Changes are disabled" in refused.text


def test_guessing_tokens_is_throttled(tmp_path: Path) -> None:
    token = "page-token-" + os.urandom(8).hex()
    with bare_gateway(tmp_path, token) as base, httpx.Client(base_url=base, timeout=20) as guesser:
        codes = [guesser.post("/status/login", data={"token": f"guess-{n}"}).status_code
                 for n in range(12)]
        assert codes[:3] == [401] * 3 and codes[-1] == 429
        assert guesser.post("/status/login", data={"token": token}).status_code == 429


def test_hostile_input_gets_a_clear_answer_never_a_500(served: Served) -> None:
    with session(served, TOKEN) as admin:
        shown = admin.get("/status/confirm",
                          params={"action": "hangup", "id": "<script>alert(1)</script>"})
        assert shown.status_code == 200
        assert "<script>alert" not in shown.text and "&lt;script&gt;" in shown.text
        url = "/status/calls/gw-x/hangup"
        bodies = [b"\xff\xfe\x00garbage", b"csrf=" + b"a" * 20000,
                  b"&".join(b"f%d=1" % n for n in range(50))]
        for body in bodies:
            answer = admin.post(url, content=body,
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert answer.status_code == 403, (body[:20], answer.status_code)
        weird = admin.get("/status/", params={"room": "'\"><b>x", "outcome": "\x00"})
        assert weird.status_code == 200 and "<b>x" not in weird.text
