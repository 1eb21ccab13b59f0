"""``--embedded``: the API emulator and the stand-in meeting on loopback, so a test dial needs no
account and no network. The stand-in reports what it asks and whether the caller joined, which
gives the DTMF stage a real acknowledgement."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from api_client import ZoomCredentials
from api_client.emulator import EmulatorServer, run_emulator
from gateway.standin.process import StandinError, StandinProcess

__all__ = ["EmbeddedMeeting", "StandinObserver", "embedded_meeting"]


class StandinObserver:
    """Follows the stand-in's events for one call: prompts (consumed in order) and the end."""

    def __init__(self, standin: StandinProcess) -> None:
        self.standin = standin
        self._prompts_seen = 0

    def _poll(self) -> None:
        with contextlib.suppress(StandinError):
            self.standin.wait_for("__none__", timeout=0.05)

    def _events(self, kind: str) -> list[dict[str, object]]:
        return [e for e in self.standin.events if e.get("event") == kind]

    async def wait_prompt(self, timeout: float) -> str | None:
        def look() -> str | None:
            deadline = time.monotonic() + timeout
            while True:
                prompts = [e for e in self._events("prompt")
                           if not str(e.get("asks", "")).startswith("invalid")]
                if len(prompts) > self._prompts_seen:
                    self._prompts_seen += 1
                    return str(prompts[self._prompts_seen - 1].get("asks"))
                if self._events("rejected") or time.monotonic() > deadline:
                    return None
                self._poll()

        return await asyncio.to_thread(look)

    async def wait_joined(self, timeout: float) -> tuple[bool, str]:
        def look() -> tuple[bool, str]:
            deadline = time.monotonic() + timeout
            while True:
                joined = self._events("joined")
                if joined:
                    return True, f"joined meeting {joined[0].get('meeting_id')}"
                retry = [e for e in self._events("prompt")
                         if str(e.get("asks", "")).startswith("invalid")]
                if retry:
                    return False, f"the meeting refused the entry: {retry[0].get('asks')}"
                rejected = self._events("rejected")
                if rejected:
                    event = rejected[0]
                    return False, f"rejected by the meeting: {event.get('reason')} " \
                                  f"({event.get('code')})"
                if time.monotonic() > deadline:
                    return False, f"the meeting did not confirm the join within {timeout:g} s"
                self._poll()

        return await asyncio.to_thread(look)


@dataclass(frozen=True)
class EmbeddedMeeting:
    emulator: EmulatorServer
    standin: StandinProcess

    @property
    def credentials(self) -> ZoomCredentials:
        return self.emulator.zoom_credentials(self.emulator.settings.account_id)


@contextmanager
def embedded_meeting(host: str = "127.0.0.1") -> Iterator[EmbeddedMeeting]:
    """Start the emulator (in memory, in-process) and the stand-in (a child process); stop both.

    Call from the main thread: the stand-in dies with the thread that started it.
    """
    with run_emulator(None, host=host) as emulator:
        standin = StandinProcess(host=host, emulator_url=emulator.zoom_url)
        standin.start()
        try:
            yield EmbeddedMeeting(emulator, standin)
        finally:
            standin.stop()
