"""Start and follow the stand-in connector in a child process (its own pjsua2 engine)."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from types import TracebackType
from typing import Any, Self

from gateway.peers.process import die_with_parent, free_port

__all__ = ["KEEP_EVENTS", "StandinError", "StandinProcess"]

KEEP_EVENTS = 1000
"""The connector's events kept (a long-running gateway's stand-in must not grow for ever)."""


class StandinError(RuntimeError):
    """The stand-in connector did not start or did not report what was expected."""


class StandinProcess:
    """``with StandinProcess(emulator_url=...) as crc:`` dial ``sip:MID@crc.address``."""

    def __init__(
        self, *, host: str = "127.0.0.1", port: int | None = None, emulator_url: str | None = None
    ) -> None:
        self.host = host
        self.port = port or free_port((host,))
        self.emulator_url = emulator_url
        self._events: deque[dict[str, Any]] = deque(maxlen=KEEP_EVENTS)
        self._arrived = threading.Condition()
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._stderr: list[str] = []

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def start(self, timeout: float = 20.0) -> Self:
        command = [sys.executable, "-m", "gateway.standin", "--host", self.host,
                   "--port", str(self.port)]
        if self.emulator_url:
            command += ["--emulator", self.emulator_url]
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            preexec_fn=die_with_parent(signal.SIGKILL),
        )
        self._reader = threading.Thread(target=self._read, daemon=True, name="standin-reader")
        self._reader.start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        try:
            self.wait_for("listening", timeout=timeout)
        except StandinError:
            self.stop()
            raise
        return self

    @property
    def events(self) -> list[dict[str, Any]]:
        """The connector's latest events (at most ``KEEP_EVENTS``, oldest first)."""
        with self._arrived:
            return list(self._events)

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if isinstance(event, dict):
                    with self._arrived:
                        self._events.append(event)
                        self._arrived.notify_all()

    def _drain_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        for line in self._process.stderr:
            self._stderr.append(line.rstrip())
            del self._stderr[:-50]

    def wait_for(self, kind: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        """The first event of ``kind`` (with the given fields), old or new, within ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("event") == kind and all(event.get(k) == v for k, v in match.items()):
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if self._process is not None and self._process.poll() is not None:
                self._pump(0.1)
                if not any(e.get("event") == kind for e in self.events):
                    tail = " | ".join(self._stderr[-3:])
                    raise StandinError(f"the stand-in connector exited: {tail or 'no output'}")
            self._pump(min(left, 0.2))
        raise StandinError(f"the stand-in connector reported no {kind!r} within {timeout:.0f} s")

    def _pump(self, wait: float) -> None:
        with self._arrived:
            self._arrived.wait(wait)

    def stop(self, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        if self._reader is not None:
            self._reader.join(2)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
