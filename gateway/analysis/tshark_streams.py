"""The one tshark run of ``crcgw analyze``: its RTP stream table, its malformed count, and the
signalling only tshark can read.

``tshark -z rtp,streams -z expert,error`` is the cheapest complete dissection tshark offers
(taps only). Its stream table says which (source, destination, SSRC) flows tshark decodes as RTP,
through SDP, H.245 or its RTP heuristic; the expert table counts malformed packets. In the same
run, a display filter (``-Y``) makes tshark print, as JSON with raw bytes, the SIP and Q.931
messages the header scan does not read itself: SIP over TCP, SCTP and WebSocket (reassembled),
over IPv4/IPv6 fragments (reassembled), in tunnels, and, when the scan met frames it cannot
decode, every SIP message. The filter does not restrict the taps, which see every packet.
The per-packet RTP figures are read by :mod:`gateway.analysis.pcapscan`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import threading

from gateway.analysis.errors import CaptureError

__all__ = [
    "SIGNALING_NOT_READ_DIRECTLY",
    "TsharkPass",
    "TsharkResult",
    "TsharkStream",
    "parse_expert_malformed",
    "parse_rtp_streams",
    "tshark_binary",
    "tshark_options",
]


def _debug(message: str, *args: object) -> None:
    """Debug logging, its module imported only when a line is written (``crcgw analyze``
    starts tshark before anything it does not need is imported)."""
    import logging

    logging.getLogger(__name__).debug(message, *args)


# one row of the table; ``[^\S\n]`` (whitespace but the line end) keeps each match on one line,
# so that the whole table is read by one ``finditer``
_ROW = (
    r"^[^\S\n]*([\d.]+)[^\S\n]+([\d.]+)[^\S\n]+(\S+)[^\S\n]+(\d+)[^\S\n]+(\S+)[^\S\n]+"
    r"(\d+)[^\S\n]+0x([0-9A-Fa-f]+)[^\S\n]+(.+?)[^\S\n]+(\d+)[^\S\n]+"
    r"(-?\d+)[^\S\n]+\(([-\d.]+)%\)[^\S\n]+([-\d.]+)[^\S\n]+"
    r"([-\d.]+)[^\S\n]+([-\d.]+)[^\S\n]+([-\d.]+)[^\S\n]+"
    r"([-\d.]+)[^\S\n]+([-\d.]+)[^\S\n]*(X?)[^\S\n]*$"
)
_EXPERT = r"^\s*(\d+)\s+Malformed\s+(\S+)"
_SIP_COUNT = r"^Number of SIP messages: (\d+)"


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    """Patterns compiled on first use (compiling costs at import, before tshark starts)."""
    return re.compile(pattern, re.MULTILINE)


#: the protocols of calls: their malformed packets count by default (``--full``: every protocol)
CALL_PROTOCOLS = frozenset({
    "SIP", "SDP", "RTP", "RTCP", "RTPEVENT", "H.225.0", "H225", "Q.931", "TPKT", "H.245", "T.38",
    "UDP", "TCP", "SCTP", "IPv4", "IPv6", "IP", "GRE", "PPPoED", "PPPoES", "PPP", "WebSocket",
})


class TsharkStream(NamedTuple):
    """One row of ``tshark -q -z rtp,streams``."""

    start_s: float
    end_s: float
    src_ip: str
    src_port: int
    dst_ip: str
    dst_port: int
    ssrc: int
    payload: str
    packets: int
    lost: int
    max_delta_ms: float
    mean_jitter_ms: float
    max_jitter_ms: float
    problem: bool

    @property
    def key(self) -> tuple[str, int, str, int, int]:
        return (self.src_ip, self.src_port, self.dst_ip, self.dst_port, self.ssrc)


def parse_rtp_streams(text: str) -> list[TsharkStream]:
    """The rows of ``-z rtp,streams`` (start, end, source, destination, SSRC, payload names,
    packets, lost (percent), min/mean/max delta, min/mean/max jitter, problem flag)."""
    return [
        TsharkStream(float(start), float(end), src, int(sport), dst, int(dport), int(ssrc, 16),
                     payload, int(pkts), int(lost), float(max_delta), float(mean_jitter),
                     float(max_jitter), problem == "X")
        for (start, end, src, sport, dst, dport, ssrc, payload, pkts, lost, _pct, _min_delta,
             _mean_delta, max_delta, _min_jitter, mean_jitter, max_jitter, problem)
        in _compiled(_ROW).findall(text)
    ]


def parse_expert_malformed(text: str, protocols: frozenset[str] | None = None) -> int:
    """Packets tshark's expert system calls malformed (``-z expert,error``), of the given
    protocols only (all with None)."""
    return sum(int(n) for n, proto in _compiled(_EXPERT).findall(text)
               if protocols is None or proto in protocols)


def tshark_binary() -> str:
    # shutil.which's lookup, without importing shutil before tshark starts
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(folder or ".", "tshark")
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise CaptureError("tshark is not installed (Debian package 'tshark')")


def _scratch_file() -> IO[bytes]:
    """An anonymous file in memory (``memfd_create``; tempfile's module costs more to import
    than tshark takes to start)."""
    if hasattr(os, "memfd_create"):
        return open(os.memfd_create("crcgw-tshark"), "w+b")  # noqa: SIM115 - closed by stop()
    import tempfile

    return tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()


def tshark_options(sip_ports: Sequence[int] = (), heuristic_rtp: bool = True) -> list[str]:
    """Dissector options shared by both tshark runs (``-o``/``-d``)."""
    opts: list[str] = []
    if heuristic_rtp:
        opts += ["-o", "rtp.heuristic_rtp:TRUE"]
    for port in sip_ports:
        if not 0 < port < 65536:
            raise CaptureError(f"--sip-port {port} is not a port number")
        opts += ["-d", f"udp.port=={port},sip", "-d", f"tcp.port=={port},sip"]
    return opts


#: SIP frames the scan reads directly are whole UDP datagrams under one IP header (no tunnel),
#: not reassembled from fragments; tshark prints every other SIP frame, and every Q.931 one.
SIGNALING_NOT_READ_DIRECTLY = (
    "q931 || (sip && !(udp && !tcp && !sctp && !ip.fragments && !ipv6.fragments"
    " && !(count(ip) > 1) && !(count(ipv6) > 1) && !(ip && ipv6)))"
)
_PRINTED_LAYERS = "frame ip ipv6 udp tcp sctp sip q931"


class TsharkResult(NamedTuple):
    streams: list[TsharkStream]
    malformed: int
    packets: list[dict[str, object]]
    """The printed frames: each the ``layers`` object of tshark's JSON (``-x``, no duplicate
    keys: a layer seen twice is a list)."""
    sip_messages: int = -1
    """The SIP messages tshark decoded, over every transport (``-z sip,stat``; -1: not said)."""


class TsharkPass:
    """The background tshark run; :meth:`result` waits for it. Always stopped by its PID.

    ``print_filter`` selects the frames printed as JSON (None: none, ``-q``). With ``capture``
    None, tshark reads its standard input, given later by :meth:`feed`: it loads its dissectors
    (a good part of its run on a small input) while the caller decides what it will read. Its
    output goes to anonymous temporary files, so that it never waits on us while we feed it."""

    def __init__(self, capture: Path | None, options: Sequence[str], print_filter: str | None,
                 all_protocols: bool = False) -> None:
        argv = [tshark_binary(), "-n", "-r", "-" if capture is None else str(capture), *options,
                "-z", "rtp,streams", "-z", "expert,error", "-z", "sip,stat"]
        if print_filter is None:
            argv.append("-q")
        else:
            argv += ["-Y", print_filter, "-T", "json", "-x", "--no-duplicate-keys",
                     "-j", _PRINTED_LAYERS]
        self.capture = capture
        self.printing = print_filter is not None
        self.counted = None if all_protocols else CALL_PROTOCOLS
        self._out = _scratch_file()
        self._err = _scratch_file()
        self._feeder: threading.Thread | None = None
        self._proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE if capture is None else subprocess.DEVNULL,
            stdout=self._out, stderr=self._err,
        )
        _debug("tshark pass: %s", " ".join(argv))  # after the start: logging imports slowly

    @property
    def waiting_for_input(self) -> bool:
        return self.capture is None and self._feeder is None

    def feed(self, capture: Path) -> None:
        """Give the capture file to a tshark reading its standard input (in a thread)."""
        stdin = self._proc.stdin
        assert stdin is not None and self._feeder is None, "feed() once, to a stdin pass"
        self.capture = capture
        import shutil
        import threading

        def copy() -> None:
            try:
                with open(capture, "rb") as f:
                    shutil.copyfileobj(f, stdin, 1 << 20)
            except OSError as exc:  # tshark gone: result() reports how it ended
                _debug("feeding tshark: %s", exc)
            finally:
                with contextlib.suppress(OSError):
                    stdin.close()

        self._feeder = threading.Thread(target=copy, name="tshark-feed", daemon=True)
        self._feeder.start()

    def result(self, timeout_s: float = 600.0) -> TsharkResult:
        if self._feeder is not None:
            self._feeder.join(timeout_s)
        try:
            self._proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            self.stop()
            raise CaptureError(f"tshark took longer than {timeout_s:.0f} s") from exc
        self._out.seek(0)
        self._err.seek(0)
        out = self._out.read().decode("utf-8", errors="replace")
        err = self._err.read().decode("utf-8", errors="replace")
        if self._proc.returncode != 0 and "RTP Streams" not in out:
            raise CaptureError(_tshark_error(err, self.capture or Path("-")))
        packets: list[dict[str, object]] = []
        stats = out
        if self.printing:
            import json

            printed, stats = _split_json(out)
            try:
                items = json.loads(printed) if printed else []
            except ValueError as exc:
                raise CaptureError(f"tshark printed JSON that cannot be read: {exc}") from exc
            for item in items:
                layers = item.get("_source", {}).get("layers") if isinstance(item, dict) else None
                if isinstance(layers, dict):
                    packets.append(layers)
        counted = _compiled(_SIP_COUNT).search(stats)
        return TsharkResult(parse_rtp_streams(stats), parse_expert_malformed(stats, self.counted),
                            packets, int(counted.group(1)) if counted else -1)

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if self._feeder is not None:
            self._feeder.join(10)
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
        self._out.close()
        self._err.close()


def _split_json(out: str) -> tuple[str, str]:
    """tshark's output: a JSON array (``[`` ... ``]`` at the start of a line), then the tables."""
    start = out.find("[")
    if start < 0:
        return "", out
    if out.startswith("[]", start):
        return "[]", out[start + 2 :]
    end = out.find("\n]", start)
    if end < 0:
        return "", out
    return out[start : end + 2], out[end + 2 :]


def _tshark_error(stderr: str, capture: Path) -> str:
    lines = [
        ln.strip()
        for ln in stderr.splitlines()
        if ln.strip() and "Running as user" not in ln and "dangerous" not in ln
    ]
    detail = lines[0] if lines else "tshark failed"
    if "isn't a capture file" in stderr or "unknown file format" in stderr.lower():
        return f"{capture} is not a capture file (pcap or pcapng)"
    return f"cannot read {capture}: {detail}"
