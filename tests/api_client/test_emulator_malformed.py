"""Every Zoom route of the emulator, fed malformed requests over real HTTP: Zoom's error body
(``{"code", "message"}``) and a 4xx, never a 500 or a traceback."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.routing import Route

from api_client.emulator import EmulatorServer

BODIES: list[tuple[str, bytes, str]] = [
    ("not-json", b"{not json", "application/json"),
    ("array", b"[1, 2, 3]", "application/json"),
    ("wrong-types", b'{"name": 5, "protocol": [], "page_size": "x", "params": 7,'
                    b' "ports_allocated": -1, "enable": "maybe", "phone_numbers": "x"}',
     "application/json"),
    ("binary", b"\xff\xfe\x00\x01", "application/octet-stream"),
    ("broken-multipart", b"--b\r\nno-headers", "multipart/form-data; boundary=b"),
]


def _fill(path: str) -> str:
    values = {"meeting_id": "85746065432", "account_id": "me"}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x-unknown"), path)


@pytest.mark.parametrize(("name", "body", "content_type"), BODIES, ids=[b[0] for b in BODIES])
def test_no_route_answers_500(
    emulator: EmulatorServer, name: str, body: bytes, content_type: str
) -> None:
    token = httpx.post(emulator.base_url + "/oauth/token",
                       params={"grant_type": "account_credentials", "account_id": "me"},
                       auth=("c", "s")).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
    checked = 0
    with httpx.Client(base_url=emulator.base_url, headers=headers, timeout=10) as http:
        for route in emulator.app.routes:
            if not isinstance(route, Route) or not route.path.startswith("/v2/"):
                continue
            if route.path.startswith("/v2/_emulator/calls"):
                continue  # the control API may legitimately start calls from valid bodies
            for method in sorted((route.methods or set()) - {"HEAD"}):
                answer = http.request(method, _fill(route.path), content=body,
                                      params={"page_size": "abc", "from": "x", "to": "y"})
                checked += 1
                where = f"{method} {route.path} ({name})"
                assert answer.status_code < 500, f"{where}: {answer.status_code} {answer.text}"
                assert "Traceback" not in answer.text, where
                if answer.status_code >= 400:
                    error = answer.json()
                    assert isinstance(error.get("code"), int) and error.get("message"), where
    assert checked > 40


@pytest.mark.parametrize(("name", "body", "content_type"), BODIES, ids=[b[0] for b in BODIES])
def test_portsip_routes_answer_portsip_errors(
    emulator: EmulatorServer, name: str, body: bytes, content_type: str
) -> None:
    refused = httpx.post(emulator.portsip_url + "/login/oauth/token", content=body,
                         headers={"Content-Type": content_type})
    assert refused.status_code in (400, 401), refused.text
    assert refused.json()["errors"][0]["code"]
    token = httpx.post(emulator.portsip_url + "/login/oauth/token",
                       data={"grant_type": "password", "username": "admin",
                             "password": "admin"}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
    with httpx.Client(base_url=emulator.base_url, headers=headers, timeout=10) as http:
        for route in emulator.app.routes:
            if not isinstance(route, Route) or not route.path.startswith("/api/"):
                continue
            for method in sorted((route.methods or set()) - {"HEAD"}):
                answer = http.request(method, _fill(route.path), content=body,
                                      params={"top": "abc", "skip": "-1"})
                where = f"{method} {route.path} ({name})"
                assert answer.status_code < 500, f"{where}: {answer.status_code} {answer.text}"
                if answer.status_code >= 400:
                    assert answer.json()["errors"][0]["code"], where
