"""A child process running one :class:`SipEngine` for :class:`SipEnginePool`.

Run as ``python -m signaling.pjsua._shard FD``: ``FD`` is a socket (a
``multiprocessing.connection.Connection``) to the pool. The pool sends the ``EngineConfig``,
then requests ``(request_id, method, args, kwargs)``; the shard answers
``("result", request_id, ok, value)`` and forwards every engine event as ``("event", event)``.
Once its engine runs it says ``("ready", None, call_capacity)`` (``("ready", error)`` if it
cannot start): the pool sizes the shard by that capacity.
The shard dies with its parent (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import signal
import sys
import threading
from multiprocessing.connection import Connection
from typing import Any

from signaling.pjsua.engine import SipEngine
from signaling.sip.config import EngineConfig
from signaling.sip.errors import EngineClosed

__all__ = ["REMOTE_METHODS", "main"]

REMOTE_METHODS = frozenset(
    {
        "add_endpoint",
        "register",
        "wait_registration",
        "set_registration",
        "remove_endpoint",
        "dial",
        "wait_call",
        "wait_incoming",
        "wait_dtmf",
        "answer",
        "hangup",
        "send_dtmf",
        "call_stats",
        "request_keyframe",
    }
)

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))


def _error(exc: BaseException) -> tuple[str, str]:
    return type(exc).__name__, str(exc)


async def _serve(conn: Connection, config: EngineConfig) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Any] = asyncio.Queue()
    engine = SipEngine(config)
    try:
        await engine.start()
    except Exception as exc:
        conn.send(("ready", _error(exc)))
        return
    conn.send(("ready", None, engine.call_capacity))
    engine.add_listener(lambda event: conn.send(("event", event)))

    def read() -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                message = None
            loop.call_soon_threadsafe(inbox.put_nowait, message)
            if message is None or message == "close":
                return

    threading.Thread(target=read, name="shard-reader", daemon=True).start()

    async def run(
        request_id: int, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        try:
            if method not in REMOTE_METHODS:
                raise EngineClosed(f"unknown method {method!r}")
            value = await getattr(engine, method)(*args, **kwargs)
            conn.send(("result", request_id, True, value))
        except Exception as exc:
            conn.send(("result", request_id, False, _error(exc)))

    tasks: set[asyncio.Task[None]] = set()
    try:
        while True:
            message = await inbox.get()
            if message is None or message == "close":
                break
            task = asyncio.create_task(run(*message))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    finally:
        for task in tasks:
            task.cancel()
        await engine.close()
        with contextlib.suppress(OSError):
            conn.send(("closed",))


def main(argv: list[str]) -> int:
    _die_with_parent()
    conn = Connection(int(argv[1]))
    config, log_level = conn.recv()
    logging.basicConfig(
        level=log_level, format="%(asctime)s shard %(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(_serve(conn, config))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
