"""TPKT framing (RFC 1006) as H.225.0 and H.245 use it on TCP, sans I/O.

A frame is ``03 00 LL LL`` followed by the payload, where ``LLLL`` is the big-endian length of the
whole frame including the four header bytes.

>>> encode(b"\\x08\\x02")
b'\\x03\\x00\\x00\\x06\\x08\\x02'
>>> TpktDecoder().feed(b"\\x03\\x00\\x00\\x05\\x08\\x03\\x00")
[b'\\x08']
"""

from __future__ import annotations

from signaling.h323.errors import TpktError

__all__ = ["HEADER_LEN", "MAX_PAYLOAD", "TPKT_VERSION", "TpktDecoder", "decode", "encode"]

TPKT_VERSION = 3
HEADER_LEN = 4
MAX_PAYLOAD = 0xFFFF - HEADER_LEN


def encode(payload: bytes) -> bytes:
    """One TPKT frame around ``payload`` (1 to 65531 bytes)."""
    if not payload:
        raise TpktError("TPKT payload is empty")
    if len(payload) > MAX_PAYLOAD:
        raise TpktError(f"TPKT payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return bytes((TPKT_VERSION, 0)) + (len(payload) + HEADER_LEN).to_bytes(2, "big") + payload


def frame_length(header: bytes) -> int:
    """The total frame length announced by a 4-byte header; checks version and length."""
    if len(header) < HEADER_LEN:
        raise TpktError(f"truncated TPKT header: {len(header)} of {HEADER_LEN} bytes")
    if header[0] != TPKT_VERSION:
        raise TpktError(f"not a TPKT frame: version {header[0]} (expected {TPKT_VERSION})")
    length = int.from_bytes(header[2:4], "big")
    if length <= HEADER_LEN:
        raise TpktError(f"bad TPKT length {length}: must exceed the {HEADER_LEN}-byte header")
    return length


def decode(frame: bytes) -> bytes:
    """The payload of exactly one complete frame."""
    length = frame_length(frame[:HEADER_LEN])
    if len(frame) < length:
        raise TpktError(f"truncated TPKT frame: header says {length} bytes, got {len(frame)}")
    if len(frame) > length:
        raise TpktError(f"{len(frame) - length} bytes after the TPKT frame of {length} bytes")
    return frame[HEADER_LEN:]


class TpktDecoder:
    """Stream reassembly: :meth:`feed` bytes as they arrive, get whole payloads back."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes received that do not yet form a whole frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """Add ``data``; return the payloads of every frame now complete (maybe none)."""
        self._buffer += data
        payloads: list[bytes] = []
        while len(self._buffer) >= HEADER_LEN:
            length = frame_length(bytes(self._buffer[:HEADER_LEN]))
            if len(self._buffer) < length:
                break
            payloads.append(bytes(self._buffer[HEADER_LEN:length]))
            del self._buffer[:length]
        return payloads

    def close(self) -> None:
        """The stream ended: raise :class:`TpktError` when a frame was cut short."""
        if self._buffer:
            have = len(self._buffer)
            if have < HEADER_LEN:
                raise TpktError(f"truncated TPKT header at end of stream: {have} bytes")
            length = frame_length(bytes(self._buffer[:HEADER_LEN]))
            raise TpktError(f"truncated TPKT frame: header says {length} bytes, got {have}")
