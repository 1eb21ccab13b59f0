"""Load generator for the store: one OS process that places "calls" like a gateway does.

    python -m gateway.store.hammer URL --owner N --dials 100 [--parallel 3] [--hold 0.02]

Each dial acquires a port (retrying while the pool is full), holds it for ``--hold`` seconds and
keeps at most ``--parallel`` leases at once (the oldest is released first). A heartbeat thread
keeps the owner's leases alive. Every event is one JSON line on stdout, with the pool figures the
process saw right after the acquire (``leased``, ``size``): a test can check from the processes'
own logs that the pool was never exceeded. ``--hold-forever`` keeps the last leases and keeps
heart-beating after the dials (a process to kill while it holds leases).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from gateway.store import Lease, Store, open_store

__all__ = ["main", "run"]


def _emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, "t": time.time(), **fields}) + "\n")
    sys.stdout.flush()


def _heartbeat(store: Store, owner: str, interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        store.heartbeat(owner, time.time())


def run(
    store: Store,
    owner: str,
    dials: int,
    *,
    parallel: int = 3,
    hold: float = 0.02,
    heartbeat: float = 0.5,
    hold_forever: bool = False,
    pool_size: int | None = None,
    cdrs: bool = False,
) -> dict[str, Any]:
    """Place ``dials`` calls; returns the summary that is also printed as the ``done`` event.
    With ``cdrs`` every call also gets a call detail record: started before ``acquired`` is
    printed, ended (``outcome="completed"``) before ``released`` is printed."""
    if pool_size is not None:
        store.set_pool_size(pool_size)
    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat, args=(store, owner, heartbeat, stop), name="heartbeat", daemon=True
    )
    beat.start()
    held: deque[Lease] = deque()

    def release_oldest() -> None:
        lease = held.popleft()
        store.release(lease.call_id)
        if cdrs:
            store.update_cdr(lease.call_id, ended_at=time.time(), outcome="completed",
                             sip_code=200, sip_reason="OK", rtp={"packets": 50, "lost": 0})
            _emit("released", owner=owner, call_id=lease.call_id)

    retries = max_leased = 0
    started = time.monotonic()
    try:
        for index in range(dials):
            call_id = f"{owner}-{index}"
            while True:
                lease = store.acquire(call_id, f"room-{owner}", "hammer", owner, time.time())
                if lease is not None:
                    break
                retries += 1  # the pool is full: wait for someone to hang up
                time.sleep(random.uniform(0.002, 0.01))
            held.append(lease)
            if cdrs:
                store.record_cdr(call_id, lease.room, lease.target, lease.acquired_at,
                                 owner=owner)
                store.update_cdr(call_id, answered_at=time.time())
            state = store.pool_state()
            max_leased = max(max_leased, state.leased)
            _emit("acquired", owner=owner, call_id=call_id, leased=state.leased,
                  size=state.size, held=len(held))
            time.sleep(hold)
            while len(held) >= parallel and not (hold_forever and index == dials - 1):
                release_oldest()
        summary = {
            "owner": owner,
            "dials": dials,
            "retries": retries,
            "max_leased": max_leased,
            "seconds": round(time.monotonic() - started, 3),
        }
        if hold_forever:
            _emit("holding", owner=owner, call_ids=[lease.call_id for lease in held])
            while True:
                time.sleep(3600)
        while held:
            release_oldest()
        _emit("done", **summary)
        return summary
    finally:
        stop.set()
        beat.join(timeout=heartbeat + 1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.store.hammer", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="store URL: sqlite:///PATH or postgresql://...")
    parser.add_argument("--owner", required=True, help="gateway instance id of this process")
    parser.add_argument("--dials", type=int, default=100)
    parser.add_argument("--parallel", type=int, default=3, help="leases held at once")
    parser.add_argument("--hold", type=float, default=0.02, help="seconds a call lasts")
    parser.add_argument("--ttl", type=float, default=2.0, help="lease TTL, seconds")
    parser.add_argument("--heartbeat", type=float, default=0.5, help="heartbeat interval, s")
    parser.add_argument("--pool-size", type=int, default=None, help="set the pool size first")
    parser.add_argument("--cdrs", action="store_true", help="record a CDR for every call")
    parser.add_argument("--hold-forever", action="store_true",
                        help="keep the last leases and heart-beat until killed")
    args = parser.parse_args(argv)
    if args.parallel < 1 or args.dials < 0:
        parser.error("--parallel must be >= 1 and --dials >= 0")
    try:
        store = open_store(args.url, ttl=args.ttl)
    except Exception as exc:  # noqa: BLE001 - one line, no traceback
        first = str(exc).splitlines()[0] if str(exc) else ""
        sys.stderr.write(f"hammer: cannot open the store: {type(exc).__name__}: {first}\n")
        return 2
    try:
        run(store, args.owner, args.dials, parallel=args.parallel, hold=args.hold,
            heartbeat=args.heartbeat, hold_forever=args.hold_forever,
            pool_size=args.pool_size, cdrs=args.cdrs)
    except KeyboardInterrupt:
        return 130
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
