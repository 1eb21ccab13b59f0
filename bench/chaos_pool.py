"""Chaos soak of the port pool: ``crcgw serve`` with real calls while faults come in turn.

    .venv/bin/python bench/chaos_pool.py [--pool 2] [--duration 8] [--faults api-hung,...]

One daemon (embedded defaults: SQLite store in its data directory, stand-in connector), a room
registered at a private Kamailio, the API emulator in its own process behind a fault proxy.
For each fault (API hung, API refusing, store locked by another process, store full via
``prlimit --fsize``), with the pool full of connected calls, new calls are asked for every
0.5 s and one live call is hung up half-way; then the fault is lifted. Printed per fault: the
most live calls / leases / API ports in use at any 0.2 s sample against the pool size, what the
POSTs got, leases and open CDRs left afterwards, and the seconds from lifting the fault to the
next connected call. Exit status 1 if any invariant broke. Needs kamailio and prlimit.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the project root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.peers.faults import FAULTS, ChaosRig, run_fault  # noqa: E402
from gateway.peers.kamailio import Kamailio, kamailio_available  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool", type=int, default=2, help="CRC ports of the emulated account")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds each fault lasts")
    parser.add_argument("--faults", default=",".join(FAULTS),
                        help=f"comma-separated, in order (default: {','.join(FAULTS)})")
    args = parser.parse_args()
    faults = [f.strip() for f in args.faults.split(",") if f.strip()]
    unknown = sorted(set(faults) - set(FAULTS))
    if unknown:
        parser.error(f"unknown fault(s): {', '.join(unknown)}")
    if not kamailio_available() or shutil.which("prlimit") is None:
        print("chaos_pool: needs kamailio and prlimit", file=sys.stderr)
        return 2
    room, password = "room-chaos", secrets.token_hex(6)
    broken = False
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="crcgw-chaos-") as tmp, \
            Kamailio({room: password}) as registrar, \
            ChaosRig(Path(tmp), registrar, room, password, pool=args.pool) as rig:
        print(f"crcgw serve up ({rig.base}), pool {args.pool}, lease TTL {rig.lease_ttl:g} s, "
              f"store busy timeout {rig.busy_timeout:g} s, API deadline {rig.api_deadline:g} s")
        for fault in faults:
            result = run_fault(rig, fault, duration=args.duration)
            print(result.line(), flush=True)
            broken |= (result.max_live > args.pool or result.max_leased > args.pool
                       or result.leases_after != 0 or result.open_cdrs_after != 0
                       or result.recover_s < 0)
        code = rig.stop()
        print(f"crcgw serve stopped with exit code {code}; soak {time.monotonic() - started:.0f} s;"
              f" invariants {'BROKEN' if broken else 'held'}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
