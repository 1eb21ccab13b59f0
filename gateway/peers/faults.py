"""Fault injection around a running ``crcgw serve``: a TCP proxy that stalls or refuses, a
process that locks the store, a file-size limit on the daemon, and a sampler of live calls.

:class:`ChaosRig` starts the pieces on loopback with free ports: the API emulator as its own
process (``crcgw emulator``), a :class:`FaultProxy` in front of it for the daemon only, and
``crcgw serve`` on the embedded defaults (SQLite store in its data directory, the stand-in
connector answering the calls and reporting them to the emulator directly). A room registers
at the caller's Kamailio. :func:`run_fault` injects one fault while calls are up and returns
what held (:class:`FaultResult`); the tests in ``tests/daemon/test_pool_faults.py`` and
``bench/chaos_pool.py`` use it. Every process is our child, stopped by its PID.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import httpx
import yaml

from api_client import ZoomClient
from api_client.clients import ZoomCredentials
from api_client.emulator import meeting_passcode
from gateway.peers.process import die_with_parent, free_port, port_accepts, stop_process

__all__ = ["FAULTS", "ChaosRig", "FaultProxy", "FaultResult", "Sampler", "StoreLocker",
           "run_fault"]

Mode = Literal["pass", "stall", "refuse"]
FAULTS = ("api-hung", "api-refusing", "store-locked", "store-full")
MEETING = "82419374650"
ACCOUNT = "emulator-account"


class FaultProxy:
    """A loopback TCP proxy to ``127.0.0.1:target`` on its own thread. ``mode``: ``pass``
    forwards, ``stall`` accepts and forwards nothing either way (a hung server), ``refuse``
    closes the listener and every connection (connection refused)."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = free_port(udp=False)
        self.mode: Mode = "pass"
        self._loop = asyncio.new_event_loop()
        self._flowing = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="fault-proxy")

    def start(self) -> Self:
        self._thread.start()
        self._call(self._set("pass"))
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _shutdown(self) -> None:
        await self._set("refuse")
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def set_mode(self, mode: Mode) -> None:
        self._call(self._set(mode))

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _set(self, mode: Mode) -> None:
        self.mode = mode
        if mode == "refuse":
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()
                self._server = None
            for writer in list(self._writers):
                writer.transport.abort()
            self._writers.clear()
            self._flowing.clear()
            return
        if self._server is None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port,
                                                      reuse_address=True)
        if mode == "pass":
            self._flowing.set()
        else:
            self._flowing.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.transport.abort()
            self._writers.discard(writer)
            return
        self._writers.add(up_writer)
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer),
                             return_exceptions=True)
        for w in (writer, up_writer):
            self._writers.discard(w)
            w.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await self._flowing.wait()
            data = await reader.read(65536)
            if not data:
                break
            await self._flowing.wait()
            writer.write(data)
            await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()


_LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


class StoreLocker:
    """Another process that holds ``BEGIN EXCLUSIVE`` on a SQLite file until :meth:`release`."""

    def __init__(self, path: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _LOCKER, str(path)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, preexec_fn=die_with_parent(signal.SIGKILL),
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "locked":
            self.release()
            raise RuntimeError("the locker could not lock the store")

    def release(self) -> None:
        if self.process.poll() is None and self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.write("\n")
                self.process.stdin.flush()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


@dataclass
class Sample:
    t: float
    live: int | None
    leased: int | None
    in_use: int | None


class Sampler:
    """Samples, every ``interval`` s, the daemon's live calls (``GET /calls``), its leases
    (``GET /ports``) and the ports the API sees in use (the stand-in's reports)."""

    def __init__(self, rig: ChaosRig, interval: float = 0.2) -> None:
        self.rig = rig
        self.interval = interval
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="sampler")

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        with httpx.Client(base_url=self.rig.base, timeout=3) as http:
            while not self._stop.wait(self.interval):
                live = leased = in_use = None
                with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                    live = len(http.get("/calls").json()["calls"])
                with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                    leased = int(http.get("/ports").json()["leased"])
                with contextlib.suppress(Exception):
                    in_use = self.rig.api_in_use()
                self.samples.append(Sample(time.monotonic(), live, leased, in_use))

    def max(self, name: str) -> int:
        values = [getattr(s, name) for s in self.samples if getattr(s, name) is not None]
        return max(values, default=0)


