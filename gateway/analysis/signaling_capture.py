"""The signalling of ``crcgw analyze``: SIP datagrams read directly, the rest with pyshark.

:func:`gateway.analysis.select.signaling_frames` listed the frames that may carry SIP or
Q.931/H.225.0. A SIP datagram is one whole message (RFC 3261 18.3), so its bytes go straight to
our SIP reader: pyshark costs about 1 ms per packet in the mode used below, ten times tshark's
own statistics pass on a capture full of short calls. What needs tshark's reassembly (SIP and
H.225.0 over TCP, split across segments, and IP fragments) is copied, with every segment of
those connections, into a temporary pcapng file by our own writer, and pyshark dissects
that file in JSON mode with raw bytes (``use_json=True, include_raw=True``), restricted to the
protocols read here (``-j``). Every SIP message becomes a :class:`signaling.sipmsg.SipMessage`
parsed by our own code from its raw bytes; every Q.931 message an
:class:`signaling.ladder.H225Message`.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.analysis.errors import CaptureError
from gateway.analysis.pcapscan import PacketColumns, write_subset
from signaling.ladder import H225Message
from signaling.sipmsg import SipMessage

__all__ = ["SignalingCapture", "read_signaling", "read_sip_datagrams"]

log = logging.getLogger(__name__)

_JSON_PROTOCOLS = "frame ip ipv6 udp tcp sip q931 h225"
_ATTEMPTS = 3


@dataclass(frozen=True)
class SignalingCapture:
    sip: list[SipMessage]
    h225: list[H225Message]
    unreadable: int


def _field(layer: Any, name: str) -> str | None:
    """A field's value as text (the first one of a raw ``[hex, offset, ...]`` list)."""
    try:
        value = layer.get_field(name)
    except AttributeError:
        return None
    if isinstance(value, list):
        value = value[0] if value else None
    return None if value is None else str(value)


def _raw_bytes(layer: Any, name: str) -> bytes | None:
    text = _field(layer, name)
    try:
        return None if text is None else bytes.fromhex(text)
    except ValueError:
        return None


def _addresses(packet: Any) -> tuple[str, str, str]:
    transport = str(packet.transport_layer or "")
    ip = getattr(packet, "ip", None) or getattr(packet, "ipv6", None)
    src = str(ip.src) if ip is not None else "?"
    dst = str(ip.dst) if ip is not None else "?"
    if ":" in src:
        src, dst = f"[{src}]", f"[{dst}]"
    layer = packet[transport.lower()] if transport else None
    sport = str(layer.srcport) if layer is not None else "0"
    dport = str(layer.dstport) if layer is not None else "0"
    return f"{src}:{sport}", f"{dst}:{dport}", transport or "?"


def _sip_messages(packet: Any, time_s: float, frame: int) -> Iterator[SipMessage]:
    src, dst, transport = _addresses(packet)
    for layer in packet.get_multiple_layers("sip"):
        start = _raw_bytes(layer, "Request-Line_raw") or _raw_bytes(layer, "Status-Line_raw")
        if start is None:
            start_text = _field(layer, "Request-Line") or _field(layer, "Status-Line") or ""
            start = start_text.encode()
        headers = _raw_bytes(layer, "msg_hdr_raw")
        if headers is None:
            headers = (_field(layer, "msg_hdr") or "").encode()
        body = _raw_bytes(layer, "msg_body_raw") or b""
        raw = start.rstrip(b"\r\n") + b"\r\n" + headers.rstrip(b"\r\n") + b"\r\n\r\n" + body
        yield SipMessage.parse(raw, time_s=time_s, src=src, dst=dst, transport=transport,
                               frame=frame)


def _h225_messages(packet: Any, time_s: float, frame: int) -> Iterator[H225Message]:
    src, dst, _ = _addresses(packet)
    for layer in packet.get_multiple_layers("q931"):
        ref_text = _field(layer, "call_ref") or ""
        mtype_text = _field(layer, "message_type") or ""
        try:
            call_ref = int(ref_text.replace(":", ""), 16) if ref_text else 0
            mtype = int(mtype_text, 0)
        except ValueError:
            continue
        cause_text = _field(layer, "cause_value")
        cause = int(cause_text, 0) if cause_text and cause_text.isdigit() else None
        yield H225Message(time_s, src, dst, call_ref, mtype, frame, cause)


