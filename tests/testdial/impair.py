"""A network namespace whose loopback misbehaves for media: loss, delay and delay variation.

Everything happens on the namespace's own ``lo`` (nothing leaves it). Media is told apart from
SIP by size: an htb root sends UDP datagrams under 256 bytes (RTP, RTCP, RFC 4733 events; SIP
messages are longer) to a class of their own, via ``u32`` filters on the IP total length.

- With ``sch_netem`` in the kernel, that class gets ``netem delay 80ms 60ms loss 12%``.
- Without it (this project's VMs have neither netem nor plug), two plain htb classes do it:
  every eighth RTP packet (sequence number a multiple of 8, the 16 bits at IP offset 30) goes to
  a class of 8 bit/s, i.e. is lost; the rest share a 40 kbit/s class with a long queue, about a
  quarter of the two directions' 170 kbit/s of G.722. Packets queue (the delay grows through the
  call) and each direction's packets leave one every ~80 ms instead of every 20 ms, so each
  arrives much later relative to its predecessor than its timestamp says: the RFC 3550 running
  jitter climbs through the call (pjmedia counts only consecutive sequence numbers, which the
  one-in-eight loss leaves mostly intact). Measured here over 5 s: 10-11 % lost, mean jitter
  43-44 ms (max 64-66 ms), MOS 3.1-3.2.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
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
    def __init__(self, rate: str = "40kbit") -> None:
        self.name = f"crcgw-td-{os.getpid()}-{secrets.token_hex(3)}"
        self.rate = rate
        self.method = ""
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

    def _class(self, classid: str, rate: str) -> None:
        self._tc("class", "add", "dev", "lo", "parent", "1:", "classid", classid, "htb", "rate",
                 rate, "ceil", rate)

    def _media_filter(self, flow: str, prio: str, extra: Sequence[str] = ()) -> None:
        """UDP (protocol 17) with an IP total length under 256 bytes: media, not SIP."""
        self._tc("filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", prio,
                 "u32", "match", "ip", "protocol", "17", "0xff", "match", "u16", "0x0000",
                 "0xff00", "at", "2", *extra, "flowid", flow)

    def start(self) -> Self:
        self._run("ip", "netns", "add", self.name)
        self._created = True
        self._run("ip", "netns", "exec", self.name, "ip", "link", "set", "lo", "up")
        self._tc("qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb", "default", "10",
                 "r2q", "1000")
        self._class("1:10", "10gbit")
        netem = self._tc("qdisc", "add", "dev", "lo", "parent", "1:10", "handle", "10:", "netem",
                         "delay", "0ms", check=False)
        if netem.returncode == 0:
            self._tc("qdisc", "del", "dev", "lo", "parent", "1:10", "handle", "10:")
            self._class("1:20", "10gbit")
            self._tc("qdisc", "add", "dev", "lo", "parent", "1:20", "handle", "20:", "netem",
                     "delay", "80ms", "60ms", "loss", "12%", "limit", "1000")
            self.method = "netem delay 80ms 60ms loss 12%"
        else:
            self._class("1:20", self.rate)
            self._tc("qdisc", "add", "dev", "lo", "parent", "1:20", "handle", "20:", "pfifo",
                     "limit", "1000")
            self._class("1:30", "8bit")
            self._tc("qdisc", "add", "dev", "lo", "parent", "1:30", "handle", "30:", "pfifo",
                     "limit", "1")
            self._media_filter("1:30", "1", ("match", "u16", "0x0000", "0x0007", "at", "30"))
            self.method = f"every 8th RTP packet dropped, the rest through {self.rate}"
        self._media_filter("1:20", "2")
        return self

    def stats(self) -> str:
        return self._tc("-s", "class", "show", "dev", "lo", check=False).stdout

    def stop(self) -> None:
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
