"""``crcgw serve``'s redirects leave call detail records: raw SIP INVITEs at the running
gateway's redirect listener, the records read back through ``GET /cdrs``."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx

from gateway.peers.kamailio import Kamailio
from tests.daemon.conftest import TOKEN, gateway_config, running_gateway
from tests.gateway.sipclient import UdpClient, address, exchange, invite

MEETING = "82419374650"
PASSCODE = "917364"


async def _redirect_cdrs(api: httpx.AsyncClient, count: int) -> dict[str, dict[str, Any]]:
    """The redirect records once there are ``count`` of them (fails after 15 s)."""
    deadline = time.monotonic() + 15
    while True:
        answer = await api.get("/cdrs", params={"limit": 50})
        assert answer.status_code == 200, answer.text
        records = {c["call_id"]: c for c in answer.json()["cdrs"]
                   if c["direction"] == "redirect"}
        if len(records) >= count:
            return records
        assert time.monotonic() < deadline, answer.json()
        await asyncio.sleep(0.1)


def test_each_redirect_and_refusal_has_a_record_without_the_passcode(
    tmp_path: Path, registrar: Kamailio
) -> None:
    async def run() -> None:
        async with running_gateway(gateway_config(tmp_path, registrar)) as gw:
            server = address(gw.listening[0])
            client = UdpClient()
            try:
                sent = {
                    "moved": f"{MEETING}*{PASSCODE}",  # meeting and passcode: 302
                    "unknown": "alice",  # no dial-plan rule: 404
                }
                statuses = {}
                for call_id, user in sent.items():
                    replies = await exchange(client, invite(user, client.port, call_id=call_id),
                                             server)
                    statuses[call_id] = replies[-1].status
                assert statuses == {"moved": 302, "unknown": 404}
            finally:
                client.close()
            headers = {"Authorization": f"Bearer {TOKEN}"}
            async with httpx.AsyncClient(base_url=f"http://{gw.http_address}", timeout=30,
                                         headers=headers) as api:
                records = await _redirect_cdrs(api, 2)
                text = (await api.get("/cdrs", params={"limit": 50})).text
        moved, unknown = records["redirect:moved"], records["redirect:unknown"]
        assert (moved["outcome"], moved["sip_code"]) == ("redirected", 302)
        assert moved["target"] == f"{MEETING}@zoomcrc.com"
        assert moved["room"] == "room1"  # the caller (From user)
        assert moved["ended_at"] is not None
        assert (unknown["outcome"], unknown["sip_code"], unknown["target"]) == (
            "no-route", 404, "")
        assert PASSCODE not in text  # never stored, never shown

    asyncio.run(run())
