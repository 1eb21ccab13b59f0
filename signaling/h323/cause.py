"""Q.931 cause values in words, and the H.225.0 ReleaseCompleteReason that goes with each.

>>> explain(17)
'user busy'
>>> cause_for_reason("inConf")
17
"""

from __future__ import annotations

__all__ = [
    "CALL_REJECTED",
    "CAUSE_TEXT",
    "INVALID_MESSAGE",
    "NORMAL_CLEARING",
    "REASON_CAUSE",
    "TIMER_EXPIRY",
    "USER_BUSY",
    "cause_for_reason",
    "describe",
    "explain",
    "reason_for_cause",
]

NORMAL_CLEARING = 16
USER_BUSY = 17
CALL_REJECTED = 21
INVALID_MESSAGE = 95
TIMER_EXPIRY = 102  # recovery on timer expiry

#: ITU-T Q.850 cause values (the ones room systems and gateways actually send).
CAUSE_TEXT: dict[int, str] = {
    1: "unallocated (unassigned) number",
    2: "no route to specified transit network",
    3: "no route to destination",
    6: "channel unacceptable",
    16: "normal call clearing",
    17: "user busy",
    18: "no user responding",
    19: "no answer from user (user alerted)",
    20: "subscriber absent",
    21: "call rejected",
    22: "number changed",
    26: "non-selected user clearing",
    27: "destination out of order",
    28: "invalid number format (address incomplete)",
    29: "facility rejected",
    30: "response to STATUS ENQUIRY",
    31: "normal, unspecified",
    34: "no circuit/channel available",
    38: "network out of order",
    41: "temporary failure",
    42: "switching equipment congestion",
    43: "access information discarded",
    44: "requested circuit/channel not available",
    47: "resource unavailable, unspecified",
    49: "quality of service not available",
    50: "requested facility not subscribed",
    57: "bearer capability not authorized",
    58: "bearer capability not presently available",
    63: "service or option not available, unspecified",
    65: "bearer capability not implemented",
    66: "channel type not implemented",
    69: "requested facility not implemented",
    79: "service or option not implemented, unspecified",
    81: "invalid call reference value",
    88: "incompatible destination",
    95: "invalid message, unspecified",
    96: "mandatory information element is missing",
    97: "message type non-existent or not implemented",
    98: "message not compatible with call state",
    99: "information element non-existent or not implemented",
    100: "invalid information element contents",
    101: "message not compatible with call state",
    102: "recovery on timer expiry",
    111: "protocol error, unspecified",
    127: "interworking, unspecified",
}

#: H.225.0 table 5: the Q.931 cause for each ReleaseCompleteReason (and back, first wins).
REASON_CAUSE: dict[str, int] = {
    "noBandwidth": 34,
    "gatekeeperResources": 47,
    "unreachableDestination": 3,
    "destinationRejection": 16,
    "invalidRevision": 88,
    "noPermission": 111,
    "unreachableGatekeeper": 38,
    "gatewayResources": 42,
    "badFormatAddress": 28,
    "adaptiveBusy": 41,
    "inConf": 17,
    "undefinedReason": 31,
    "facilityCallDeflection": 16,
    "securityDenied": 31,
    "calledPartyNotRegistered": 20,
    "callerNotRegistered": 31,
    "newConnectionNeeded": 47,
}

_CAUSE_REASON: dict[int, str] = {
    USER_BUSY: "inConf",
    CALL_REJECTED: "destinationRejection",
    3: "unreachableDestination",
    28: "badFormatAddress",
    34: "noBandwidth",
    38: "unreachableGatekeeper",
    41: "adaptiveBusy",
    42: "gatewayResources",
    47: "gatekeeperResources",
    88: "invalidRevision",
    111: "noPermission",
}


def explain(cause: int) -> str:
    """The words for a Q.931 cause value; unknown values say so rather than fail."""
    return CAUSE_TEXT.get(cause, f"cause {cause} (not a Q.850 value crcgw knows)")


def describe(cause: int) -> str:
    """``'17 user busy'``: the value and its words, as the CLI prints them."""
    return f"{cause} {explain(cause)}"


def cause_for_reason(reason: str) -> int | None:
    """The Q.931 cause equivalent to an H.225.0 ReleaseCompleteReason, if the table has one."""
    return REASON_CAUSE.get(reason)


def reason_for_cause(cause: int) -> str:
    """The ReleaseCompleteReason to send alongside a Q.931 cause (``undefinedReason`` if none)."""
    return _CAUSE_REASON.get(cause, "undefinedReason")
