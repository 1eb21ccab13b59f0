"""pjsua2 subclasses whose callbacks only hand plain values to the engine thread's core.

No logic here (the core decides); every callback catches its own exceptions, since an
exception escaping into pjsua2's C++ would be lost or abort the process.
"""

from __future__ import annotations

import logging
import traceback
from typing import TYPE_CHECKING, Protocol

import pjsua2 as pj

if TYPE_CHECKING:
    from signaling.pjsua._video import VideoCore

__all__ = ["CallSink", "EndpointSink", "PjAccount", "PjCall", "PjEndpoint"]

logger = logging.getLogger("signaling.pjsua")


def _log_failure(callback: str) -> None:
    """Log the current exception as text: a traceback object kept by a log handler would keep
    the pjsua2 object of its frame alive past ``libDestroy`` (and the next Endpoint aborts)."""
    logger.error("%s failed:\n%s", callback, traceback.format_exc())


class EndpointSink(Protocol):
    video: VideoCore

    def on_reg_started(self, name: str, renew: bool) -> None: ...
    def on_reg_state(self, name: str, code: int, reason: str, expiration: int) -> None: ...
    def on_incoming_call(self, name: str, pj_call_id: int) -> None: ...
    def on_transport_state(
        self, kind: str, state: int, remote: str, reason: str, verify_status: int
    ) -> None: ...


class CallSink(Protocol):
    video: VideoCore

    def on_call_state(self, key: str) -> None: ...
    def on_invite_response(self, key: str, code: int) -> None: ...
    def on_call_media(self, key: str) -> None: ...
    def on_stream_destroyed(self, key: str) -> None: ...
    def on_dtmf(self, key: str, digit: str, method: int, duration_ms: int) -> None: ...


class PjEndpoint(pj.Endpoint):  # type: ignore[misc]
    def __init__(self, sink: EndpointSink) -> None:
        super().__init__()
        self._sink = sink

    def onTransportState(self, prm: pj.OnTransportStateParam) -> None:  # noqa: N802
        try:
            tls = prm.tlsInfo
            remote = str(tls.remoteAddr) if not tls.isEmpty() else ""
            verify = int(tls.verifyStatus) if not tls.isEmpty() else 0
            kind = str(prm.type).lower()  # "tcp", "tls", "tcp6", ...
            reason = ""
            if prm.lastError:
                try:
                    reason = self.utilStrError(prm.lastError)
                except pj.Error:
                    reason = f"error {prm.lastError}"
            self._sink.on_transport_state(kind, int(prm.state), remote, reason, verify)
        except Exception:
            _log_failure("onTransportState")


class PjAccount(pj.Account):  # type: ignore[misc]
    def __init__(self, sink: EndpointSink, name: str) -> None:
        super().__init__()
        self._sink = sink
        self.name = name

    def onRegStarted(self, prm: pj.OnRegStartedParam) -> None:  # noqa: N802
        try:
            self._sink.on_reg_started(self.name, bool(prm.renew))
        except Exception:
            _log_failure("onRegStarted")

    def onRegState(self, prm: pj.OnRegStateParam) -> None:  # noqa: N802
        try:
            self._sink.on_reg_state(self.name, int(prm.code), str(prm.reason), int(prm.expiration))
        except Exception:
            _log_failure("onRegState")

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:  # noqa: N802
        try:
            self._sink.video.on_incoming_invite(self.name, int(prm.callId), str(prm.rdata.wholeMsg))
            self._sink.on_incoming_call(self.name, int(prm.callId))
        except Exception:
            _log_failure("onIncomingCall")


class PjCall(pj.Call):  # type: ignore[misc]
    def __init__(
        self, sink: CallSink, account: PjAccount, key: str, pj_call_id: int = pj.PJSUA_INVALID_ID
    ) -> None:
        super().__init__(account, pj_call_id)
        self._sink = sink
        self.key = key

    def onCallState(self, prm: pj.OnCallStateParam) -> None:  # noqa: N802
        try:
            self._sink.on_call_state(self.key)
            self._sink.video.on_call_state(self)
        except Exception:
            _log_failure("onCallState")

    def onCallSdpCreated(self, prm: pj.OnCallSdpCreatedParam) -> None:  # noqa: N802
        try:
            self._sink.video.on_sdp_created(self, prm)
        except Exception:
            _log_failure("onCallSdpCreated")

    def onCallRxReinvite(self, prm: pj.OnCallRxReinviteParam) -> None:  # noqa: N802
        try:
            self._sink.video.on_reoffer(self.key, str(prm.rdata.wholeMsg))
        except Exception:
            _log_failure("onCallRxReinvite")

    def onCallTsxState(self, prm: pj.OnCallTsxStateParam) -> None:  # noqa: N802
        try:
            event = prm.e
            if event.type != pj.PJSIP_EVENT_TSX_STATE:
                return
            self._sink.video.on_tsx(self.key, event.body.tsxState)
            tsx = event.body.tsxState.tsx
            if tsx.method == "INVITE" and tsx.role == pj.PJSIP_ROLE_UAC and tsx.statusCode:
                self._sink.on_invite_response(self.key, int(tsx.statusCode))
        except Exception:
            _log_failure("onCallTsxState")

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:  # noqa: N802
        try:
            self._sink.on_call_media(self.key)
        except Exception:
            _log_failure("onCallMediaState")

    def onStreamDestroyed(self, prm: pj.OnStreamDestroyedParam) -> None:  # noqa: N802
        try:
            self._sink.on_stream_destroyed(self.key)
        except Exception:
            _log_failure("onStreamDestroyed")

    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:  # noqa: N802
        try:
            self._sink.on_dtmf(self.key, str(prm.digit), int(prm.method), int(prm.duration))
        except Exception:
            _log_failure("onDtmfDigit")
