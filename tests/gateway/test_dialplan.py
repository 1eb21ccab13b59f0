"""The dial plan: ordered rules from dialled digits to Zoom targets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.dialplan import DEFAULT_RULES, DialPlan, DialPlanError, DialRule, NoRouteError


@pytest.mark.parametrize("dialled,expected", [
    ("87654321012", "87654321012@zoomcrc.com"),
    ("87654321012*4321", "87654321012.4321@zoomcrc.com"),
    ("123456789", "123456789@zoomcrc.com"),
])
def test_the_default_plan(dialled: str, expected: str) -> None:
    assert DialPlan().resolve(dialled).dial_string() == expected


@pytest.mark.parametrize("dialled", ["", "alice", "12345678", "123456789012", "87654321012*",
                                     "87654321012*12345678901", "87654321012#4321"])
def test_the_default_plan_refuses(dialled: str) -> None:
    with pytest.raises(NoRouteError):
        DialPlan().resolve(dialled)


def test_rules_are_tried_in_order_and_templates_fill_named_groups() -> None:
    plan = DialPlan.from_dicts([
        {"name": "h323", "pattern": r"00(?P<mid>\d{9,11})(?:\*(?P<pw>\d+))?",
         "transform": "{mid}#{pw}", "kind": "h323", "host": "162.255.37.11"},
        {"name": "layout", "pattern": r"(?P<mid>\d{9,11})\*\*(?P<layout>\d{2,3})",
         "transform": "{mid}..{layout}", "host": "zoomcrc.com", "port": 5061},
        *[{"pattern": r.pattern, "kind": r.kind, "host": r.host} for r in DEFAULT_RULES],
    ])
    assert plan.resolve("00123456789*55").dial_string() == "162.255.37.11##123456789#55"
    assert plan.resolve("00123456789").dial_string() == "162.255.37.11##123456789"
    target = plan.resolve("123456789**308")
    assert (target.layout, target.passcode, target.port) == ("308", None, 5061)
    assert target.dial_string() == "123456789..308@zoomcrc.com:5061"
    assert plan.resolve("123456789").dial_string() == "123456789@zoomcrc.com"


def test_a_matching_rule_that_builds_a_bad_target_says_which_field() -> None:
    plan = DialPlan.from_rules([DialRule(r"(?P<meeting_id>\d{3})", name="short")])
    with pytest.raises(NoRouteError, match="rule 'short' matched but meeting_id"):
        plan.resolve("123")


@pytest.mark.parametrize("rule,message", [
    ({"pattern": "("}, "not a valid regular expression"),
    ({"pattern": r"\d+"}, "needs a named group (?P<meeting_id>...)"),
    ({"pattern": r"(?P<m>\d+)", "transform": "{x}"}, "transform uses {x}"),
    ({"pattern": r"(?P<m>\d+)", "transform": "{m!r}"}, "plain {group} names"),
    ({"pattern": r"(?P<m>\d+)", "transform": "{m"}, "not a valid template"),
    ({"pattern": r"(?P<meeting_id>\d+)", "kind": "h323"}, "needs 'host'"),
    ({"pattern": r"(?P<meeting_id>\d+)", "kind": "isdn"}, "kind must be 'sip' or 'h323'"),
    ({"pattern": r"(?P<meeting_id>\d+)", "host": "bad host"}, "host"),
    ({"pattern": r"(?P<meeting_id>\d+)", "colour": "red"}, "rule #1"),
    ({"pattern": r"(?P<meeting_id>\d+)\1"}, "backreferences such as \\1 are not supported"),
    ({"pattern": r"(?P<meeting_id>\d+)(?=#)"}, "lookahead/lookbehind"),
    ({"pattern": r"(?P<meeting_id>\d{1,5000})"}, "repetition counts are limited to 1000"),
])
def test_bad_rules_are_refused_when_loaded(rule: dict[str, object], message: str) -> None:
    with pytest.raises(DialPlanError) as caught:
        DialPlan.from_dicts([rule])
    assert message in str(caught.value)


@given(st.from_regex(r"[1-9][0-9]{8,10}", fullmatch=True),
       st.one_of(st.none(), st.from_regex(r"[0-9]{1,10}", fullmatch=True)))
def test_digits_and_passcode_round_trip(meeting_id: str, passcode: str | None) -> None:
    dialled = meeting_id if passcode is None else f"{meeting_id}*{passcode}"
    target = DialPlan().resolve(dialled)
    assert (target.meeting_id, target.passcode) == (meeting_id, passcode)
    assert target.host == "zoomcrc.com"


def test_a_catastrophic_pattern_matches_in_linear_time() -> None:
    # Python's backtracking re takes time doubling per digit here (~1 s at 24, days at 60).
    plan = DialPlan.from_rules([DialRule(r"(?P<meeting_id>(\d+)+)#", name="nested")])
    for length in (60, 10_000):
        with pytest.raises(NoRouteError):
            plan.resolve("1" * length)
    assert plan.resolve("123456789#").meeting_id == "123456789"


def test_unicode_digits_and_overlong_user_parts_match_no_rule() -> None:
    plan = DialPlan.from_rules([DialRule(r"(?P<meeting_id>\d+)")])
    with pytest.raises(NoRouteError):
        DialPlan().resolve("12345678\u0660")  # ARABIC-INDIC DIGIT ZERO: not a Zoom digit
    with pytest.raises(NoRouteError):
        plan.resolve("1" * 257)
    assert plan.resolve("1" * 11).meeting_id == "1" * 11