def read_sip_datagrams(cols: PacketColumns, frames: Sequence[int]) -> SignalingCapture:
    """SIP messages of the listed UDP datagrams (1-based frames); what is not a SIP request
    or response (keep-alives, other protocols on a SIP port) is counted as unreadable."""
    sip: list[SipMessage] = []
    unreadable = 0
    for frame in frames:
        i = frame - 1
        payload = cols.payload_bytes(i)
        if not payload.strip():
            continue  # CRLF keep-alive (RFC 5626)
        src = _endpoint(cols.addresses[int(cols.src[i])], int(cols.sport[i]))
        dst = _endpoint(cols.addresses[int(cols.dst[i])], int(cols.dport[i]))
        msg = SipMessage.parse(payload, time_s=float(cols.time_s[i]), src=src, dst=dst,
                               transport="UDP", frame=frame)
        if msg.kind == "unknown" or not msg.call_id:
            unreadable += 1
            continue
        sip.append(msg)
    return SignalingCapture(sip, [], unreadable)


def _endpoint(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def read_signaling(
    cols: PacketColumns,
    frames: Sequence[int],
    tshark_opts: Sequence[str] = (),
) -> SignalingCapture:
    """Read every SIP and Q.931 message in the listed ``frames`` (1-based) of the scanned
    capture ``cols`` with pyshark (JSON mode with raw bytes, over a sub-capture)."""
    if not frames:
        return SignalingCapture([], [], 0)
    from pyshark.capture.capture import TSharkCrashException

    kept = list(frames)
    with tempfile.TemporaryDirectory(prefix="crcgw-analyze-") as tmp:
        sub = Path(tmp) / "signaling.pcapng"
        write_subset(cols, kept, sub)
        for attempt in range(_ATTEMPTS):
            try:
                return _read_subset(sub, cols, kept, tshark_opts)
            except TSharkCrashException as exc:
                # pyshark reports a child it could not reap (asyncio child watchers racing
                # under load) as a tshark crash; the sub-capture is ours, so read it again.
                log.debug("pyshark attempt %d: %s", attempt + 1, exc)
                failure: Exception = exc
    raise CaptureError(f"tshark failed on the signalling frames: {failure}")


_LOOP: asyncio.AbstractEventLoop | None = None


def _pyshark_loop() -> asyncio.AbstractEventLoop:
    """The one event loop pyshark runs tshark on, kept for the life of the process.

    Left to itself, pyshark takes the thread's default loop and never closes it; once something
    else replaces that default (``asyncio.run`` does), the loop is garbage-collected unclosed at
    an unrelated moment. One loop of our own, closed at exit, avoids both.
    """
    global _LOOP
    if _LOOP is None or _LOOP.is_closed():
        _LOOP = asyncio.new_event_loop()
        atexit.register(_LOOP.close)
    return _LOOP


def _read_subset(
    sub: Path, cols: PacketColumns, kept: Sequence[int], tshark_opts: Sequence[str]
) -> SignalingCapture:
    import pyshark  # the I/O edge: imported only when there is signalling to read

    sip: list[SipMessage] = []
    h225: list[H225Message] = []
    unreadable = 0
    cap = pyshark.FileCapture(
        str(sub),
        eventloop=_pyshark_loop(),
        display_filter="sip || q931",
        use_json=True,
        include_raw=True,
        keep_packets=False,
        custom_parameters=[*tshark_opts, "-j", _JSON_PROTOCOLS],
    )
    try:
        for packet in cap:
            index = int(packet.frame_info.number) - 1
            frame = kept[index] if 0 <= index < len(kept) else 0
            time_s = float(cols.time_s[frame - 1]) if frame else 0.0
            try:
                layers = {layer.layer_name for layer in packet.layers}
                if "sip" in layers:
                    sip.extend(_sip_messages(packet, time_s, frame))
                if "q931" in layers:
                    h225.extend(_h225_messages(packet, time_s, frame))
            except (AttributeError, KeyError, ValueError) as exc:
                unreadable += 1
                log.debug("frame %d: %s", frame, exc)
    finally:
        _close(cap)
    return SignalingCapture(sip, h225, unreadable)


def _close(cap: Any) -> None:
    """Close a pyshark capture for good, even when its tshark died.

    pyshark's ``close()`` raises again for a tshark that exited badly and keeps it in its
    process set, so its ``__del__`` would raise once more at some unrelated later moment (the
    crash itself was already seen, and is retried, by the caller). Forget the process here.
    """
    from pyshark.capture.capture import TSharkCrashException

    try:
        cap.close()
    except TSharkCrashException as exc:
        log.debug("closing the pyshark capture: %s", exc)
    finally:
        cap._running_processes.clear()  # pyshark 0.6 internals: nothing left for __del__
