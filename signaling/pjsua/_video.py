"""Video beside pjsua2's audio: the SDP hooks of a wheel built without video.

What the wheel allows (measured, docs/sip-core.md "Video"): an outgoing call asks pjsua for two
audio slots (``audioCount = 2``) and ``onCallSdpCreated`` replaces the second ``m=audio`` with
crcgw's ``m=video`` (:func:`signaling.sip.sdpvideo.offer_section`); for an incoming offer
pjsua answers ``m=video 0`` and the hook puts our answer there. pjsua2 reads SDP through a
1024-byte buffer, so offers and answers are read from the whole SIP message instead: the
INVITE in ``onIncomingCall``, a re-INVITE in ``onCallRxReinvite``, responses in
``onCallTsxState``. Each settled offer/answer is emitted as :class:`VideoNegotiated`; the RTP
itself is the application's (``media/video``). A received INFO ``picture_fast_update`` is
emitted as :class:`KeyframeRequested` (pjsua answers it 400 regardless).

Every method runs on the engine thread, called from the callbacks in ``_objects.py``.
"""

from __future__ import annotations

import logging
import socket
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pjsua2 as pj

from signaling.sip.errors import SipConfigError
from signaling.sip.events import EngineEvent, KeyframeRequested, VideoNegotiated
from signaling.sip.sdpvideo import (
    VideoNegotiation,
    VideoSettings,
    answer_offer,
    offer_section,
    parse_sdp,
    read_answer,
    replace_section,
    section_kinds,
)

if TYPE_CHECKING:
    from signaling.pjsua._objects import PjCall

__all__ = ["FAST_UPDATE_XML", "VideoCore"]

logger = logging.getLogger("signaling.pjsua")

FAST_UPDATE_XML = (
    '<?xml version="1.0" encoding="utf-8" ?>\r\n'
    "<media_control><vc_primitive><to_encoder><picture_fast_update/>"
    "</to_encoder></vc_primitive></media_control>\r\n"
)
_VIDEO_SLOT = 1  # an outgoing call's second audio slot, which carries our video section
_MAX_PENDING = 16


@dataclass
class _VideoCall:
    settings: VideoSettings
    port: int
    index: int | None = None
    remote_offer: str | None = None
    awaiting_answer: bool = False
    last: VideoNegotiated | None = None
    call: weakref.ref[PjCall] | None = None


