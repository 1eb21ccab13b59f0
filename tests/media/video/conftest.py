"""Helpers of the video stream tests: waiting on conditions, stream pairs on loopback."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from media.video import VideoCodec, VideoStream

SMALL = {"width": 320, "height": 240, "fps": 15, "bitrate_kbps": 300}


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, step: float = 0.05) -> bool:
    """Poll ``condition`` until true or ``timeout`` seconds passed (generous: CI is loaded)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(step)
    return condition()


def codec_named(name: str) -> VideoCodec:
    return VideoCodec.h264(width=320, height=240, fps=15) if name == "H264" else VideoCodec.vp8()


def started_pair(
    made: list[VideoStream], codec: VideoCodec, first: str, second: str
) -> tuple[VideoStream, VideoStream]:
    """Two streams (directions ``first``, ``second``) sending to each other on loopback."""
    a = VideoStream(codec=codec, direction=first, **SMALL)
    b = VideoStream(codec=codec, direction=second, **SMALL)
    made += [a, b]
    a.start(("127.0.0.1", b.local_port))
    b.start(("127.0.0.1", a.local_port))
    return a, b


@pytest.fixture
def streams() -> Iterator[list[VideoStream]]:
    """Streams a test creates (append them); all stopped afterwards."""
    made: list[VideoStream] = []
    yield made
    for s in made:
        s.stop()


class RawRtp:
    """A hand-made RTP sender (struct, not our packetizer) for hostile and feedback tests."""

    def __init__(self, port: int, ssrc: int = 0x1234ABCD, payload_type: int = 96) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.target = ("127.0.0.1", port)
        self.ssrc, self.payload_type = ssrc, payload_type
        self.seq, self.timestamp = 1000, 90000

    def send(self, payload: bytes, marker: bool = False, payload_type: int | None = None) -> None:
        pt = self.payload_type if payload_type is None else payload_type
        header = struct.pack(
            "!BBHLL", 0x80, (0x80 if marker else 0) | pt, self.seq & 0xFFFF, self.timestamp,
            self.ssrc,
        )  # fmt: skip
        self.sock.sendto(header + payload, self.target)
        self.seq += 1

    def send_frame(
        self, payloads: list[bytes], skip: frozenset[int] | set[int] = frozenset()
    ) -> None:
        for i, payload in enumerate(payloads):
            if i in skip:
                self.seq += 1
                continue
            self.send(payload, marker=i == len(payloads) - 1)
        self.timestamp += 6000

    def raw(self, data: bytes, port: int | None = None) -> None:
        self.sock.sendto(data, (self.target[0], port or self.target[1]))

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw_rtp() -> Iterator[Callable[[int], RawRtp]]:
    made: list[RawRtp] = []

    def make(port: int) -> RawRtp:
        made.append(RawRtp(port))
        return made[-1]

    yield make
    for r in made:
        r.close()


class LossyRelay:
    """Forward UDP from one port to a target, dropping chosen RTP sequence numbers once."""

    def __init__(self, target: int, drop_every: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.target, self.drop_every = ("127.0.0.1", target), drop_every
        self.dropped: set[int] = set()
        self.seen = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            seq = struct.unpack_from("!H", data, 2)[0]
            self.seen += 1
            drop = self.drop_every and self.seen > 30 and self.seen % self.drop_every == 0
            if drop and seq not in self.dropped:
                self.dropped.add(seq)
                continue
            self.sock.sendto(data, self.target)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()
