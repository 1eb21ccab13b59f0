"""api_client overhead: a typed GET (auth flow, retry loop, pydantic validation) beside bare httpx
plus ``json.loads`` against the same loopback server, and validating a page of 300 numbers.

Run: ``.venv/bin/python -m pytest bench/test_bench_api_client.py --benchmark-only``.

Budgets: the typed client within 1.3x of bare httpx for a typical GET (the CRC port figures the
gateway polls, and a 30-device page); a page of 300 phone numbers validated in under 1 ms.

The server is a minimal keep-alive HTTP/1.1 responder on 127.0.0.1, in its own process, that
answers every request with one canned body, so the figures are the clients' own cost, not a web
framework's.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from api_client import ZoomClient, ZoomCredentials, clear_token_cache
from api_client.models import PhoneNumberPage

pytestmark = pytest.mark.benchmark(group="api_client")

PORTS = json.dumps({"ports_allocated": 10, "ports_in_use": 3, "ports_available": 7}).encode()
DEVICES = json.dumps({
    "page_size": 30, "total_records": 30, "next_page_token": "",
    "devices": [{"id": f"dev{i:04d}", "name": f"Room {i}", "protocol": "H.323",
                 "ip": f"10.0.{i // 250}.{i % 250}", "encryption": "auto"} for i in range(30)],
}).encode()
TOKEN = json.dumps({"access_token": "bench-token", "token_type": "bearer",
                    "expires_in": 3600}).encode()
NUMBERS = json.dumps({
    "next_page_token": "", "page_size": 300, "total_records": 300,
    "phone_numbers": [
        {"id": f"num_{i:05d}", "phone_number": f"+1415555{i:04d}", "status": "active",
         "type": "local", "capabilities": ["voice", "sms"], "country": "US", "state": "CA",
         "city": "San Francisco", "site_id": "site_abc",
         "assignee": {"type": "user", "id": f"user_{i}", "name": f"User {i}"}}
        for i in range(300)
    ],
}).encode()


def _response(body: bytes) -> bytes:
    head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n")
    return head.encode() + body


class CannedServer:
    """Keep-alive HTTP/1.1 on a free loopback port; routes by path prefix, one thread a client."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self._answers = {
            "/oauth/token": _response(TOKEN),
            "/v2/h323/devices": _response(DEVICES),
            "/v2/accounts": _response(PORTS),
        }
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._client, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _client(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = b""
        with conn:
            while not self._stop.is_set():
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, rest = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(rest) < length:
                    rest += conn.recv(65536)
                buffer = rest[length:]
                path = head.split(b" ", 2)[1].decode()
                answer = next(a for p, a in self._answers.items() if path.startswith(p))
                conn.sendall(answer)

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        for thread in self._threads:
            thread.join(1)


def serve_forever() -> None:
    """Entry point of the server process: print the port, serve until terminated."""
    canned = CannedServer()
    sys.stdout.write(f"{canned.port}\n")
    sys.stdout.flush()
    threading.Event().wait()


class ServerProcess:
    """The canned server in its own process, so that it never competes with the clients for
    the GIL (in-process server threads made the ratios swing with the GIL switch interval)."""

    def __init__(self) -> None:
        root = Path(__file__).resolve().parents[1]
        self._proc = subprocess.Popen(
            [sys.executable, "-c",
             "from bench.test_bench_api_client import serve_forever; serve_forever()"],
            cwd=root, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
        )
        assert self._proc.stdout is not None
        self.port = int(self._proc.stdout.readline())

    def close(self) -> None:
        self._proc.terminate()
        self._proc.wait(10)
        if self._proc.stdout is not None:
            self._proc.stdout.close()


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    process = ServerProcess()
    yield process
    process.close()


@pytest.fixture
def typed(server: ServerProcess) -> Iterator[ZoomClient]:
    clear_token_cache()
    creds = ZoomCredentials("acct", "client", "secret",
                            base_url=f"http://127.0.0.1:{server.port}/v2")
    with ZoomClient(creds) as client:
        client.crc.ports()  # token fetched and connection open before timing
        yield client


@pytest.fixture
def bare(server: ServerProcess) -> Iterator[Callable[[str], object]]:
    base = f"http://127.0.0.1:{server.port}/v2"
    headers = {"Authorization": "Bearer bench-token", "Accept": "application/json"}
    with httpx.Client(base_url=base, headers=headers) as client:
        def get(path: str) -> object:
            response = client.get(path)
            response.raise_for_status()
            return json.loads(response.content)

        get("/accounts/acct/crc/ports")
        yield get


def test_bare_httpx_get_ports(benchmark, bare) -> None:  # type: ignore[no-untyped-def]
    """Bare httpx GET + json.loads of the CRC port figures."""
    result = benchmark(bare, "/accounts/acct/crc/ports")
    assert result["ports_in_use"] == 3  # type: ignore[index]


def test_typed_client_get_ports(benchmark, typed: ZoomClient) -> None:  # type: ignore[no-untyped-def]
    """Typed ``client.crc.ports()``: OAuth flow, retry loop, pydantic model."""
    result = benchmark(typed.crc.ports)
    assert result.ports_available == 7


def test_bare_httpx_get_device_page(benchmark, bare) -> None:  # type: ignore[no-untyped-def]
    result = benchmark(bare, "/h323/devices?page_size=30")
    assert len(result["devices"]) == 30  # type: ignore[index]


def test_typed_client_get_device_page(benchmark, typed: ZoomClient) -> None:  # type: ignore[no-untyped-def]
    page = benchmark(typed.h323_devices.list_page, {"page_size": 30})
    assert len(page.devices) == 30


def _interleaved_ratio(typed_call: Callable[[], object], bare_call: Callable[[], object],
                       rounds: int = 60, batch: int = 30) -> tuple[float, float, float]:
    """Time per request of each, measured in alternating batches so that both see the same
    machine, as the best batch of each (the machine is shared: noise only ever adds time), and
    their ratio."""
    typed_times, bare_times = [], []
    for _ in range(rounds):
        for calls, out in ((bare_call, bare_times), (typed_call, typed_times)):
            start = time.perf_counter()
            for _ in range(batch):
                calls()
            out.append((time.perf_counter() - start) / batch)
    t, b = min(typed_times), min(bare_times)
    return t, b, t / b


@pytest.mark.parametrize("what", ["ports", "device_page"])
def test_typed_over_bare_ratio(benchmark, typed: ZoomClient, bare, what: str) -> None:  # type: ignore[no-untyped-def]
    """The headline: typed/bare time per request, interleaved in one run; target <= 1.3."""
    if what == "ports":
        pair = (typed.crc.ports, lambda: bare("/accounts/acct/crc/ports"))
    else:
        pair = (lambda: typed.h323_devices.list_page({"page_size": 30}),
                lambda: bare("/h323/devices?page_size=30"))
    t, b, ratio = benchmark.pedantic(_interleaved_ratio, args=pair, rounds=1, iterations=1)
    benchmark.extra_info.update(typed_us=round(t * 1e6, 1), bare_us=round(b * 1e6, 1),
                                ratio=round(ratio, 3))
    print(f"\n{what}: typed {t * 1e6:.1f} us, bare {b * 1e6:.1f} us, ratio {ratio:.3f}")
    assert ratio <= 1.3


def test_validate_page_of_300_numbers(benchmark) -> None:  # type: ignore[no-untyped-def]
    """pydantic-core parses and validates a 300-number page (budget: under 1 ms, judged on the
    fastest round because the machine is shared; the table shows the median too)."""
    page = benchmark(PhoneNumberPage.model_validate_json, NUMBERS)
    assert len(page.phone_numbers) == 300
    print(f"\n300 numbers: min {benchmark.stats.stats.min * 1e3:.3f} ms, "
          f"median {benchmark.stats.stats.median * 1e3:.3f} ms")
    assert benchmark.stats.stats.min < 1e-3
