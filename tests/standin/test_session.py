"""The stand-in connector's IVR: what the URI carries, what it asks for, and when it gives up."""

from __future__ import annotations

from gateway.standin import ConnectorSession, Meeting, Phase

DIRECTORY = {
    "82419374650": Meeting("82419374650", passcode="6083311947", host_key="271828"),
    "123456789": Meeting("123456789"),
}


def session(user: str) -> ConnectorSession:
    return ConnectorSession(DIRECTORY, user, now=0.0)


def kinds(actions: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(a.kind, a.detail) for a in actions]


def test_everything_in_the_uri_joins_at_once_and_claims_host() -> None:
    s = session("82419374650.6083311947..271828")
    assert kinds(s.start()) == [("join", "82419374650"), ("host", "")]
    assert s.phase is Phase.JOINED and s.host_claimed


def test_meeting_without_passcode_needs_none() -> None:
    assert kinds(session("123456789").start()) == [("join", "123456789")]


def test_missing_passcode_is_asked_then_checked() -> None:
    s = session("82419374650")
    assert kinds(s.start()) == [("prompt", "passcode")]
    for d in "6083311947":
        assert s.digit(d, 1.0) == []
    assert kinds(s.digit("#", 1.5)) == [("join", "82419374650")]
    assert kinds(s.digit("2", 2.0) + [a for d in "71828#" for a in s.digit(d, 2.0)]) == [("host", "")]


def test_bare_connector_address_asks_for_the_meeting_first() -> None:
    s = session("zoom")
    assert kinds(s.start()) == [("prompt", "meeting_id")]
    actions = [a for d in "82419374650#" for a in s.digit(d, 1.0)]
    assert kinds(actions) == [("prompt", "passcode")]
    actions = [a for d in "6083311947#" for a in s.digit(d, 2.0)]
    assert kinds(actions) == [("join", "82419374650")]


def test_three_wrong_passcodes_hang_up_with_403() -> None:
    s = session("82419374650.1")
    assert kinds(s.start()) == [("prompt", "invalid passcode, try again"), ("prompt", "passcode")]
    s.digit("9", 1.0)
    assert kinds(s.digit("#", 1.0))[0] == ("prompt", "invalid passcode, try again")
    s.digit("8", 2.0)
    end = s.digit("#", 2.0)
    assert [(a.kind, a.code) for a in end] == [("hangup", 403)]
    assert s.phase is Phase.ENDED
    assert s.digit("1", 3.0) == []


def test_unknown_meeting_is_prompted_again() -> None:
    s = session("999999999")
    assert kinds(s.start())[-1] == ("prompt", "meeting_id")


def test_silent_caller_is_dropped_after_the_timeout() -> None:
    s = session("82419374650")
    s.start()
    assert s.tick(19.0) == []
    assert [(a.kind, a.code) for a in s.tick(20.0)] == [("hangup", 408)]
