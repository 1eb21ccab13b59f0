"""Registration and call snapshots never go back in time, whatever order the news arrives in.

Each status carries ``seq``, the order of the event that made it; the engine's snapshots keep
the highest. First without pjsua2 (every order of a command's answer and the events), then a
real engine at Kamailio whose ``add_endpoint`` resumes after the registration answered.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Self

import pytest

from signaling.pjsua import SipEngine
from signaling.pjsua._base import EngineBase
from signaling.sip.events import CallStateChanged, RegistrationChanged, RegistrationStatus
from signaling.sip.types import CallPhase, RegState, Transport
from tests.harness import Kamailio
from tests.sip.helpers import endpoint, engine_config, resume_add_endpoint_late, run_engine


class _Snapshots(EngineBase):
    """The snapshot bookkeeping of both engines, fed by hand."""

    async def start(self) -> Self:
        return self

    async def close(self) -> None:
        return None


def _status(state: RegState, seq: int, code: int | None = None) -> RegistrationStatus:
    return RegistrationStatus("room", state, Transport.UDP, code=code, seq=seq)


_STATUSES = [
    _status(RegState.UNREGISTERED, 10),
    _status(RegState.REGISTERING, 11),
    _status(RegState.REGISTERED, 12, 200),
]


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_registration_snapshot_is_the_newest_status_in_any_order(
    order: tuple[int, ...],
) -> None:
    """Index 0 is the worker's answer to add_endpoint (the REGISTERING it saw, seq 11); 1-3
    are the events. Whatever order they arrive in, the snapshot is the REGISTERED of seq 12."""
    engine = _Snapshots()
    answers: list[RegistrationStatus] = []
    for item in order:
        if item == 0:
            answers.append(engine._keep_registration(_STATUSES[1]))
        else:
            engine._record(RegistrationChanged(float(item), _STATUSES[item - 1]))
    assert engine.registrations["room"] == _STATUSES[2]
    assert answers[0].seq >= _STATUSES[1].seq  # add_endpoint answers with the newest it has
    assert len(engine.events.since(0)) == 3  # the log keeps every event, stale or not


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_call_snapshot_is_the_newest_state_in_any_order(order: tuple[int, ...]) -> None:
    phases = [CallPhase.CALLING, CallPhase.RINGING, CallPhase.CONNECTED, CallPhase.DISCONNECTED]
    events = [
        CallStateChanged(float(i), "1/call-1", "room", phase, seq=100 + i)
        for i, phase in enumerate(phases)
    ]
    engine = _Snapshots()
    for index in order:
        engine._record(events[index])
    assert engine.call_phases["1/call-1"] == events[-1]


@pytest.mark.sip
def test_add_endpoint_answered_after_the_registration_keeps_registered(
    kamailio: Kamailio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race of issue 20: add_endpoint's coroutine resumes only after REGISTERED arrived
    (forced by waiting on that event). The snapshot, and add_endpoint's answer, must say
    REGISTERED, equal to the newest event, and stay so."""
    resume_add_endpoint_late(monkeypatch)

    async def scenario(engine: SipEngine) -> None:
        room = endpoint(kamailio, "room150", "udp")
        answer = await engine.add_endpoint(room)
        changes = [
            e.status
            for e in engine.events.since(0)
            if isinstance(e, RegistrationChanged) and e.endpoint == room.name
        ]
        assert changes[-1].state is RegState.REGISTERED, changes[-1].explanation
        assert [s.seq for s in changes] == sorted(s.seq for s in changes)
        assert engine.registrations[room.name] == changes[-1]
        assert answer == changes[-1]
        await asyncio.sleep(0.2)  # nothing else may overwrite it meanwhile
        assert engine.registrations[room.name].state is RegState.REGISTERED

    run_engine(engine_config(kamailio), scenario)