def free_port_pair(host: str) -> int:
    """An even UDP port on ``host`` whose next port is free too (RTP + RTCP).

    The sockets are closed again: the media process binds the port after the answer left
    (a small window in which another program could take it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        with socket.socket(family, socket.SOCK_DGRAM) as rtp:
            rtp.bind((host, 0))
            port = int(rtp.getsockname()[1])
            if port % 2 or port >= 65534:
                continue
            with socket.socket(family, socket.SOCK_DGRAM) as rtcp:
                try:
                    rtcp.bind((host, port + 1))
                except OSError:
                    continue
            return port
    raise SipConfigError(f"no free even UDP port pair on {host} for video")


class VideoCore:
    """Per-call video state of one engine; fed by the pjsua2 callbacks."""

    def __init__(
        self,
        emit: Callable[[EngineEvent], None],
        endpoint_video: Callable[[str], VideoSettings | None],
    ) -> None:
        self._emit = emit
        self._endpoint_video = endpoint_video
        self._calls: dict[str, _VideoCall] = {}
        self._incoming: dict[int, tuple[str, str]] = {}  # pjsua call id -> (endpoint, INVITE)

    # -- set-up -------------------------------------------------------------------------------

    def prepare_dial(self, key: str, settings: VideoSettings | None) -> int:
        """The ``audioCount`` for ``makeCall``: 2 when video is offered (slot 1 becomes it)."""
        if settings is None:
            return 1
        port = settings.port or free_port_pair(settings.host or "127.0.0.1")
        self._calls[key] = _VideoCall(settings, port, index=_VIDEO_SLOT)
        return 2

    def on_incoming_invite(self, endpoint: str, pj_call_id: int, message: str) -> None:
        """``onIncomingCall``: keep the INVITE (its SDP may exceed pjsua2's 1024 bytes)."""
        if self._endpoint_video(endpoint) is None or "m=video" not in message:
            return
        if len(self._incoming) >= _MAX_PENDING:
            self._incoming.pop(next(iter(self._incoming)))
        self._incoming[pj_call_id] = (endpoint, message)

    def on_reoffer(self, key: str, message: str) -> None:
        """``onCallRxReinvite``: a new offer from the far end (hold, resume, refresh)."""
        vc = self._calls.get(key)
        if vc is not None:
            vc.remote_offer = message

    # -- the SDP hook ---------------------------------------------------------------------------

    def on_sdp_created(self, call: PjCall, prm: Any) -> None:
        """``onCallSdpCreated``: put our video section into pjsua's offer or answer."""
        vc = self._calls.get(call.key)
        pending = self._incoming.pop(int(call.getId()), None) if vc is None else None
        if vc is None and pending is None:
            return
        local = str(prm.sdp.wholeSdp)
        host = _local_host(local) if local else "127.0.0.1"
        if vc is None:
            assert pending is not None
            endpoint, invite = pending
            settings = self._endpoint_video(endpoint)
            if settings is None:
                return
            port = settings.port or free_port_pair(settings.host or host)
            vc = self._calls[call.key] = _VideoCall(settings, port, remote_offer=invite)
        vc.call = weakref.ref(call)
        if not local:  # pjsua2's SdpSession reads "" beyond 1024 bytes; never write that back
            self._publish(call.key, vc, VideoNegotiation(False, vc.index or 0, _TOO_LONG))
            return
        if vc.remote_offer is not None:
            new = self._answer(call.key, vc, local, host)
        else:
            new = self._offer(call.key, vc, local, host)
        if new is not None:
            prm.sdp.wholeSdp = new

    def _answer(self, key: str, vc: _VideoCall, local: str, host: str) -> str | None:
        offer, vc.remote_offer = vc.remote_offer or "", None
        result = answer_offer(offer, vc.settings, host, vc.port)
        if result is None:
            if vc.last is not None and vc.last.accepted:
                self._publish(key, vc, VideoNegotiation(False, 0, "the offer has no video"), True)
            return None
        negotiation, section = result
        kinds = section_kinds(local)
        if negotiation.index >= len(kinds):
            logger.warning("%s: pjsua's answer has no m= line %d for video", key, negotiation.index)
            return None
        vc.index = negotiation.index
        self._publish(key, vc, negotiation, True)
        if not negotiation.accepted:
            return None  # pjsua's own answer already declines it (m=video 0)
        return replace_section(local, negotiation.index, section)

    def _offer(self, key: str, vc: _VideoCall, local: str, host: str) -> str | None:
        index = vc.index if vc.index is not None else _VIDEO_SLOT
        kinds = section_kinds(local)
        if index >= len(kinds):
            logger.warning("%s: pjsua's offer has no slot %d for video", key, index)
            return None
        vc.index = index
        vc.awaiting_answer = True
        return replace_section(local, index, offer_section(vc.settings, host, vc.port))

    # -- messages -------------------------------------------------------------------------------

    def on_tsx(self, key: str, tsx_event: Any) -> None:
        """``onCallTsxState`` (``PJSIP_EVENT_TSX_STATE``): answers to our offer in INVITE
        responses, keyframe requests in INFO."""
        vc = self._calls.get(key)
        if vc is None or tsx_event.type != pj.PJSIP_EVENT_RX_MSG:
            return
        tsx = tsx_event.tsx
        if tsx.method == "INVITE" and tsx.role == pj.PJSIP_ROLE_UAC:
            code = int(tsx.statusCode)
            if not vc.awaiting_answer or not 180 <= code < 300 or vc.index is None:
                return
            message = str(tsx_event.src.rdata.wholeMsg)
            if "\nm=" not in message:
                return  # no SDP in this response (a plain 180)
            if code >= 200:
                vc.awaiting_answer = False
            self._publish(key, vc, read_answer(message, vc.settings, vc.index), False)
        elif tsx.method == "INFO" and tsx.role == pj.PJSIP_ROLE_UAS:
            message = str(tsx_event.src.rdata.wholeMsg)
            if "picture_fast_update" in message:
                self._emit(KeyframeRequested(time.monotonic(), key))

    def request_keyframe(self, key: str) -> None:
        """Send INFO ``picture_fast_update`` (what room systems use) on call ``key``."""
        vc = self._calls.get(key)
        call = vc.call() if vc is not None and vc.call is not None else None
        if call is None:
            raise SipConfigError(f"call {key!r} has no video")
        prm = pj.CallSendRequestParam()
        prm.method = "INFO"
        prm.txOption.contentType = "application/media_control+xml"
        prm.txOption.msgBody = FAST_UPDATE_XML
        call.sendRequest(prm)

    def on_call_state(self, call: PjCall) -> None:
        """``onCallState``: forget an ended call's video."""
        if call.key in self._calls and call.getInfo().state == pj.PJSIP_INV_STATE_DISCONNECTED:
            del self._calls[call.key]

    def clear(self) -> None:
        self._calls.clear()
        self._incoming.clear()

    def _publish(
        self, key: str, vc: _VideoCall, neg: VideoNegotiation, answered: bool = False
    ) -> None:
        event = VideoNegotiated(
            time.monotonic(),
            key,
            neg.accepted,
            vc.port if neg.accepted else 0,
            neg.remote_host,
            neg.remote_port,
            neg.remote_rtcp_port,
            neg.codec,
            neg.payload_type,
            neg.fmtp,
            neg.direction,
            neg.width,
            neg.height,
            neg.framerate,
            neg.bitrate_kbps,
            neg.rtcp_fb,
            neg.reason,
            answered,
        )
        if not answered and vc.last is not None and _same(vc.last, event):
            return  # a 200 repeating the 183's answer
        vc.last = event
        self._emit(event)


_TOO_LONG = "pjsua's own SDP is over pjsua2's 1024-byte read limit (fewer audio codecs help)"


def _same(a: VideoNegotiated, b: VideoNegotiated) -> bool:
    return (a.accepted, a.remote_host, a.remote_port, a.codec, a.direction, a.fmtp) == (
        b.accepted,
        b.remote_host,
        b.remote_port,
        b.codec,
        b.direction,
        b.fmtp,
    )


def _local_host(sdp: str) -> str:
    sections = parse_sdp(sdp).sections
    return next((s.host for s in sections if s.host), None) or "127.0.0.1"
