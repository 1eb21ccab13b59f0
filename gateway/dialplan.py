"""The dial plan: ordered rules that turn the digits a room system dials into a Zoom target.

A room that cannot build Zoom dial strings calls the gateway with digits (``sip:87654321012@gw``
or ``sip:87654321012*4321@gw``); the first rule whose ``pattern`` matches the dialled user part
decides the target. Pure: no I/O, no clock.

A rule's ``pattern`` is a regular expression matched against the whole user part (``fullmatch``)
by Google's RE2 (the ``google-re2`` package): matching takes time linear in the input whatever
the pattern, so a rule such as ``(\\d+)+$`` cannot stall the gateway on a long string of digits
(Python's backtracking ``re`` needs time doubling with every digit there). The syntax is
Python's (``(?P<name>...)`` groups, ``\\d``, ``{m,n}``) without what cannot run in linear time:
backreferences and lookaround are refused when the plan is loaded (``crcgw config check`` says
which rule and why), as are repetition counts above 1000. ``\\d`` means ASCII digits only. A
user part longer than :data:`MAX_USER_PART` characters matches no rule.

The target is built in one of two ways:

- **named groups** (no ``transform``): groups called ``meeting_id``, ``passcode``, ``layout`` and
  ``host_key`` become the fields of :meth:`DialTarget.sip` / :meth:`DialTarget.h323`;
- **template** (``transform``): ``{group}`` placeholders are filled with the named groups (an
  unmatched optional group is empty) and the result is read as the user part of a dial string in
  the target kind's syntax (``MID.PASS`` for SIP, ``MID#PASS`` for H.323; trailing separators are
  dropped), then checked by :func:`signaling.dialstring.parse`.

>>> plan = DialPlan.from_rules([DialRule(r"(?P<meeting_id>\\d{9,11})(?:\\*(?P<passcode>\\d+))?")])
>>> plan.resolve("87654321012*4321").dial_string()
'87654321012.4321@zoomcrc.com'
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import re2

from signaling.dialstring import DEFAULT_SIP_HOST, DialStringError, DialTarget, parse

__all__ = [
    "DEFAULT_RULES",
    "DialPlan",
    "DialPlanError",
    "DialRule",
    "MAX_USER_PART",
    "NoRouteError",
    "TARGET_FIELDS",
]

TargetKind = Literal["sip", "h323"]

#: Named groups that map straight onto :class:`DialTarget` fields.
TARGET_FIELDS = ("meeting_id", "passcode", "layout", "host_key")

_SEPARATOR = {"sip": ".", "h323": "#"}

#: Longer dialled user parts match no rule (dial strings are far shorter).
MAX_USER_PART = 256

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # the error goes into DialPlanError, not to stderr

_RE2_HINTS = {
    "invalid escape sequence": "backreferences such as \\1 are not supported",
    "invalid perl operator": "lookahead/lookbehind (?=...) (?!...) (?<=...) are not supported",
    "invalid repetition size": "repetition counts are limited to 1000",
    "pattern too large": "the pattern is too large to compile",
}


def _compile(pattern: str, label: str) -> Any:
    """``pattern`` compiled by RE2, or a :class:`DialPlanError` that says why not."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        text = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
        hint = next((h for key, h in _RE2_HINTS.items() if key in text), "")
        raise DialPlanError(
            f"{label}: pattern is not a valid regular expression for the linear-time matcher "
            f"(RE2): {text}" + (f" ({hint})" if hint else "")
        ) from None


class DialPlanError(ValueError):
    """A rule is unusable (bad regex, unknown placeholder, missing host…); says which and why."""


class NoRouteError(LookupError):
    """No rule matches the dialled digits, or the matching rule builds no valid target."""