class ChaosRig:
    """Emulator process, fault proxy and ``crcgw serve`` (see the module docstring).
    ``registrar``: a running :class:`~gateway.peers.kamailio.Kamailio` that knows ``room``."""

    def __init__(
        self, workdir: Path, registrar: Any, room: str, room_password: str, *,
        pool: int = 2, stale_after: float = 300.0, lease_ttl: float = 4.0,
        busy_timeout: float = 1.0, api_deadline: float = 1.5,
    ) -> None:
        self.workdir = workdir
        self.registrar = registrar
        self.room = room
        self.pool = pool
        self.token = os.urandom(12).hex()
        root = str(Path(__file__).resolve().parents[2])  # the children run this checkout
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        self.env = {**os.environ, "CRCGW_TOKEN": self.token, "ROOM_PASSWORD": room_password,
                    "ZOOM_SECRET": "chaos-secret", "PYTHONPATH": path}
        self.stale_after = stale_after
        self.lease_ttl = lease_ttl
        self.busy_timeout = busy_timeout
        self.api_deadline = api_deadline
        self.emulator: subprocess.Popen[bytes] | None = None
        self.proxy: FaultProxy | None = None
        self.serve: subprocess.Popen[bytes] | None = None
        self.http_port = free_port(udp=False)
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.log_path = workdir / "serve.log"
        self.data = workdir / "data"
        self._zoom: ZoomClient | None = None
        self._last_ready = "no answer"
        self._nudge = 0.0

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def store_path(self) -> Path:
        return self.data / "crcgw.sqlite3"

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        api_port = free_port(udp=False)
        with open(self.workdir / "emulator.log", "ab") as log:
            self.emulator = subprocess.Popen(
                [sys.executable, "-m", "gateway", "emulator", "--port", str(api_port),
                 "--ports-allocated", str(self.pool)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env,
                preexec_fn=die_with_parent(signal.SIGKILL),
            )
        deadline = time.monotonic() + 30
        while not port_accepts("127.0.0.1", api_port):
            if self.emulator.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start")
            time.sleep(0.1)
        self.api_url = f"http://127.0.0.1:{api_port}/v2"
        self._zoom = ZoomClient(ZoomCredentials(ACCOUNT, "chaos", "chaos", base_url=self.api_url))
        self.proxy = FaultProxy(api_port).start()
        config = self.workdir / "crcgw.yaml"
        config.write_text(yaml.safe_dump({
            "data_dir": str(self.data),
            "instance_id": "chaos",
            "rooms": [{"name": self.room, "registrar": self.registrar.address("udp"),
                       "user": self.room, "password_env": "ROOM_PASSWORD"}],
            "sip": {"listen": ["udp://127.0.0.1:0"]},
            "http": {"bind": f"127.0.0.1:{self.http_port}", "token_env": "CRCGW_TOKEN"},
            "ports": {"lease_ttl": self.lease_ttl, "heartbeat_interval": self.lease_ttl / 4,
                      "reconcile_interval": 1.0, "api_deadline": self.api_deadline,
                      "stale_after": self.stale_after},
            "store": {"busy_timeout": self.busy_timeout},
            "zoom": {"account_id": ACCOUNT, "client_id": "crcgw-chaos",
                     "client_secret_env": "ZOOM_SECRET",
                     "base_url": f"http://127.0.0.1:{self.proxy.port}/v2"},
        }))
        self.config_path = config
        self.start_serve()

    def start_serve(self) -> None:
        """Start ``crcgw serve`` (again) on the rig's configuration; wait until it is ready."""
        self.serve = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--config", str(self.config_path),
             "--standin-emulator", self.api_url],
            env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, preexec_fn=die_with_parent(signal.SIGKILL),
        )
        self._nudge = time.monotonic() + 15
        # Drained into a file from here: a file-size limit on the daemon never reaches its log.
        threading.Thread(target=self._drain, args=(self.serve,), daemon=True).start()
        try:
            self.wait(lambda: self._ready(), 60, "crcgw serve did not become ready")
        except AssertionError:
            raise AssertionError(f"crcgw serve did not become ready: {self._last_ready}\n"
                                 f"{self.log_tail()}") from None

    def kill_serve(self) -> None:
        """SIGKILL the daemon (its stand-in child dies with it)."""
        assert self.serve is not None
        self.serve.kill()
        self.serve.wait(10)
        if self.serve.stderr is not None:
            self.serve.stderr.close()
        self.serve = None

    def _drain(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None
        with open(self.log_path, "ab") as log:
            for line in process.stderr:
                log.write(line)
                log.flush()

    def _ready(self) -> bool:
        if self.serve is not None and self.serve.poll() is not None:
            raise RuntimeError(f"crcgw serve exited:\n{self.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            ready = httpx.get(f"{self.base}/readyz", timeout=2)
            rooms = httpx.get(f"{self.base}/rooms", timeout=2).json()["rooms"]
            self._last_ready = f"readyz {ready.status_code} {ready.text}; rooms {rooms}"
            state = rooms[0]["registration"]
            if state == "failed" or (state != "registered" and time.monotonic() > self._nudge):
                # a REGISTER lost or unanswered under load: ask for one more
                self._nudge = time.monotonic() + 10
                httpx.post(f"{self.base}/rooms/{self.room}/register", headers=self.auth,
                           timeout=10)
            return ready.status_code == 200 and rooms[0]["registration"] == "registered"
        return False

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> int | None:
        code = None
        if self.serve is not None:
            if self.serve.poll() is None:
                self.serve.send_signal(signal.SIGTERM)
                try:
                    code = self.serve.wait(40)
                except subprocess.TimeoutExpired:
                    self.serve.kill()
                    self.serve.wait()
            if self.serve.stderr is not None:
                self.serve.stderr.close()
            self.serve = None
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None
        if self._zoom is not None:
            self._zoom.close()
            self._zoom = None
        if self.emulator is not None:
            stop_process(self.emulator)
            self.emulator = None
        return code

    @staticmethod
    def wait(check: Callable[[], bool], timeout: float, message: str) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(message)
            time.sleep(0.1)

    # -- what the tests ask ---------------------------------------------------------------------

    def api_in_use(self) -> int:
        assert self._zoom is not None
        return int(self._zoom.crc.ports().ports_in_use)

    def post_call(self, timeout: float = 20.0) -> httpx.Response:
        body = {"room": self.room, "meeting_id": MEETING, "passcode": meeting_passcode(MEETING)}
        return httpx.post(f"{self.base}/calls", json=body, headers=self.auth, timeout=timeout)

    def calls(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.base}/calls", timeout=10).json()["calls"])

    def wait_connected(self, call_id: str, timeout: float = 30.0) -> None:
        def connected() -> bool:
            return any(c["call_id"] == call_id and c["state"] == "connected"
                       for c in self.calls())
        self.wait(connected, timeout, f"call {call_id} never connected:\n{self.log_tail()}")

    def place(self, timeout: float = 30.0) -> str:
        """Place a call and wait until it is connected; its id."""
        answer = self.post_call()
        if answer.status_code != 201:
            raise AssertionError(f"POST /calls: {answer.status_code} {answer.text}")
        call_id = str(answer.json()["call_id"])
        self.wait_connected(call_id, timeout)
        return call_id

    def hangup(self, call_id: str) -> int:
        return httpx.delete(f"{self.base}/calls/{call_id}", headers=self.auth,
                            timeout=30).status_code

    def ports(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.base}/ports", timeout=10).json())

    def open_cdrs(self) -> list[str]:
        cdrs = httpx.get(f"{self.base}/cdrs", params={"limit": 1000}, timeout=10).json()["cdrs"]
        return [c["call_id"] for c in cdrs if c["ended_at"] is None]

    def readyz(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.base}/readyz", timeout=10).json())

    def metrics(self) -> str:
        return httpx.get(f"{self.base}/metrics", timeout=10).text

    def cpu_seconds(self) -> float:
        """User + system CPU time the daemon has used so far (``/proc/PID/stat``)."""
        assert self.serve is not None
        fields = Path(f"/proc/{self.serve.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_size(self) -> int:
        with contextlib.suppress(OSError):
            return self.log_path.stat().st_size
        return 0

    def limit_file_size(self, limit: int | None) -> None:
        """``prlimit --fsize`` on the daemon: ``limit`` bytes per file, ``None``: unlimited."""
        assert self.serve is not None
        value = "unlimited" if limit is None else str(limit)
        subprocess.run(["prlimit", "--pid", str(self.serve.pid), f"--fsize={value}:unlimited"],
                       check=True, timeout=10)

    def hang_up_all(self) -> None:
        for call in self.calls():
            self.hangup(call["call_id"])


@dataclass
class FaultResult:
    """What one fault did: the pool, the most live calls / leases / API ports in use at any
    sample, what new calls got during the fault, what was left after, and how long the daemon
    took to place a call again once the fault was lifted."""

    fault: str
    pool: int
    max_live: int = 0
    max_leased: int = 0
    max_in_use: int = 0
    during: list[tuple[int, float, str]] = field(default_factory=list)
    """(status, seconds, message) of each POST /calls while the fault lasted."""
    leases_after: int = -1
    open_cdrs_after: int = -1
    recover_s: float = -1.0
    notes: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        codes: dict[int, int] = {}
        for status, _, _ in self.during:
            codes[status] = codes.get(status, 0) + 1
        slowest = max((s for _, s, _ in self.during), default=0.0)
        cpu, log = self.notes.get("cpu_percent", -1), self.notes.get("log_bytes", -1)
        return (f"{self.fault:13s} pool {self.pool}  max live {self.max_live}  max leased "
                f"{self.max_leased}  max API in use {self.max_in_use}  POSTs during {codes} "
                f"(slowest {slowest:.1f} s)  daemon CPU {cpu:.0f}%  log +{log} B  leases after "
                f"{self.leases_after}  open CDRs after {self.open_cdrs_after}  recovered in "
                f"{self.recover_s:.1f} s")


@contextlib.contextmanager
def _fault(rig: ChaosRig, fault: str, result: FaultResult) -> Iterator[None]:
    """Inject ``fault`` for the block's duration."""
    assert rig.proxy is not None
    locker: StoreLocker | None = None
    if fault == "api-hung":
        rig.proxy.set_mode("stall")
    elif fault == "api-refusing":
        rig.proxy.set_mode("refuse")
    elif fault == "store-locked":
        locker = StoreLocker(rig.store_path)
    elif fault == "store-full":
        rig.limit_file_size(4096)
    else:
        raise ValueError(f"unknown fault {fault!r}")
    try:
        yield
    finally:
        result.notes["readyz_during"] = rig.readyz()
        if fault.startswith("api"):
            rig.proxy.set_mode("pass")
        elif locker is not None:
            locker.release()
        else:
            rig.limit_file_size(None)


def run_fault(rig: ChaosRig, fault: str, *, duration: float = 8.0,
              end_one_during: bool = True) -> FaultResult:
    """With the pool full of connected calls, inject ``fault`` for ``duration`` seconds while
    new calls keep being asked for (and, with ``end_one_during``, one live call is hung up);
    lift it, hang up, and measure what held and how soon a call goes through again."""
    result = FaultResult(fault, rig.pool)
    # Start from a quiet pool: the calls of a previous round gone from the API's count too
    # (the stand-in reports their end asynchronously; until then reconcile counts them as
    # used elsewhere, as it should).
    rig.wait(lambda: rig.ports()["free"] == rig.pool and rig.api_in_use() == 0, 30,
             f"the pool did not come back to {rig.pool} free ports: {rig.ports()}, API in use "
             f"{rig.api_in_use()}")
    live = [rig.place() for _ in range(rig.pool)]
    with Sampler(rig) as sampler:
        cpu, log_size = rig.cpu_seconds(), rig.log_size()
        with _fault(rig, fault, result):
            started = time.monotonic()
            ended_one = False
            while time.monotonic() - started < duration:
                t0 = time.monotonic()
                try:
                    answer = rig.post_call(timeout=15)
                    status, text = answer.status_code, answer.text[:200]
                except httpx.HTTPError as exc:
                    status, text = 0, type(exc).__name__
                result.during.append((status, time.monotonic() - t0, text))
                if status == 201:  # the pool let it through: it counts as live, end it later
                    live.append(str(answer.json()["call_id"]))
                if end_one_during and not ended_one and time.monotonic() - started > duration / 2:
                    rig.hangup(live.pop(0))
                    ended_one = True
                time.sleep(0.5)
        lifted = time.monotonic()
        result.notes["cpu_percent"] = 100 * (rig.cpu_seconds() - cpu) / (lifted - started)
        result.notes["log_bytes"] = rig.log_size() - log_size
        for call_id in live:
            rig.hangup(call_id)
        recovered = None
        deadline = lifted + 60
        while recovered is None and time.monotonic() < deadline:
            answer = rig.post_call(timeout=15)
            if answer.status_code == 201:
                call_id = str(answer.json()["call_id"])
                rig.wait_connected(call_id)
                recovered = time.monotonic() - lifted
                rig.hangup(call_id)
            else:
                time.sleep(0.25)
        result.recover_s = -1.0 if recovered is None else recovered
    result.max_live = sampler.max("live")
    result.max_leased = sampler.max("leased")
    result.max_in_use = sampler.max("in_use")
    rig.hang_up_all()
    with contextlib.suppress(AssertionError):
        rig.wait(lambda: rig.ports()["leased"] == 0 and not rig.open_cdrs(), 20, "")
    result.leases_after = int(rig.ports()["leased"])
    result.open_cdrs_after = len(rig.open_cdrs())
    return result


def sqlite_leases(path: Path) -> int:
    """Leases in the store file, read by a connection of our own."""
    conn = sqlite3.connect(path, timeout=10)
    try:
        return int(conn.execute("SELECT count(*) FROM leases").fetchone()[0])
    finally:
        conn.close()
