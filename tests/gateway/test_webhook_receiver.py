"""gateway.webhook.WebhookReceiver in-process (ASGI): unknown devices are looked up off the
request and the pool hears about the change; the secret never shows."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.routing import Route

from api_client.webhooks import sign
from gateway.live_usage import LiveUsage
from gateway.webhook import WebhookReceiver

SECRET = "receiver-secret"


def notification(pid: str, **participant: str) -> bytes:
    return json.dumps({"event": "meeting.participant_joined", "event_ts": 1, "payload": {
        "object": {"id": "85746065432", "uuid": "m==", "participant": {
            "user_id": pid, "participant_uuid": pid, **participant}}}}).encode()


def test_unknown_devices_are_resolved_after_the_answer() -> None:
    looked_up: list[str] = []
    changes: list[int] = []
    live = LiveUsage()

    async def resolver(meeting: str) -> set[str]:
        looked_up.append(meeting)
        await asyncio.sleep(0.05)
        return {"room-1"}

    async def changed() -> None:
        changes.append(live.in_use())

    receiver = WebhookReceiver(SecretStr(SECRET), live, changed, resolver=resolver)
    app = Starlette(routes=[Route("/zoom/webhook", receiver.handle, methods=["POST"])])

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
            for pid in ("room-1", "laptop-1"):
                body = notification(pid)
                now = str(int(time.time()))
                answer = await http.post("/zoom/webhook", content=body, headers={
                    "x-zm-request-timestamp": now, "x-zm-signature": sign(SECRET, now, body)})
                assert answer.status_code == 200 and answer.json()["changed"] is False
            await receiver.settle()

    asyncio.run(main())
    assert looked_up and set(looked_up) == {"85746065432"}
    assert live.in_use() == 1 and changes[-1] == 1 and not live.pending()
    assert SECRET not in repr(receiver)
