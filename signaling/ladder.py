"""Calls out of captured signalling, and their ladder diagrams as text (no I/O).

SIP messages are grouped by Call-ID, H.225.0/Q.931 messages by call reference. For each call:
set-up time, final response, authentication challenges, re-INVITEs, DTMF sent in SIP INFO, the
SDP media endpoints (to tie RTP streams to the call), and the ladder of messages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from signaling.hostport import HostPortError, parse_host_port
from signaling.sipmsg import SipMessage, info_dtmf, parse_sdp

__all__ = [
    "Q931_MESSAGE_TYPES",
    "CallSummary",
    "H225Message",
    "LadderEvent",
    "OtherDialog",
    "h225_calls",
    "render_ladder",
    "sip_calls",
    "sip_other_dialogs",
]

#: ITU-T Q.931 message types used by H.225.0 call signalling.
Q931_MESSAGE_TYPES = {
    0x01: "Alerting",
    0x02: "CallProceeding",
    0x03: "Progress",
    0x05: "Setup",
    0x07: "Connect",
    0x0D: "SetupAck",
    0x20: "UserInformation",
    0x45: "Disconnect",
    0x4D: "Release",
    0x5A: "ReleaseComplete",
    0x62: "Facility",
    0x6E: "Notify",
    0x75: "StatusEnquiry",
    0x7B: "Information",
    0x7D: "Status",
}


@dataclass(frozen=True)
class LadderEvent:
    """One arrow of a ladder diagram."""

    time_s: float
    src: str
    dst: str
    label: str
    frame: int = 0


@dataclass(frozen=True)
class H225Message:
    """One Q.931/H.225.0 call-signalling message seen on the wire."""

    time_s: float
    src: str
    dst: str
    call_ref: int
    message_type: int
    frame: int = 0
    cause: int | None = None

    @property
    def name(self) -> str:
        return Q931_MESSAGE_TYPES.get(self.message_type, f"Q.931 0x{self.message_type:02x}")


@dataclass(frozen=True)
class CallSummary:
    """A call found in a capture."""

    protocol: str
    call_id: str
    from_uri: str
    to_uri: str
    start_s: float
    setup_ms: float | None
    final_code: int | None
    final: str
    messages: int
    auth_challenges: int
    reinvites: int
    dtmf_info: str
    media_endpoints: frozenset[tuple[str, int]]
    rtpmap: tuple[tuple[int, str, int], ...]
    events: tuple[LadderEvent, ...]
    ended_by: str | None = None

    @property
    def answered(self) -> bool:
        return self.setup_ms is not None


@dataclass(frozen=True)
class OtherDialog:
    """SIP traffic that is not a call (REGISTER, OPTIONS, SUBSCRIBE, MESSAGE, ...)."""

    call_id: str
    method: str
    messages: int
    final_codes: tuple[int, ...]


def _by_call_id(messages: Iterable[SipMessage]) -> dict[str, list[SipMessage]]:
    groups: dict[str, list[SipMessage]] = defaultdict(list)
    for msg in messages:
        if msg.kind != "unknown":
            groups[msg.call_id].append(msg)
    for group in groups.values():
        group.sort(key=lambda m: (m.time_s, m.frame))
    return groups


def sip_calls(messages: Iterable[SipMessage]) -> list[CallSummary]:
    """One :class:`CallSummary` per Call-ID that carries an INVITE, in order of first message."""
    calls = [
        _sip_call(call_id, msgs)
        for call_id, msgs in _by_call_id(messages).items()
        if any(m.method == "INVITE" for m in msgs)
    ]
    return sorted(calls, key=lambda c: c.start_s)


def sip_other_dialogs(messages: Iterable[SipMessage]) -> list[OtherDialog]:
    out = []
    for call_id, msgs in _by_call_id(messages).items():
        if any(m.method == "INVITE" for m in msgs):
            continue
        methods = [m.method for m in msgs if m.method]
        method = methods[0] if methods else (msgs[0].cseq[1] or "?")
        codes = tuple(sorted({c for m in msgs if (c := m.status_code) is not None and c >= 200}))
        out.append(OtherDialog(call_id, method, len(msgs), codes))
    return out


def _sip_call(call_id: str, msgs: Sequence[SipMessage]) -> CallSummary:
    invites = [m for m in msgs if m.method == "INVITE"]
    first = invites[0]
    initial_cseqs = {m.cseq[0] for m in invites if m.to_tag is None}
    if not initial_cseqs:
        initial_cseqs = {first.cseq[0]}
    finals = [
        m
        for m in msgs
        if m.kind == "response"
        and m.cseq[1] == "INVITE"
        and m.cseq[0] in initial_cseqs
        and (m.status_code or 0) >= 200
    ]
    answers = [m for m in finals if 200 <= (m.status_code or 0) < 300]
    # set-up as the caller sees it: the 2xx delivered to where the first INVITE came from
    # (behind a proxy the callee's 2xx is seen a moment earlier on the other leg)
    answer = next((m for m in answers if m.dst == first.src), answers[0] if answers else None)
    setup_ms = (answer.time_s - first.time_s) * 1000.0 if answer else None
    final_msg = answer
    if final_msg is None and finals:
        last_cseq = max(m.cseq[0] for m in finals)
        final_msg = [m for m in finals if m.cseq[0] == last_cseq][-1]
    challenges = {
        (m.cseq, m.status_code)
        for m in msgs
        if m.kind == "response" and m.status_code in (401, 407)
    }
    reinvites = {m.cseq[0] for m in invites if m.to_tag is not None}
    dtmf: dict[int, str] = {}
    for m in msgs:
        digits = info_dtmf(m)
        if digits:
            dtmf.setdefault(m.cseq[0], digits)
    endpoints: set[tuple[str, int]] = set()
    rtpmap: dict[int, tuple[str, int]] = {}
    for m in msgs:
        if m.has_sdp:
            sdp = parse_sdp(m.body)
            endpoints |= sdp.endpoints()
            rtpmap.update(sdp.rtpmap)
    bye = next((m for m in msgs if m.method == "BYE"), None)
    return CallSummary(
        protocol="SIP",
        call_id=call_id,
        from_uri=first.from_uri,
        to_uri=first.to_uri,
        start_s=msgs[0].time_s,
        setup_ms=setup_ms,
        final_code=final_msg.status_code if final_msg else None,
        final=f"{final_msg.status_code} {final_msg.reason}".strip() if final_msg else "",
        messages=len(msgs),
        auth_challenges=len(challenges),
        reinvites=len(reinvites),
        dtmf_info="".join(dtmf[k] for k in sorted(dtmf)),
        media_endpoints=frozenset(endpoints),
        rtpmap=tuple(sorted((pt, name, clock) for pt, (name, clock) in rtpmap.items())),
        events=tuple(LadderEvent(m.time_s, m.src, m.dst, m.label, m.frame) for m in msgs),
        ended_by=bye.src if bye else None,
    )


def h225_calls(messages: Iterable[H225Message]) -> list[CallSummary]:
    """One :class:`CallSummary` per Q.931 call reference (and pair of hosts)."""
    groups: dict[tuple[int, frozenset[str]], list[H225Message]] = defaultdict(list)
    for msg in messages:
        hosts = frozenset(_host(a) for a in (msg.src, msg.dst))
        groups[(msg.call_ref, hosts)].append(msg)
    calls = []
    for (call_ref, _), msgs in groups.items():
        msgs.sort(key=lambda m: (m.time_s, m.frame))
        setup = next((m for m in msgs if m.message_type == 0x05), None)
        connect = next((m for m in msgs if m.message_type == 0x07), None)
        release = next((m for m in msgs if m.message_type in (0x5A, 0x4D, 0x45)), None)
        caller = setup.src if setup else msgs[0].src
        callee = setup.dst if setup else msgs[0].dst
        setup_ms = (
            (connect.time_s - setup.time_s) * 1000.0 if setup is not None and connect else None
        )
        final_msg = connect or release
        calls.append(
            CallSummary(
                protocol="H.323",
                call_id=f"h225:{call_ref:#06x}",
                from_uri=f"h323:{_host(caller)}",
                to_uri=f"h323:{_host(callee)}",
                start_s=msgs[0].time_s,
                setup_ms=setup_ms,
                final_code=None,
                final=final_msg.name if final_msg else "",
                messages=len(msgs),
                auth_challenges=0,
                reinvites=0,
                dtmf_info="",
                media_endpoints=frozenset(),
                rtpmap=(),
                events=tuple(LadderEvent(m.time_s, m.src, m.dst, m.name, m.frame) for m in msgs),
                ended_by=release.src if release else None,
            )
        )
    return sorted(calls, key=lambda c: c.start_s)


def _host(address: str) -> str:
    """``ip`` of ``ip:port`` or ``[v6]:port`` (the address as it is when it is neither)."""
    try:
        return parse_host_port(address, bare_ipv6=True, zero_port=True).host
    except HostPortError:
        return address


def render_ladder(call: CallSummary, width: int = 26) -> str:
    """A text ladder: one column per endpoint, one line per message, time from the first one."""
    endpoints: list[str] = []
    for ev in call.events:
        for addr in (ev.src, ev.dst):
            if addr not in endpoints:
                endpoints.append(addr)
    lines = [f"{call.protocol} call {call.call_id}  {call.from_uri} -> {call.to_uri}"]
    header = " " * 10 + "".join(e[: width - 1].center(width) for e in endpoints)
    lines.append(header.rstrip())
    t0 = call.events[0].time_s if call.events else 0.0
    for ev in call.events:
        a, b = endpoints.index(ev.src), endpoints.index(ev.dst)
        cells = [" " * width for _ in endpoints]
        row = list("".join(cells))
        for i in range(len(endpoints)):
            row[i * width + width // 2] = "|"
        lo, hi = sorted((a, b))
        start = lo * width + width // 2
        end = hi * width + width // 2
        if lo == hi:
            label = f"|<-> {ev.label}"
            row[start : start + len(label)] = list(label)
        else:
            span = end - start - 1
            text = ev.label[: max(0, span - 2)]
            arrow = list(text.center(span, "-"))
            if a < b:
                arrow[-1] = ">"
            else:
                arrow[0] = "<"
            row[start + 1 : end] = arrow
        lines.append(f"{(ev.time_s - t0):9.3f} " + "".join(row).rstrip())
    return "\n".join(lines)
