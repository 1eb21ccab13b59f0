"""Soak of the call path: many calls through ``crcgw serve``'s control API, memory watched.

    .venv/bin/python bench/soak_calls.py [--calls 1000] [--concurrency 2] [--checkpoints 10]

One daemon on the embedded defaults (SQLite store in its data directory, the API emulator in
process, the stand-in connector answering the calls), one room registered at a private
Kamailio. ``--concurrency`` workers each place a call (``POST /calls``), wait until
``GET /calls`` says it is connected, and hang it up (``DELETE /calls/{id}``), until ``--calls``
calls have been placed. The RSS, open file descriptors and threads of the daemon and of each
of its child processes (stand-in, engine shards) are printed at the start, at every checkpoint
and at the end, with the calls per second of each stretch; the last line compares the end
with the first checkpoint (after warm-up). Exit status 1 if a call failed, 2 if the rig could
not start. Needs kamailio. Stops every process it started, by PID.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the project root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import yaml  # noqa: E402

from api_client.emulator import meeting_passcode  # noqa: E402
from gateway.peers.kamailio import Kamailio, kamailio_available  # noqa: E402
from gateway.peers.process import die_with_parent, free_port, stop_process  # noqa: E402

MEETING = "82419374650"
MAX_CALLS = 100_000
MAX_CONCURRENCY = 8  # the emulated account has 10 CRC ports


@dataclass(frozen=True)
class ProcStats:
    """One process as /proc sees it: resident memory (kB), open descriptors, threads."""

    pid: int
    name: str
    rss_kb: int
    fds: int
    threads: int

    def line(self) -> str:
        return (f"{self.name}[{self.pid}] rss {self.rss_kb / 1024:7.1f} MiB  "
                f"fds {self.fds:4d}  threads {self.threads:3d}")


def proc_stats(pid: int) -> ProcStats | None:
    """The figures of ``pid`` (None once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    if "VmRSS" not in fields:  # a zombie, or a kernel thread: nothing resident to count
        return None
    return ProcStats(pid, _role(pid, fields["Name"].strip()), int(fields["VmRSS"].split()[0]), fds,
                     int(fields["Threads"]))


def _role(pid: int, name: str) -> str:
    """What the process is, from its command line (``serve``, ``standin``, ``shard``...)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return name
    words = [a.decode(errors="replace") for a in argv if a]
    for word in words[1:]:
        if not word.startswith("-") and not word.endswith(("python", "python3")):
            return f"{name} {Path(word).name}"[:40]
    return name


def descendants(pid: int) -> list[int]:
    """The children of ``pid``, their children and so on (from /proc's children lists)."""
    out: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                continue
            out.extend(kids)
            todo.extend(kids)
    return sorted(set(out))


def snapshot(pid: int) -> list[ProcStats]:
    """The daemon first, then each descendant that is still there."""
    return [s for s in (proc_stats(p) for p in [pid, *descendants(pid)]) if s is not None]


class Soak:
    """Kamailio, ``crcgw serve`` and the call loop (see the module docstring)."""

    def __init__(self, workdir: Path, registrar: Kamailio, room: str, password: str) -> None:
        self.workdir = workdir
        self.room = room
        self.token = secrets.token_hex(16)
        self.http_port = free_port(udp=False)
        self.base = f"http://127.0.0.1:{self.http_port}"
        root = str(Path(__file__).resolve().parent.parent)
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        self.env = {**os.environ, "CRCGW_TOKEN": self.token, "ROOM_PASSWORD": password,
                    "PYTHONPATH": path}
        self.config = workdir / "crcgw.yaml"
        self.config.write_text(yaml.safe_dump({
            "data_dir": str(workdir / "data"),
            "rooms": [{"name": room, "registrar": registrar.address("udp"), "user": room,
                       "password_env": "ROOM_PASSWORD"}],
            "sip": {"listen": ["udp://127.0.0.1:0"]},
            "http": {"bind": f"127.0.0.1:{self.http_port}", "token_env": "CRCGW_TOKEN"},
        }))
        self.log_path = workdir / "serve.log"
        self.serve: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=self.base, timeout=30,
                                 headers={"Authorization": f"Bearer {self.token}"})
        self.lock = threading.Lock()
        self.placed = 0
        self.done = 0
        self.failures: list[str] = []

    def start(self, timeout: float = 90.0) -> None:
        with open(self.log_path, "ab") as log:
            self.serve = subprocess.Popen(
                [sys.executable, "-m", "gateway", "-v", "serve", "--config", str(self.config)],
                env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent(signal.SIGKILL),
            )
        deadline = time.monotonic() + timeout
        nudge = time.monotonic() + 15
        while True:
            if self.serve.poll() is not None:
                raise RuntimeError(f"crcgw serve exited {self.serve.returncode}:\n{self.tail()}")
            try:
                ready = self.http.get("/readyz", timeout=3).status_code == 200
                state = self.http.get("/rooms", timeout=3).json()["rooms"][0]["registration"]
                if ready and state == "registered":
                    return
                if state == "failed" or time.monotonic() > nudge:  # a REGISTER lost under load
                    nudge = time.monotonic() + 10
                    self.http.post(f"/rooms/{self.room}/register", timeout=10)
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"crcgw serve did not become ready:\n{self.tail()}")
            time.sleep(0.2)

    def stop(self) -> int | None:
        self.http.close()
        if self.serve is None:
            return None
        code: int | None = None
        if self.serve.poll() is None:
            self.serve.send_signal(signal.SIGTERM)
            try:
                code = self.serve.wait(40)
            except subprocess.TimeoutExpired:
                stop_process(self.serve)
        else:
            code = self.serve.returncode
        self.serve = None
        return code

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def about_failures(self, lines: int = 30) -> str:
        """The daemon's log lines that name the calls that failed (the first ``lines``)."""
        ids = [word for failure in self.failures for word in failure.split()
               if word.startswith("gw-")]
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        found = [line for line in text if any(cid.rstrip(":") in line for cid in ids)]
        return "\n".join(found[:lines]) or "(no line names them)"

    # -- the calls ----------------------------------------------------------------------------

    def one_call(self) -> None:
        """POST /calls, wait connected, DELETE: a failure is recorded, not raised."""
        body = {"room": self.room, "meeting_id": MEETING, "passcode": meeting_passcode(MEETING)}
        try:
            answer = self.http.post("/calls", json=body)
            if answer.status_code != 201:
                raise RuntimeError(f"POST /calls {answer.status_code} {answer.text[:200]}")
            call_id = answer.json()["call_id"]
            deadline = time.monotonic() + 30
            while True:
                calls = self.http.get("/calls").json()["calls"]
                state = next((c["state"] for c in calls if c["call_id"] == call_id), "gone")
                if state == "connected":
                    break
                if state in ("gone", "ended") or time.monotonic() > deadline:
                    raise RuntimeError(f"call {call_id} never connected ({state})")
                time.sleep(0.02)
            answer = self.http.delete(f"/calls/{call_id}")
            if answer.status_code != 200 or answer.json()["state"] != "ended":
                raise RuntimeError(f"DELETE /calls/{call_id}: {answer.status_code} "
                                   f"{answer.text[:200]}")
        except (RuntimeError, httpx.HTTPError, ValueError, KeyError) as exc:
            with self.lock:
                self.failures.append(str(exc))

    def worker(self, total: int) -> None:
        while True:
            with self.lock:
                if self.placed >= total or len(self.failures) > 20:
                    return
                self.placed += 1
            self.one_call()
            with self.lock:
                self.done += 1

    def run(self, total: int, concurrency: int, checkpoints: int) -> list[list[ProcStats]]:
        assert self.serve is not None
        pid = self.serve.pid
        marks = sorted({max(1, total * k // checkpoints) for k in range(1, checkpoints + 1)})
        rows = [snapshot(pid)]
        report("start", 0, 0.0, rows[0])
        workers = [threading.Thread(target=self.worker, args=(total,), daemon=True)
                   for _ in range(concurrency)]
        started = last_t = time.monotonic()
        last_n = 0
        for thread in workers:
            thread.start()
        for mark in marks:
            while self.done < mark and any(t.is_alive() for t in workers):
                time.sleep(0.05)
            now, n = time.monotonic(), self.done
            rows.append(snapshot(pid))
            rate = (n - last_n) / (now - last_t) if now > last_t else 0.0
            report(f"{n} calls", n, rate, rows[-1])
            last_t, last_n = now, n
            if not any(t.is_alive() for t in workers):
                break
        for thread in workers:
            thread.join()
        elapsed = time.monotonic() - started
        print(f"{self.done} calls in {elapsed:.1f} s: {self.done / elapsed:.2f} calls/s overall, "
              f"{len(self.failures)} failed", flush=True)
        for failure in self.failures[:5]:
            print(f"  failure: {failure}")
        return rows


def report(label: str, n: int, rate: float, stats: list[ProcStats]) -> None:
    what = f"{rate:6.2f} calls/s" if n else " " * 13
    print(f"-- {label:>11}  {what}", flush=True)
    for s in stats:
        print(f"   {s.line()}", flush=True)


def growth(first: list[ProcStats], last: list[ProcStats], calls: int) -> str:
    """The daemon's change from ``first`` to ``last`` (per call for the RSS)."""
    if not first or not last:
        return "no figures"
    a, b = first[0], last[0]
    per_call = (b.rss_kb - a.rss_kb) * 1024 / calls if calls else 0.0
    return (f"daemon rss {a.rss_kb / 1024:.1f} -> {b.rss_kb / 1024:.1f} MiB "
            f"({per_call:+.0f} B/call over {calls} calls), fds {a.fds} -> {b.fds}, "
            f"threads {a.threads} -> {b.threads}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000,
                        help=f"calls to place (1..{MAX_CALLS}, default 1000)")
    parser.add_argument("--concurrency", type=int, default=2,
                        help=f"calls in flight at once (1..{MAX_CONCURRENCY}, default 2; the one "
                             "room's engine holds 4 calls, see docs/call-walk.md)")
    parser.add_argument("--checkpoints", type=int, default=10,
                        help="figures printed this many times during the run (default 10)")
    args = parser.parse_args()
    if not 1 <= args.calls <= MAX_CALLS:
        parser.error(f"--calls must be from 1 to {MAX_CALLS}")
    if not 1 <= args.concurrency <= MAX_CONCURRENCY:
        parser.error(f"--concurrency must be from 1 to {MAX_CONCURRENCY}")
    if not 1 <= args.checkpoints <= 100:
        parser.error("--checkpoints must be from 1 to 100")
    if not kamailio_available():
        print("soak_calls: needs kamailio", file=sys.stderr)
        return 2
    room, password = "room-soak", secrets.token_hex(6)
    with tempfile.TemporaryDirectory(prefix="crcgw-soak-") as tmp, \
            Kamailio({room: password}) as registrar:
        soak = Soak(Path(tmp), registrar, room, password)
        try:
            soak.start()
        except RuntimeError as exc:
            print(f"soak_calls: {exc}", file=sys.stderr)
            soak.stop()
            return 2
        try:
            rows = soak.run(args.calls, args.concurrency, args.checkpoints)
        finally:
            code = soak.stop()
        warm = rows[1] if len(rows) > 2 else rows[0]
        warm_calls = args.calls // args.checkpoints if len(rows) > 2 else 0
        print(f"from start: {growth(rows[0], rows[-1], soak.done)}")
        print(f"after the first checkpoint: "
              f"{growth(warm, rows[-1], soak.done - warm_calls)}")
        print(f"crcgw serve stopped with exit code {code}")
        if code != 0 or soak.failures:
            print(f"its log about the failed calls:\n{soak.about_failures()}")
            print(f"the end of its log:\n{soak.tail(15)}")
        return 1 if soak.failures else 0


if __name__ == "__main__":
    sys.exit(main())
