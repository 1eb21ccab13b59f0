"""A network namespace whose loopback misbehaves for media: loss, delay and delay variation.

Everything happens on the namespace's own ``lo`` (nothing leaves it). Media is told apart from
SIP by size: an htb root sends UDP datagrams under 256 bytes (RTP, RTCP, RFC 4733 events; SIP
messages are longer) to a class of their own, via a ``u32`` filter on the IP total length.

- With ``sch_netem`` in the kernel, that class gets ``netem delay 80ms 60ms loss 10%``.
- Without it (this project's VMs have no netem), the class is a link that stalls: its rate drops
  to 8 kbit/s for ``stall_s`` then opens to 10 Mbit/s for 50 ms, over and over (a thread runs
  ``tc class change``), with a short ``pfifo`` queue. Packets queue while it stalls (delay
  growing to ``stall_s``), the queue overflows (loss), and each opening delivers a burst
  (delay variation, i.e. jitter).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Self

__all__ = ["ImpairedNamespace", "impairment_unavailable"]


def impairment_unavailable() -> str | None:
    """Why the namespace cannot be made here (``None``: it can)."""
    if os.geteuid() != 0:
        return "needs root (ip netns, tc)"
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            return f"{tool} (iproute2) is not installed"
    return None


class ImpairedNamespace:
    def __init__(self, stall_s: float = 0.4, queue: int = 8) -> None:
        self.name = f"crcgw-td-{os.getpid()}-{secrets.token_hex(3)}"
        self.stall_s = stall_s
        self.queue = queue
        self.method = ""
        self._stop = threading.Event()
        self._flapper: threading.Thread | None = None
        self._created = False

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=10,
                              check=check)

    def _tc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._run("ip", "netns", "exec", self.name, "tc", *args, check=check)

    @property
    def prefix(self) -> Sequence[str]:
        """Put before a command to run it inside the namespace."""
        return ("ip", "netns", "exec", self.name)

    def start(self) -> Self:
        self._run("ip", "netns", "add", self.name)
        self._created = True
        self._run("ip", "netns", "exec", self.name, "ip", "link", "set", "lo", "up")
        self._tc("qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb", "default", "10",
                 "r2q", "1000")
        self._tc("class", "add", "dev", "lo", "parent", "1:", "classid", "1:10", "htb", "rate",
                 "10gbit")
        self._tc("class", "add", "dev", "lo", "parent", "1:", "classid", "1:20", "htb", "rate",
                 "10mbit", "ceil", "10mbit", "burst", "2k", "cburst", "2k")
        netem = self._tc("qdisc", "add", "dev", "lo", "parent", "1:20", "handle", "20:", "netem",
                         "delay", "80ms", "60ms", "loss", "10%", check=False)
        if netem.returncode == 0:
            self.method = "netem delay 80ms 60ms loss 10%"
        else:
            self._tc("qdisc", "add", "dev", "lo", "parent", "1:20", "handle", "20:", "pfifo",
                     "limit", str(self.queue))
            self.method = f"stalling link: 8 kbit/s for {self.stall_s} s, then 50 ms open"
            self._flapper = threading.Thread(target=self._flap, daemon=True)
        # UDP (protocol 17) with an IP total length under 256 bytes: media, not SIP
        self._tc("filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", "1",
                 "u32", "match", "ip", "protocol", "17", "0xff", "match", "u16", "0x0000",
                 "0xff00", "at", "2", "flowid", "1:20")
        if self._flapper is not None:
            self._flapper.start()
        return self

    def _rate(self, rate: str) -> None:
        self._tc("class", "change", "dev", "lo", "parent", "1:", "classid", "1:20", "htb",
                 "rate", rate, "ceil", rate, "burst", "2k", "cburst", "2k", check=False)

    def _flap(self) -> None:
        while not self._stop.is_set():
            self._rate("8kbit")
            if self._stop.wait(self.stall_s):
                break
            self._rate("10mbit")
            self._stop.wait(0.05)

    def stats(self) -> str:
        return self._tc("-s", "qdisc", "show", "dev", "lo", check=False).stdout

    def stop(self) -> None:
        self._stop.set()
        if self._flapper is not None:
            self._flapper.join(5)
        if self._created:
            self._run("ip", "netns", "del", self.name, check=False)
            self._created = False

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
