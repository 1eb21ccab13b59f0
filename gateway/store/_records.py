"""The records the store keeps: port leases, the pool's figures and call detail records."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["CDR_FIELDS", "Cdr", "Lease", "PoolState"]


@dataclass(frozen=True)
class Lease:
    """One CRC port held for one call by one gateway instance (``owner``).

    ``expires_at`` moves forward with every heartbeat of the owner; once it is in the past the
    lease no longer counts and is deleted by the next :meth:`Store.expire` or acquire. Times are
    seconds since the epoch (wall clock: gateways on several machines compare them).
    ``target`` is the dial string without secrets.
    """

    call_id: str
    room: str
    target: str
    owner: str
    acquired_at: float
    heartbeat_at: float
    expires_at: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PoolState:
    """The shared pool: ``size`` ports (``None`` until known), ``leased`` by the gateways,
    ``used_elsewhere`` by other devices of the account (the API's in-use count beyond the
    leases, as the last reconcile saw it)."""

    size: int | None
    leased: int
    used_elsewhere: int

    @property
    def free(self) -> int:
        """Ports a new call may take now (never negative; 0 while the size is unknown)."""
        if self.size is None:
            return 0
        return max(0, self.size - self.leased - self.used_elsewhere)

    def as_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "leased": self.leased,
            "used_elsewhere": self.used_elsewhere,
            "free": self.free,
        }


#: Columns of the ``cdrs`` table that :meth:`Store.update_cdr` may set.
CDR_FIELDS = (
    "room",
    "target",
    "direction",
    "owner",
    "started_at",
    "answered_at",
    "ended_at",
    "outcome",
    "sip_code",
    "sip_reason",
    "rtp",
)


@dataclass(frozen=True)
class Cdr:
    """A call detail record: who called what, when, how it ended (``outcome``: ``connected``,
    ``busy``, ``failed``, ``timeout``, ``cancelled``, ``redirected``, ``no-port``...), the final
    SIP status, and RTP statistics as a JSON object."""

    call_id: str
    room: str
    target: str
    direction: str
    owner: str
    started_at: float
    answered_at: float | None = None
    ended_at: float | None = None
    outcome: str | None = None
    sip_code: int | None = None
    sip_reason: str | None = None
    rtp: dict[str, Any] | None = None

    @property
    def duration(self) -> float | None:
        """Seconds from answer to end (``None`` until both are known)."""
        if self.answered_at is None or self.ended_at is None:
            return None
        return max(0.0, self.ended_at - self.answered_at)

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Cdr:
        values = list(row)
        rtp_text = values[-1]
        values[-1] = json.loads(rtp_text) if rtp_text else None
        return cls(*values)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["duration"] = self.duration
        return data