@dataclass(frozen=True)
class DialRule:
    """One rule: ``pattern`` (regex on the dialled user part), optional ``transform`` template,
    target ``kind`` (``sip`` or ``h323``), ``host`` (default ``zoomcrc.com`` for SIP; an H.323 rule
    needs the CRC address) and optional ``port``. ``name`` labels the rule in logs and errors."""

    pattern: str
    transform: str | None = None
    kind: TargetKind = "sip"
    host: str | None = None
    port: int | None = None
    name: str = ""
    _regex: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        label = self.label
        regex = _compile(self.pattern, label)
        if self.kind not in _SEPARATOR:
            raise DialPlanError(f"{label}: kind must be 'sip' or 'h323' (got {self.kind!r})")
        if self.kind == "h323" and not self.host:
            raise DialPlanError(f"{label}: an h323 rule needs 'host' (the CRC address)")
        groups = set(regex.groupindex)
        if self.transform is None:
            if "meeting_id" not in groups:
                raise DialPlanError(
                    f"{label}: without 'transform' the pattern needs a named group "
                    "(?P<meeting_id>...)"
                )
        else:
            for name in _placeholders(self.transform, label):
                if name not in groups:
                    known = ", ".join(sorted(groups)) or "none"
                    raise DialPlanError(
                        f"{label}: transform uses {{{name}}} but the pattern has no group "
                        f"(?P<{name}>...) (named groups: {known})"
                    )
        try:
            if self.kind == "sip":
                DialTarget.sip("123456789", host=self.host or DEFAULT_SIP_HOST, port=self.port)
            else:
                DialTarget.h323("123456789", host=self.host or "", port=self.port)
        except DialStringError as exc:
            raise DialPlanError(f"{label}: {exc}") from None
        object.__setattr__(self, "_regex", regex)

    @property
    def label(self) -> str:
        return f"rule {self.name!r}" if self.name else f"rule /{self.pattern}/"

    def match(self, user: str) -> DialTarget | None:
        """The target for ``user`` if this rule matches it, else ``None``.

        Raises :class:`NoRouteError` when the rule matches but builds an invalid target.
        """
        m = self._regex.fullmatch(user) if len(user) <= MAX_USER_PART else None
        if m is None:
            return None
        try:
            return self._build(m.groupdict())
        except DialStringError as exc:
            raise NoRouteError(f"{self.label} matched but {exc.field}: {exc.rule}") from None

    def _build(self, groups: Mapping[str, str | None]) -> DialTarget:
        host = self.host or (DEFAULT_SIP_HOST if self.kind == "sip" else "")
        if self.transform is None:
            mid, passcode, layout, host_key = (groups.get(k) or None for k in TARGET_FIELDS)
            if self.kind == "sip":
                return DialTarget.sip(
                    mid or "", passcode=passcode, layout=layout, host_key=host_key,
                    host=host, port=self.port,
                )
            return DialTarget.h323(
                mid or "", passcode=passcode, layout=layout, host_key=host_key,
                host=host, port=self.port,
            )
        values = {k: v or "" for k, v in groups.items()}
        user = self.transform.format_map(values).rstrip(_SEPARATOR[self.kind])
        hostport = host if self.port is None else f"{host}:{self.port}"
        if self.kind == "sip":
            return parse(f"sip:{user}@{hostport}")
        return parse(f"{hostport}##{user}")


def _placeholders(template: str, label: str) -> list[str]:
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise DialPlanError(f"{label}: transform is not a valid template: {exc}") from None
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise DialPlanError(
                f"{label}: transform placeholders are plain {{group}} names (got {{{name}}})"
            )
        names.append(name)
    return names


#: The plan used when the configuration has none: Zoom meeting IDs (9 to 11 digits), optionally
#: followed by ``*`` and a numeric passcode, to ``MID[.PASSCODE]@zoomcrc.com``.
DEFAULT_RULES: tuple[DialRule, ...] = (
    DialRule(
        pattern=r"(?P<meeting_id>\d{9,11})(?:\*(?P<passcode>\d{1,10}))?",
        kind="sip",
        host=DEFAULT_SIP_HOST,
        name="zoom-meeting",
    ),
)


@dataclass(frozen=True)
class DialPlan:
    """Ordered rules; the first match wins."""

    rules: tuple[DialRule, ...] = DEFAULT_RULES

    @classmethod
    def from_rules(cls, rules: Iterable[DialRule]) -> DialPlan:
        return cls(tuple(rules))

    @classmethod
    def from_dicts(cls, items: Sequence[Mapping[str, object]]) -> DialPlan:
        """Build from plain mappings (as in the YAML), raising :class:`DialPlanError`."""
        rules = []
        for index, item in enumerate(items):
            try:
                rules.append(DialRule(**item))  # type: ignore[arg-type]
            except TypeError as exc:
                raise DialPlanError(f"rule #{index + 1}: {exc}") from None
        return cls(tuple(rules))

    def resolve(self, user: str) -> DialTarget:
        """The target for the dialled ``user`` part; :class:`NoRouteError` when none matches."""
        for rule in self.rules:
            target = rule.match(user)
            if target is not None:
                return target
        raise NoRouteError("no dial-plan rule matches the dialled user part")
