"""The signalling of ``crcgw analyze``: SIP datagrams read directly, the rest from tshark.

:func:`gateway.analysis.select.signaling_frames` listed the frames that may carry SIP or
Q.931/H.225.0. A SIP datagram is one whole message (RFC 3261 18.3), so its bytes go straight to
our SIP reader. What needs tshark's reassembly or decoding (SIP over TCP, SCTP and WebSocket,
over IP fragments or in tunnels, and Q.931) comes from the one tshark run
(:class:`gateway.analysis.tshark_streams.TsharkPass`), printed as JSON with raw bytes: every
SIP message is rebuilt from tshark's ``sip_raw`` bytes and parsed by our own code
(:class:`signaling.sipmsg.SipMessage`), every Q.931 message becomes an
:class:`signaling.ladder.H225Message`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from gateway.analysis.pcapscan import PacketColumns
from signaling.ladder import H225Message
from signaling.sipmsg import SipMessage

__all__ = ["SignalingCapture", "read_sip_datagrams", "read_tshark_signaling"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignalingCapture:
    sip: list[SipMessage]
    h225: list[H225Message]
    unreadable: int


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def _raw_items(value: object) -> list[bytes]:
    """tshark's ``*_raw`` value: ``[hex, offset, length, mask, type]``, or a list of them."""
    if not isinstance(value, list) or not value:
        return []
    items = value if isinstance(value[0], list) else [value]
    out = []
    for item in items:
        if item and isinstance(item[0], str):
            try:
                out.append(bytes.fromhex(item[0]))
            except ValueError:
                continue
    return out


def _find(tree: object, key: str) -> str | None:
    """The first value of ``key`` anywhere in a layer's (nested) JSON object."""
    if isinstance(tree, dict):
        if key in tree:
            value = tree[key]
            value = value[0] if isinstance(value, list) and value else value
            return value if isinstance(value, str) else None
        for sub in tree.values():
            found = _find(sub, key)
            if found is not None:
                return found
    elif isinstance(tree, list):
        for sub in tree:
            found = _find(sub, key)
            if found is not None:
                return found
    return None


def _ends(layers: Mapping[str, object]) -> tuple[str, str, str]:
    """Source and destination ``ip:port`` of the innermost IP and transport layers."""
    ip_key = next((k for k in reversed(list(layers)) if k in ("ip", "ipv6")), None)
    src = dst = "?"
    if ip_key is not None:
        ip = _as_list(layers[ip_key])[-1]
        src = _find(ip, f"{ip_key}.src") or "?"
        dst = _find(ip, f"{ip_key}.dst") or "?"
        if ip_key == "ipv6":
            src, dst = f"[{src}]", f"[{dst}]"
    transport = next((k for k in reversed(list(layers)) if k in ("udp", "tcp", "sctp")), None)
    if transport is None:
        return f"{src}:0", f"{dst}:0", "?"
    layer = _as_list(layers[transport])[-1]
    sport = _find(layer, f"{transport}.srcport") or "0"
    dport = _find(layer, f"{transport}.dstport") or "0"
    return f"{src}:{sport}", f"{dst}:{dport}", transport.upper()


def _sip_messages(layers: Mapping[str, object], time_s: float, frame: int,
                  protocols: str) -> Iterator[SipMessage]:
    src, dst, transport = _ends(layers)
    if ":websocket:" in protocols:
        transport = "WS"
    for raw in _raw_items(layers.get("sip_raw")):
        yield SipMessage.parse(raw, time_s=time_s, src=src, dst=dst, transport=transport,
                               frame=frame)


def _h225_messages(layers: Mapping[str, object], time_s: float,
                   frame: int) -> Iterator[H225Message]:
    src, dst, _ = _ends(layers)
    for layer in _as_list(layers.get("q931")):
        ref_text = _find(layer, "q931.call_ref") or ""
        mtype_text = _find(layer, "q931.message_type") or ""
        try:
            call_ref = int(ref_text.replace(":", ""), 16) if ref_text else 0
            mtype = int(mtype_text, 0)
        except ValueError:
            continue
        cause_text = _find(layer, "q931.cause_value")
        cause = int(cause_text, 0) if cause_text and cause_text.isdigit() else None
        yield H225Message(time_s, src, dst, call_ref, mtype, frame, cause)


def read_tshark_signaling(
    packets: Sequence[Mapping[str, object]],
    cols: PacketColumns,
    frame_map: Sequence[int] | None,
    skip: frozenset[int] = frozenset(),
) -> SignalingCapture:
    """SIP and Q.931 messages of the frames tshark printed. ``frame_map`` turns tshark's frame
    numbers (of a sub-capture) into the capture's; frames in ``skip`` were read directly."""
    sip: list[SipMessage] = []
    h225: list[H225Message] = []
    unreadable = 0
    for layers in packets:
        frame_layer = layers.get("frame")
        number = _find(frame_layer, "frame.number")
        protocols = _find(frame_layer, "frame.protocols") or ""
        try:
            index = int(number or "0")
        except ValueError:
            index = 0
        frame = frame_map[index - 1] if frame_map is not None and 0 < index <= len(
            frame_map) else index
        if frame in skip:
            continue
        time_s = float(cols.time_s[frame - 1]) if 0 < frame <= cols.frames else 0.0
        try:
            sip.extend(_sip_messages(layers, time_s, frame, f":{protocols}:"))
            h225.extend(_h225_messages(layers, time_s, frame))
        except (KeyError, ValueError, TypeError) as exc:
            unreadable += 1
            log.debug("frame %d: %s", frame, exc)
    return SignalingCapture(sip, h225, unreadable)


def read_sip_datagrams(cols: PacketColumns, frames: Sequence[int]) -> SignalingCapture:
    """SIP messages of the listed UDP datagrams (1-based frames), read in bulk
    (:mod:`gateway.analysis.sip_datagrams`); what is not a SIP request or response
    (keep-alives, other protocols on a SIP port) is counted as unreadable."""
    from gateway.analysis.sip_datagrams import read_datagram_messages

    sip, unreadable = read_datagram_messages(cols, frames)
    return SignalingCapture(sip, [], unreadable)

