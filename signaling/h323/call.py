"""Call-signalling state machines for both ends of an H.323 call, sans I/O.

:class:`OutgoingCall` (crcgw dialling) and :class:`IncomingCall` (the answering peer) take decoded
:class:`~signaling.h323.h225.CallMessage` values and return the messages to send plus
:class:`CallEvent` values. H.245 runs in the tunnel (``h245Tunnelling``); tunnelled messages with
nothing else to carry go in a Facility whose body is ``empty``. Without tunnelling, H.245 runs on
its own TCP connection to the ``h245Address`` one side gives: the legs then queue the H.245 they
have to send (:meth:`_Leg.take_h245`) and take what arrives there (:meth:`_Leg.h245_receive`); the
edge opens or accepts that connection and says so (:meth:`_Leg.h245_connected`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from signaling.h323 import per
from signaling.h323.cause import (
    CALL_REJECTED,
    NORMAL_CLEARING,
    USER_BUSY,
    cause_for_reason,
    reason_for_cause,
)
from signaling.h323.channels import LogicalChannels
from signaling.h323.errors import H323DecodeError
from signaling.h323.faststart import answer_fast_start, parse_channels
from signaling.h323.h225 import (
    Alias,
    CallMessage,
    UserInformation,
    alerting_uuie,
    call_proceeding_uuie,
    connect_uuie,
    facility_uuie,
    release_complete_uuie,
    setup_uuie,
    status_uuie,
    transport_from_value,
)
from signaling.h323.h245 import G711_CODECS, H245Session, end_session
from signaling.h323.q931 import BearerCapability, Cause, MessageType, PartyNumber, Q931Message
from signaling.h323.video import VideoChannels

__all__ = ["Answer", "CallEvent", "CallState", "IncomingCall", "OutgoingCall", "build_message"]

Answer = Literal["connect", "busy", "reject", "forward"]
FORWARD_REASONS = ("callForwarded", "routeCallToMC", "routeCallToGatekeeper")


class CallState(Enum):
    IDLE = "idle"
    SETUP_SENT = "setup sent"
    PROCEEDING = "proceeding"
    ALERTING = "alerting"
    CONNECTED = "connected"
    RELEASED = "released"


@dataclass(frozen=True, slots=True)
class CallEvent:
    """Something the far end did: ``proceeding``, ``alerting``, ``progress``, ``connected``,
    ``released``, ``h245-ready``, ``h245-undecodable``, ``fast-start`` (``reason`` the codec,
    ``detail`` where to send RTP), ``h245-channel`` (the same, for a channel opened by H.245
    OpenLogicalChannel), ``h245-channel-refused``, ``video-channel`` (our H.264 channel was
    acknowledged: ``detail`` where to send video RTP, ``reason`` ``H264``), ``video-refused``,
    ``h245-address`` (``detail`` where the far
    end's separate H.245 connection listens: open it), ``forwarded``, ``facility`` or ``status``;
    ``cause`` and ``reason`` for ``released``; ``rtcp`` the far end's signalled RTCP address
    (mediaControlChannel) of a channel, when given."""

    kind: str
    cause: int | None = None
    reason: str | None = None
    detail: str = ""
    rtcp: str = ""


def _address(address: tuple[str, int] | None) -> str:
    return f"{address[0]}:{address[1]}" if address is not None else ""


def build_message(
    message_type: MessageType,
    call_reference: int,
    from_destination: bool,
    uu: UserInformation,
    **ies: Any,
) -> CallMessage:
    """A :class:`CallMessage` whose user-user IE is ``uu`` encoded in PER."""
    q931 = Q931Message(message_type, call_reference, from_destination, user_user=uu.encode(), **ies)
    return CallMessage(q931, uu)


def _released(message: CallMessage) -> CallEvent:
    reason = message.uu.release_reason if message.uu else None
    cause = message.q931.cause.value if message.q931.cause else None
    if cause is None and reason is not None:
        cause = cause_for_reason(reason)
    return CallEvent("released", cause, reason)


@dataclass(slots=True)
class _Leg:
    call_reference: int
    conference_id: bytes
    call_identifier: bytes
    from_destination: bool
    h245: H245Session | None
    state: CallState = CallState.IDLE
    h245_reported: bool = False
    channel_reported: bool = False
    video_reported: bool = False
    tunnelling: bool = True  # False: H.245 (if any) on its own connection
    h245_outbox: list[bytes] = field(default_factory=list)  # for the separate connection
    h245_link_up: bool = False

    @property
    def h245_separate(self) -> bool:
        """H.245 runs (or will run) on its own TCP connection rather than in the tunnel."""
        return self.h245 is not None and not self.tunnelling

    def _uu(self, body: str, uuie: dict[str, Any], control: list[bytes]) -> UserInformation:
        tunnelling = None if self.h245 is None else self.tunnelling
        return UserInformation(body, uuie, tunnelling, tuple(control))

    def take_h245(self) -> list[bytes]:
        """The H.245 messages queued for the separate connection, once it is up (else none)."""
        if not self.h245_link_up:
            return []
        queued, self.h245_outbox = self.h245_outbox, []
        return queued

    def h245_connected(self) -> None:
        """The separate H.245 connection is up: our TerminalCapabilitySet and MSD go first."""
        if self.h245 is None or self.h245_link_up:
            return
        self.h245_link_up = True
        self.h245_outbox = self.h245.start() + self.h245_outbox

    def h245_receive(self, data: bytes) -> list[CallEvent]:
        """One message from the separate H.245 connection; the replies join the outbox."""
        events: list[CallEvent] = []
        self.h245_outbox += self._feed_h245((data,), events)
        return events

    def message(
        self,
        message_type: MessageType,
        body: str,
        uuie: dict[str, Any],
        control: list[bytes],
        **ies: Any,
    ) -> CallMessage:
        uu = self._uu(body, uuie, control)
        return build_message(message_type, self.call_reference, self.from_destination, uu, **ies)

    def tunnel(self, control: list[bytes]) -> CallMessage:
        return self.message(MessageType.FACILITY, "empty", {}, control)

    def feed_h245(self, message: CallMessage, events: list[CallEvent]) -> list[bytes]:
        if self.h245 is None or message.uu is None or self.h245_separate:
            return []
        return self._feed_h245(message.uu.h245_control, events)

    def _feed_h245(self, messages: tuple[bytes, ...], events: list[CallEvent]) -> list[bytes]:
        assert self.h245 is not None
        replies: list[bytes] = []
        for data in messages:
            try:
                replies += self.h245.receive(data)
            except H323DecodeError:  # one bad tunnelled message does not end the call
                events.append(CallEvent("h245-undecodable"))
        if self.h245.ready and not self.h245_reported:
            self.h245_reported = True
            events.append(CallEvent("h245-ready"))
        channels = self.h245.channels
        if channels is not None and not self.channel_reported:
            if channels.transmit_to is not None:
                self.channel_reported = True
                host, port = channels.transmit_to
                events.append(
                    CallEvent(
                        "h245-channel",
                        reason=channels.transmit_codec,
                        detail=f"{host}:{port}",
                        rtcp=_address(channels.transmit_rtcp),
                    )
                )
            elif channels.rejected is not None:
                self.channel_reported = True
                events.append(CallEvent("h245-channel-refused", reason=channels.rejected))
        video = self.h245.video
        if video is not None and not self.video_reported:
            if video.transmit_to is not None:
                self.video_reported = True
                detail, rtcp = _address(video.transmit_to), _address(video.transmit_rtcp)
                events.append(CallEvent("video-channel", reason="H264", detail=detail, rtcp=rtcp))
            elif video.rejected is not None:
                self.video_reported = True
                events.append(CallEvent("video-refused", reason=video.rejected))
        return replies

    def release(self, cause: int = NORMAL_CLEARING) -> CallMessage:
        """Release Complete with ``cause`` (and H.245 endSessionCommand when H.245 ran: in it,
        or first on the separate connection, see :meth:`take_h245`)."""
        self.state = CallState.RELEASED
        ending = self.h245 is not None and self.h245.started
        if ending and self.h245_separate:
            self.h245_outbox.append(per.encode_h245(end_session()))
            ending = False
        return self.message(
            MessageType.RELEASE_COMPLETE,
            "releaseComplete",
            release_complete_uuie(
                None if cause == NORMAL_CLEARING else reason_for_cause(cause),
                self.call_identifier,
            ),
            [per.encode_h245(end_session())] if ending else [],
            cause=Cause(cause),
        )


@dataclass(slots=True)
class OutgoingCall(_Leg):
    """The calling side: :meth:`setup`, then :meth:`receive` each answer."""

    destination: list[Alias] = field(default_factory=list)
    called_digits: str | None = None
    source: list[Alias] = field(default_factory=list)
    display: str | None = "crcgw"
    destination_address: tuple[str, int] | None = None
    source_address: tuple[str, int] | None = None
    fast_start: list[bytes] | None = None
    forward_to: tuple[str, int] | None = None
    forward_aliases: list[Alias] = field(default_factory=list)
    media_accepted: bool = False
    h245_remote: tuple[str, int] | None = None  # the far end's separate H.245 address

    def _fast_start_answer(self, elements: tuple[bytes, ...]) -> list[CallEvent]:
        for channel in parse_channels(elements):
            if channel.direction == "transmit" and channel.rtp is not None:
                self.media_accepted = True
                host, port = channel.rtp
                return [
                    CallEvent(
                        "fast-start",
                        reason=channel.codec,
                        detail=f"{host}:{port}",
                        rtcp=_address(channel.rtcp),
                    )
                ]
        return []

    def _fast_start_refused(self) -> list[bytes]:
        """Connect came without a fastStart answer (H.323 8.1.7): open the audio by H.245
        OpenLogicalChannel instead, when channels were given to the session."""
        channels = self.h245.channels if self.h245 is not None else None
        if self.h245 is None or channels is None or channels.initiate:
            return []
        channels.initiate = True  # the session opens as soon as it is ready
        if not self.h245.ready:
            return []
        return [per.encode_h245(m) for m in channels.open(self.h245.remote_capabilities)]

    def setup(self) -> CallMessage:
        self.state = CallState.SETUP_SENT
        uuie = setup_uuie(
            destination=self.destination,
            source=self.source,
            conference_id=self.conference_id,
            call_identifier=self.call_identifier,
            destination_address=self.destination_address,
            source_address=self.source_address,
            fast_start=self.fast_start,
        )
        called = PartyNumber(self.called_digits) if self.called_digits else None
        return self.message(
            MessageType.SETUP,
            "setup",
            uuie,
            [],
            bearer_capability=BearerCapability(),
            display=self.display,
            called_number=called,
        )

    def receive(self, message: CallMessage) -> tuple[list[CallMessage], list[CallEvent]]:
        events: list[CallEvent] = []
        if self.state is CallState.RELEASED:
            return [], events
        replies = self.feed_h245(message, events)
        kind = message.q931.message_type
        if kind == MessageType.RELEASE_COMPLETE:
            self.state = CallState.RELEASED
            events.append(_released(message))
            return [], events
        if self.fast_start and message.uu and message.uu.fast_start and not self.media_accepted:
            events += self._fast_start_answer(message.uu.fast_start)
        if kind == MessageType.CALL_PROCEEDING and self.state is CallState.SETUP_SENT:
            self.state = CallState.PROCEEDING
            events.append(CallEvent("proceeding"))
        elif kind == MessageType.ALERTING and self.state in (
            CallState.SETUP_SENT,
            CallState.PROCEEDING,
        ):
            self.state = CallState.ALERTING
            events.append(CallEvent("alerting"))
        elif kind == MessageType.CONNECT and self.state is not CallState.CONNECTED:
            self.state = CallState.CONNECTED
            events.append(CallEvent("connected"))
            if self.fast_start and not self.media_accepted:
                replies += self._fast_start_refused()
        elif kind == MessageType.FACILITY and message.uu and message.uu.body != "empty":
            reason = _facility_reason(message.uu)
            address = message.uu.uuie.get("alternativeAddress")
            target = transport_from_value(address) if address is not None else None
            if reason in FORWARD_REASONS and target is not None:
                self.forward_to = target
                self.forward_aliases = message.uu.aliases("alternativeAliasAddress")
                events.append(CallEvent("forwarded", reason=reason))
            else:
                events.append(CallEvent("facility", reason=reason))
        elif kind == MessageType.PROGRESS:
            events.append(CallEvent("progress"))
        elif kind == MessageType.STATUS:
            cause = message.q931.cause.value if message.q931.cause else None
            events.append(CallEvent("status", cause))
        elif kind == MessageType.STATUS_ENQUIRY:
            return [self._status()], events
        opening, routed = self._h245_route(message)
        replies, events = opening + replies, events + routed
        if self.h245_separate:
            self.h245_outbox += replies
            return [], events
        return ([self.tunnel(replies)] if replies else []), events

    def _h245_route(self, message: CallMessage) -> tuple[list[bytes], list[CallEvent]]:
        """Tunnel or separate connection: the far end's first answer decides (H.323 8.2.1).
        Returns our opening H.245 for the tunnel, or the ``h245-address`` event."""
        uu = message.uu
        if self.h245 is None or uu is None or self.forward_to is not None:
            return [], []  # no H.245 with a redirecting end
        if self.tunnelling and not uu.h245_tunnelling and not self.h245.started:
            self.tunnelling = False  # the far end refused the tunnel
        if self.tunnelling:
            return self.h245.start(), []
        address = uu.h245_address
        if address is None or self.h245_remote is not None:
            return [], []
        self.h245_remote = address
        return [], [CallEvent("h245-address", detail=f"{address[0]}:{address[1]}")]

    def _status(self) -> CallMessage:
        return self.message(
            MessageType.STATUS,
            "status",
            status_uuie(self.call_identifier),
            [],
            cause=Cause(30),
        )


def _facility_reason(uu: UserInformation) -> str | None:
    reason = uu.uuie.get("reason")
    return reason[0] if isinstance(reason, tuple) else None


@dataclass(slots=True)
class IncomingCall(_Leg):
    """The answering side, as the project's own peer runs it.

    ``answer="connect"`` sends Call Proceeding and Alerting, then Connect once the tunnelled H.245
    is complete (at once when the caller does not tunnel); ``busy`` and ``reject`` answer the Setup
    with Release Complete, cause 17 (user busy) or 21 (call rejected) unless ``cause`` is given;
    ``forward`` redirects the caller to ``forward_to`` (Facility callForwarded, then Release
    Complete with reason facilityCallDeflection).

    H.245 runs in the tunnel when the caller tunnels and ``accept_tunnelling``; otherwise, given
    ``h245_address`` (where the edge listens), Connect comes at once and carries that address,
    and H.245 runs on the connection the caller opens there.
    """

    answer: Answer = "connect"
    cause: int | None = None
    forward_to: tuple[str, int] | None = None
    media_address: tuple[str, int] | None = None  # advertised in a fastStart answer
    fast_start_codec: str | None = None
    fast_start_remote: tuple[str, int] | None = None  # where the caller receives our RTP
    fast_start_remote_rtcp: tuple[str, int] | None = None  # and its RTCP
    accept_fast_start: bool = True
    setup: CallMessage | None = None
    h245_address: tuple[str, int] | None = None  # our separate H.245 listener

    @classmethod
    def from_setup(
        cls,
        message: CallMessage,
        *,
        answer: Answer,
        random_number: int,
        cause: int | None = None,
        forward_to: tuple[str, int] | None = None,
        media_address: tuple[str, int] | None = None,
        accept_fast_start: bool = True,
        accept_tunnelling: bool = True,
        h245_address: tuple[str, int] | None = None,
        video_address: tuple[str, int] | None = None,
    ) -> IncomingCall:
        uu = message.uu
        tunnelling = bool(uu and uu.h245_tunnelling) and accept_tunnelling
        with_h245 = tunnelling or h245_address is not None
        session = H245Session(random_number) if with_h245 else None
        if session is not None and media_address is not None:  # channels the caller opens
            session.channels = LogicalChannels(media_address, G711_CODECS, initiate=False)
        if session is not None and video_address is not None:  # H.264 back when offered
            session.video = VideoChannels(video_address, initiate=False)
        return cls(
            message.q931.call_reference,
            (uu.conference_id if uu else None) or bytes(16),
            (uu.call_identifier if uu else None) or bytes(16),
            True,
            session,
            answer=answer,
            cause=cause,
            forward_to=forward_to,
            media_address=media_address,
            accept_fast_start=accept_fast_start,
            tunnelling=tunnelling,
            h245_address=None if tunnelling else h245_address,
        )

    def receive(self, message: CallMessage) -> tuple[list[CallMessage], list[CallEvent]]:
        events: list[CallEvent] = []
        if self.state is CallState.RELEASED:
            return [], events
        kind = message.q931.message_type
        if kind == MessageType.SETUP and self.setup is None:
            self.setup = message
            return self._answer_setup(), events
        replies = self.feed_h245(message, events)
        if kind == MessageType.RELEASE_COMPLETE:
            self.state = CallState.RELEASED
            events.append(_released(message))
            return [], events
        if kind == MessageType.STATUS_ENQUIRY:
            status = self.message(
                MessageType.STATUS,
                "status",
                status_uuie(self.call_identifier),
                [],
                cause=Cause(30),
            )
            return [status], events
        h245 = None if self.h245_separate else self.h245
        if self.state is CallState.ALERTING and h245 is not None and h245.ready:
            events.append(CallEvent("connected"))
            return [self._connect(replies)], events
        return ([self.tunnel(replies)] if replies else []), events

    def _answer_setup(self) -> list[CallMessage]:
        if self.answer == "forward" and self.forward_to is not None:
            facility = self.message(
                MessageType.FACILITY,
                "facility",
                facility_uuie(
                    "callForwarded", self.call_identifier, self.conference_id, self.forward_to
                ),
                [],
            )
            self.state = CallState.RELEASED
            release = self.message(
                MessageType.RELEASE_COMPLETE,
                "releaseComplete",
                release_complete_uuie("facilityCallDeflection", self.call_identifier),
                [],
                cause=Cause(NORMAL_CLEARING),
            )
            return [facility, release]
        if self.answer != "connect":
            default = USER_BUSY if self.answer == "busy" else CALL_REJECTED
            return [self.release(self.cause if self.cause is not None else default)]
        opening = self.h245.start() if self.h245 is not None and self.tunnelling else []
        answer: list[bytes] = []
        offered = self.setup.uu.fast_start if self.setup and self.setup.uu else ()
        if offered and self.media_address is not None and self.accept_fast_start:
            answer, self.fast_start_codec = answer_fast_start(offered, *self.media_address)
            back = next(
                (
                    c
                    for c in parse_channels(offered)
                    if c.codec == self.fast_start_codec and c.direction == "receive"
                ),
                None,
            )
            if back is not None:
                self.fast_start_remote, self.fast_start_remote_rtcp = back.rtp, back.rtcp
        proceeding = self.message(
            MessageType.CALL_PROCEEDING,
            "callProceeding",
            call_proceeding_uuie(self.call_identifier, answer),
            opening,
        )
        alerting = self.message(
            MessageType.ALERTING, "alerting", alerting_uuie(self.call_identifier), []
        )
        self.state = CallState.ALERTING
        if self.h245 is None or self.h245_separate:
            return [proceeding, alerting, self._connect([])]
        return [proceeding, alerting]

    def _connect(self, control: list[bytes]) -> CallMessage:
        self.state = CallState.CONNECTED
        return self.message(
            MessageType.CONNECT,
            "connect",
            connect_uuie(self.conference_id, self.call_identifier, self.h245_address),
            control,
            bearer_capability=BearerCapability(),
            display="crcgw peer",
        )
