"""One RTP video stream on its own UDP sockets, beside pjsua2's audio (see docs/video.md).

Three threads: the sender (source -> PyAV encoder -> aiortc packetizer -> RTP), the receiver
(RTP/RTCP sockets -> frame assembly, NACK, RTCP reports and feedback) and the decoder (PyAV).
The queue between receiver and decoder is bounded; a full queue drops the frame and asks for a
keyframe. PyAV releases the GIL while it encodes and decodes.
"""

from __future__ import annotations

import logging
import os
import queue
import random
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from aiortc.rtp import RtcpByePacket, RtpPacket

from media.video import rtcp
from media.video._sockets import DIRECTIONS, bind_pair, check_direction
from media.video.assembler import FrameAssembler, Packet, SequenceStats
from media.video.codec import VideoCodec, VideoDecoder, VideoEncoder, depayload, is_keyframe
from media.video.sender import RtpSender
from media.video.sources import FrameSource, TestPatternSource
from media.video.stats import ReceiveMeter, VideoStats

__all__ = ["DIRECTIONS", "VideoStream"]

log = logging.getLogger(__name__)

Address = tuple[str, int]
_UNSET: Any = object()
RECV_BATCH = 256  # datagrams read per socket per round (bounds the time spent on a flood)
DECODE_QUEUE = 48  # frames; a burst of this many waits for the decoder
KEYFRAME_REQUEST_GAP_S = 0.3
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium")


class VideoStream:
    """Send and receive one video stream. See the module and docs/video.md."""

    def __init__(
        self,
        local_host: str = "127.0.0.1",
        local_port: int = 0,
        codec: VideoCodec | None = None,
        source: FrameSource | None = None,
        width: int = 640,
        height: int = 360,
        fps: float = 15,
        bitrate_kbps: int = 512,
        direction: str = "sendrecv",
        rtcp_mux: bool = False,
        *,
        freeze_ms: float = 500.0,
        preset: str = "ultrafast",
        threads: int = 1,
        keyframe_interval_s: float = 10.0,
        rtcp_interval_s: float = 1.0,
        cname: str | None = None,
    ) -> None:
        check_direction(direction)
        if not 1 <= fps <= 60:
            raise ValueError(f"fps: expected 1..60, got {fps!r}")
        if not 32 <= bitrate_kbps <= 20000:
            raise ValueError(f"bitrate_kbps: expected 32..20000, got {bitrate_kbps!r}")
        if preset not in X264_PRESETS:
            raise ValueError(f"preset: expected one of {', '.join(X264_PRESETS)}, got {preset!r}")
        if not isinstance(threads, int) or not 1 <= threads <= 16:
            raise ValueError(f"threads: expected 1..16, got {threads!r}")
        self.codec = codec or VideoCodec.h264(width=width, height=height, fps=fps)
        self.source: FrameSource = source or TestPatternSource(width, height)
        self.width, self.height = self.source.width, self.source.height
        self.fps, self.bitrate_kbps = fps, bitrate_kbps
        self.direction, self.rtcp_mux = direction, rtcp_mux
        self.preset, self.threads = preset, threads
        self.keyframe_interval_s = keyframe_interval_s
        self.rtcp_interval_s = rtcp_interval_s
        self._rtp_sock, self._rtcp_sock = bind_pair(local_host, local_port, rtcp_mux)
        self.local_port: int = self._rtp_sock.getsockname()[1]
        self.ssrc = random.getrandbits(32) or 1
        self.cname = cname or f"crcgw-{os.getpid()}-{self.ssrc:08x}"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._remote_rtp: Address | None = None
        self._remote_rtcp: Address | None = None
        self._callbacks: list[Callable[[], None]] = []
        self._force_key = threading.Event()
        self._encoder_stale = True
        # sending state
        self._t0 = time.monotonic()
        self._sender = RtpSender(self._rtp_sock, self.ssrc, self.codec.clock_rate)
        # receiving state
        self._remote_ssrc: int | None = None
        self._remote_last_seen = 0.0
        self._seqstats = SequenceStats()
        self._assembler = FrameAssembler()
        self._meter = ReceiveMeter(freeze_ms)
        self._decode_q: queue.Queue[tuple[str, bytes, bool]] = queue.Queue(DECODE_QUEUE)
        self._await_key = True
        self._last_frame: Any = None
        self._profile = ""
        self._kf_request_at: float | None = None
        self._kf_last_request = -1e9
        self._kf_rtt_ms: float | None = None
        self._fir_seq = 0
        self._last_fir_seq_seen: int | None = None
        self._lsr, self._lsr_at = 0, 0.0
        self._rtt_ms: float | None = None
        self._remb_kbps: float | None = None
        self._count = {
            "packets": 0, "bad": 0, "nacks_sent": 0, "nacks_received": 0, "decode_errors": 0,
            "dropped": 0, "keyframes": 0, "plis_received": 0, "firs_received": 0,
            "plis_sent": 0, "firs_sent": 0, "rtcp": 0,
        }  # fmt: skip

    # -- public API ------------------------------------------------------------------------

    @property
    def sends(self) -> bool:
        return self.direction in ("sendrecv", "sendonly")

    @property
    def receives(self) -> bool:
        return self.direction in ("sendrecv", "recvonly")

    def start(self, remote_rtp: Address | None, remote_rtcp: Address | None = None) -> None:
        """Start the threads; RTP goes to ``remote_rtp`` (``None``: receive only, for now)."""
        if self._threads or self._stop.is_set():
            raise RuntimeError("video stream already started or stopped")
        self._set_remote(remote_rtp, remote_rtcp)
        self._t0 = time.monotonic()
        self._meter.start(self._t0)
        if not self.receives:
            self._meter.pause()
        for name, target in (("send", self._send_loop), ("recv", self._recv_loop),
                             ("decode", self._decode_loop)):  # fmt: skip
            t = threading.Thread(target=target, name=f"video-{name}-{self.local_port}", daemon=True)
            self._threads.append(t)
            t.start()

    def update(
        self,
        remote_rtp: Address | None = _UNSET,
        remote_rtcp: Address | None = _UNSET,
        codec: VideoCodec | None = None,
        direction: str | None = None,
    ) -> None:
        """Apply a re-INVITE or hold/resume; then a keyframe is sent and one is asked for."""
        if direction is not None:
            check_direction(direction)
        with self._lock:
            if remote_rtp is not _UNSET:
                rtcp_to = None if remote_rtcp is _UNSET else remote_rtcp
                self._set_remote(remote_rtp, rtcp_to)
            elif remote_rtcp is not _UNSET:
                self._remote_rtcp = remote_rtcp
            if codec is not None and codec != self.codec:
                self._encoder_stale = codec.name != self.codec.name or (
                    codec.fmtp != self.codec.fmtp
                )
                self.codec = codec
                self._assembler.reset()
                self._remote_ssrc = None
            if direction is not None:
                self.direction = direction
            if not self.receives:
                self._meter.pause()
            self._await_key = True
        self._force_key.set()
        if self.receives and self._threads:
            self.request_keyframe()

    def request_keyframe(self) -> None:
        """Ask the far end for a keyframe: RTCP PLI (and FIR when it offered ``ccm fir``),
        then the ``on_keyframe_needed`` callbacks (e.g. SIP INFO picture_fast_update)."""
        self._request_keyframe(time.monotonic())

    def on_keyframe_needed(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    def force_keyframe(self) -> None:
        """Send a keyframe next (answer to a PLI/FIR received by RTCP or SIP INFO)."""
        self._force_key.set()

    def stats(self) -> VideoStats:
        now = time.monotonic()
        with self._lock:
            m, c, s = self._meter, self._count, self._sender
            return VideoStats(
                codec=self.codec.name,
                profile=self._profile,
                width=m.width,
                height=m.height,
                fps=round(m.fps(now), 2),
                bitrate_kbps=round(m.bitrate_kbps(now), 1),
                packets=c["packets"],
                lost=self._seqstats.lost,
                nacks_sent=c["nacks_sent"],
                nacks_received=c["nacks_received"],
                freezes=m.freezes + (1 if m.ongoing_freeze_ms(now) else 0),
                freeze_ms=round(m.freeze_total_ms + m.ongoing_freeze_ms(now), 1),
                max_gap_ms=round(max(m.max_gap_ms, m.ongoing_freeze_ms(now)), 1),
                first_frame_ms=m.first_frame_ms(),
                keyframe_rtt_ms=self._kf_rtt_ms,
                decoded_frames=m.decoded,
                decode_errors=c["decode_errors"],
                dropped_frames=c["dropped"] + self._assembler.dropped_frames,
                bad_packets=c["bad"],
                resolution_changes=m.resolution_changes,
                keyframes_received=c["keyframes"],
                jitter_ms=round(self._seqstats.jitter / 90, 2),
                rtt_ms=self._rtt_ms,
                rtcp_received=c["rtcp"],
                frames_sent=s.frames,
                packets_sent=s.packets,
                bytes_sent=s.octets,
                keyframes_sent=s.keyframes,
                plis_received=c["plis_received"],
                firs_received=c["firs_received"],
                plis_sent=c["plis_sent"],
                firs_sent=c["firs_sent"],
                retransmitted=s.retransmitted,
                remb_kbps=self._remb_kbps,
            )

    def last_frame(self) -> npt.NDArray[np.uint8] | None:
        """The last decoded picture as RGB ``(h, w, 3)``, or ``None`` before the first."""
        with self._lock:
            frame = self._last_frame
        if frame is None:
            return None
        rgb: npt.NDArray[np.uint8] = frame.to_ndarray(format="rgb24")
        return rgb

    def save_snapshot(self, path: str | Path) -> bool:
        """Write the last decoded picture as PNG; ``False`` when nothing was decoded yet."""
        rgb = self.last_frame()
        if rgb is None:
            return False
        from PIL import Image

        Image.fromarray(rgb).save(Path(path), format="PNG")
        return True

    def stop(self) -> None:
        """Send RTCP BYE, stop the threads and close the sockets (idempotent)."""
        if self._stop.is_set():
            return
        self._stop.set()
        for t in self._threads:
            t.join(timeout=10)
        try:
            bye = bytes(RtcpByePacket(sources=[self.ssrc]))
            self._send_rtcp(rtcp.compound_report(self.ssrc, self.cname, None, None) + bye)
        except OSError:
            pass
        self._rtp_sock.close()
        if self._rtcp_sock is not None:
            self._rtcp_sock.close()

    def __enter__(self) -> VideoStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- sending ---------------------------------------------------------------------------

    def _set_remote(self, remote_rtp: Address | None, remote_rtcp: Address | None) -> None:
        if remote_rtp is not None and remote_rtcp is None:
            host, port = remote_rtp[0], remote_rtp[1]
            remote_rtcp = (host, port) if self.rtcp_mux else (host, port + 1)
        changed = remote_rtp != self._remote_rtp
        self._remote_rtp = remote_rtp
        self._remote_rtcp = remote_rtcp
        if changed:
            self._force_key.set()

    def _send_rtcp(self, data: bytes) -> None:
        target = self._remote_rtcp
        sock = self._rtcp_sock or self._rtp_sock
        if target is not None:
            sock.sendto(data, target)

    def _send_loop(self) -> None:
        encoder: VideoEncoder | None = None
        period = 1.0 / self.fps
        next_at = time.monotonic()
        index = failures = 0
        while not self._stop.is_set():
            delay = next_at - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                break
            now = time.monotonic()
            next_at += period
            if next_at < now - period:  # more than a frame late: skip, never burst
                next_at = now
            index += 1
            try:
                encoder = self._send_tick(encoder, index - 1, now)
            except Exception:  # a failing source or codec must not end the call's media
                failures += 1
                if failures <= 3:
                    log.exception("video sender: frame %d failed", index)
                encoder = None
                self._stop.wait(0.2)

    def _send_tick(
        self, encoder: VideoEncoder | None, index: int, now: float
    ) -> VideoEncoder | None:
        """Encode and send one frame (if sending); returns the encoder to use next time."""
        with self._lock:
            sending = self.sends and self._remote_rtp is not None
            codec, stale = self.codec, self._encoder_stale
            self._encoder_stale = False
        if not sending:
            return None if stale else encoder
        if encoder is None or stale:
            encoder = VideoEncoder(
                codec, self.width, self.height, self.fps, self.bitrate_kbps,
                preset=self.preset, threads=self.threads,
                keyframe_interval_s=self.keyframe_interval_s,
            )  # fmt: skip
            self._force_key.set()
        picture = self.source.frame(index, now - self._t0)
        forced = self._force_key.is_set()
        if forced:  # reset only what was seen: a request arriving meanwhile keeps for the next
            self._force_key.clear()
        payloads, key = encoder.encode(picture, keyframe=forced)
        with self._lock:
            target = self._remote_rtp
        if payloads and target is not None:
            ts = self._sender.rtp_timestamp(now - self._t0)
            self._sender.send_frame(target, codec.payload_type, payloads, ts, key)
        return encoder

    # -- receiving -------------------------------------------------------------------------

    def _recv_loop(self) -> None:
        sel = selectors.DefaultSelector()
        self._rtp_sock.setblocking(False)
        sel.register(self._rtp_sock, selectors.EVENT_READ, "rtp")
        if self._rtcp_sock is not None:
            self._rtcp_sock.setblocking(False)
            sel.register(self._rtcp_sock, selectors.EVENT_READ, "rtcp")
        next_report = time.monotonic() + self.rtcp_interval_s * random.uniform(0.5, 1.0)
        next_nack = 0.0
        try:
            while not self._stop.is_set():
                for key, _ in sel.select(timeout=0.02):
                    sock: socket.socket = key.fileobj  # type: ignore[assignment]
                    for _ in range(RECV_BATCH):
                        try:
                            data = sock.recv(65536)
                        except (BlockingIOError, InterruptedError):
                            break
                        except OSError:
                            break  # ICMP errors surface here on Linux
                        self._on_datagram(data, key.data == "rtcp")
                now = time.monotonic()
                self._deliver(now)
                if now >= next_nack:
                    next_nack = now + 0.03
                    self._send_nacks(now)
                if now >= next_report:
                    next_report = now + self.rtcp_interval_s * random.uniform(0.5, 1.5)
                    self._send_report(now)
        finally:
            sel.close()

    def _on_datagram(self, data: bytes, on_rtcp_port: bool) -> None:
        now = time.monotonic()
        try:
            if on_rtcp_port or rtcp.is_rtcp(data):
                self._on_rtcp(data, now)
            else:
                self._on_rtp(data, now)
        except Exception:  # whatever arrives, the receiver goes on
            self._bad()
            log.debug("video receiver: datagram not handled", exc_info=True)

    def _on_rtp(self, data: bytes, now: float) -> None:
        with self._lock:
            self._count["packets"] += 1
            receiving = self.receives
            codec = self.codec
        try:
            pkt = RtpPacket.parse(data)
        except ValueError:
            self._bad()
            return
        if pkt.payload_type != codec.payload_type:
            self._bad()
            return
        with self._lock:
            if self._remote_ssrc != pkt.ssrc:
                if self._remote_ssrc is not None and now - self._remote_last_seen < 0.5:
                    self._count["bad"] += 1  # a second source while the first one talks
                    return
                self._remote_ssrc = pkt.ssrc
                self._seqstats = SequenceStats(clock_rate=codec.clock_rate)
                self._assembler.reset()
                self._await_key = True
            self._remote_last_seen = now
            ext = self._seqstats.unwrap(pkt.sequence_number)
            self._seqstats.add(ext, pkt.timestamp, now)
            self._meter.on_bytes(now, len(data))
        if not receiving:
            return
        try:
            part = depayload(codec.name, pkt.payload)
        except (ValueError, IndexError, struct.error):
            self._bad()
            return
        with self._lock:
            marker = bool(pkt.marker)
            self._assembler.add(Packet(ext, pkt.timestamp, marker, part.frame_start, part.data))

    def _bad(self) -> None:
        with self._lock:
            self._count["bad"] += 1

    def _deliver(self, now: float) -> None:
        with self._lock:
            frames, dropped = self._assembler.pop_frames(now)
            codec_name = self.codec.name
        need_key = dropped
        for frame in frames:
            key = is_keyframe(codec_name, frame.data)
            with self._lock:
                if frame.after_loss:  # it may refer to what was lost
                    self._await_key = True
                if self._await_key and not key:
                    self._count["dropped"] += 1
                    need_key = True
                    continue
                self._await_key = False
            try:
                self._decode_q.put_nowait((codec_name, frame.data, key))
            except queue.Full:
                with self._lock:
                    self._count["dropped"] += 1
                    self._await_key = True
                need_key = True
        if need_key:  # the frame after a drop comes with after_loss and waits for a keyframe
            self._request_keyframe(now, automatic=True)

    def _send_nacks(self, now: float) -> None:
        with self._lock:
            media_ssrc = self._remote_ssrc
            lost = self._assembler.missing(now) if media_ssrc is not None else []
            if lost:
                self._count["nacks_sent"] += len(lost)
        fb = self.codec.rtcp_fb
        if lost and media_ssrc is not None and (not fb or "nack" in fb):
            try:
                self._send_rtcp(rtcp.nack(self.ssrc, media_ssrc, [s & 0xFFFF for s in lost]))
            except OSError:
                pass

    def _request_keyframe(self, now: float, automatic: bool = False) -> None:
        with self._lock:
            if automatic and now - self._kf_last_request < KEYFRAME_REQUEST_GAP_S:
                return
            self._kf_last_request = now
            if self._kf_request_at is None:
                self._kf_request_at = now
            media_ssrc = self._remote_ssrc or 0
            codec = self.codec
            out = b""
            if codec.wants_pli:
                out += rtcp.pli(self.ssrc, media_ssrc)
                self._count["plis_sent"] += 1
            if codec.wants_fir:
                self._fir_seq = (self._fir_seq + 1) & 0xFF
                out += rtcp.fir(self.ssrc, media_ssrc, self._fir_seq)
                self._count["firs_sent"] += 1
        if out:
            try:
                self._send_rtcp(out)
            except OSError:
                pass
        for callback in list(self._callbacks):
            try:
                callback()
            except Exception:  # a signaling hook must not stop the media threads
                log.exception("on_keyframe_needed callback failed")

    def _send_report(self, now: float) -> None:
        with self._lock:
            sender = None
            out = self._sender
            if self.sends and out.packets:
                rtp_ts = out.rtp_timestamp(now - self._t0)
                sender = (rtcp.ntp_now(), rtp_ts, out.packets, out.octets)
            block = None
            if self._remote_ssrc is not None and self._seqstats.base is not None:
                st = self._seqstats
                dlsr = int((now - self._lsr_at) * 65536) if self._lsr else 0
                block = rtcp.ReportBlock(
                    self._remote_ssrc, st.interval_fraction_lost(), min(st.lost, 0x7FFFFF),
                    st.highest, int(st.jitter), self._lsr, dlsr,
                )  # fmt: skip
        try:
            self._send_rtcp(rtcp.compound_report(self.ssrc, self.cname, sender, block))
        except OSError:
            pass

    def _on_rtcp(self, data: bytes, now: float) -> None:
        try:
            fb = rtcp.parse_feedback(data, self.ssrc)
        except (ValueError, struct.error, IndexError):
            self._bad()
            return
        force = False
        with self._lock:
            self._count["rtcp"] += 1
            if fb.sr_ntp is not None:
                self._lsr, self._lsr_at = (fb.sr_ntp >> 16) & 0xFFFFFFFF, now
            if fb.our_report is not None and fb.our_report.lsr:
                mid = (rtcp.ntp_now() >> 16) & 0xFFFFFFFF
                rtt = ((mid - fb.our_report.lsr - fb.our_report.dlsr) & 0xFFFFFFFF) / 65536
                if rtt < 60:
                    self._rtt_ms = round(rtt * 1000, 1)
            if fb.pli:
                self._count["plis_received"] += fb.pli
                force = True
            for seq_nr in fb.fir_seqs:
                self._count["firs_received"] += 1
                if seq_nr != self._last_fir_seq_seen:
                    self._last_fir_seq_seen = seq_nr
                    force = True
            if fb.nack:
                self._count["nacks_received"] += len(fb.nack)
            if fb.remb_bps is not None:
                self._remb_kbps = fb.remb_bps / 1000
        if force:
            self._force_key.set()
        if fb.nack:
            self._sender.retransmit(self._remote_rtp, fb.nack)

    # -- decoding --------------------------------------------------------------------------

    def _decode_loop(self) -> None:
        decoder: VideoDecoder | None = None
        while not self._stop.is_set():
            try:
                codec_name, data, key = self._decode_q.get(timeout=0.1)
            except queue.Empty:
                continue
            if decoder is None or decoder.codec_name != codec_name:
                decoder = VideoDecoder(codec_name, self.threads)
            try:
                frames = decoder.decode(data)
            except (av.FFmpegError, ValueError):
                with self._lock:
                    self._count["decode_errors"] += 1
                    self._await_key = True
                self._request_keyframe(time.monotonic(), automatic=True)
                continue
            now = time.monotonic()
            with self._lock:
                if key:
                    self._count["keyframes"] += 1
                for frame in frames:
                    self._meter.on_frame(now, frame.width, frame.height)
                    self._last_frame = frame
                    if key and self._kf_request_at is not None:
                        self._kf_rtt_ms = round((now - self._kf_request_at) * 1000, 1)
                        self._kf_request_at = None
                if frames and not self._profile:
                    self._profile = decoder.profile
