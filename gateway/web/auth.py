"""Who may see the status page and who may change things from it.

Two tokens: the control API's bearer token (``http.token_env``: reads and changes) and an
optional read-only one (``http.read_token_env``: reads only). The login form exchanges a token
for a session: a random id in an HTTP-only, ``SameSite=Strict`` cookie scoped to the page's
path; the token itself never goes back to the browser. Each session carries a CSRF token that
every change must echo (in a hidden form field), and a change from a read-only session must
also give the change token in its confirmation form.

With no token configured at all the page is open and read-only, as the API's reads are.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import SecretStr

__all__ = ["COOKIE", "Role", "Session", "Sessions"]

COOKIE = "crcgw_session"
Role = Literal["change", "read"]


@dataclass
class Session:
    role: Role
    csrf: str
    expires_at: float
    flash: list[str] = field(default_factory=list)


class Sessions:
    """Tokens, sessions (at most ``max_sessions``, each ``lifetime_s`` long) and a brake on
    guessing: more than ``max_failures`` wrong tokens within a minute refuse every login for
    the rest of that minute."""

    def __init__(
        self,
        change_token: SecretStr | None,
        read_token: SecretStr | None = None,
        *,
        lifetime_s: float = 12 * 3600.0,
        max_sessions: int = 256,
        max_failures: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._change = change_token.get_secret_value().encode() if change_token else None
        self._read = read_token.get_secret_value().encode() if read_token else None
        self.lifetime_s = lifetime_s
        self.max_sessions = max_sessions
        self.max_failures = max_failures
        self.clock = clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._failures: deque[float] = deque()

    @property
    def open(self) -> bool:
        """No token configured: anyone may read, nobody may change."""
        return self._change is None and self._read is None

    def is_change_token(self, given: str) -> bool:
        return self._change is not None and hmac.compare_digest(given.encode(), self._change)

    def role_of(self, given: str) -> Role | None:
        """The role a token grants (``None``: no such token)."""
        if self.is_change_token(given):
            return "change"
        if self._read is not None and hmac.compare_digest(given.encode(), self._read):
            return "read"
        return None

    def throttled(self) -> bool:
        now = self.clock()
        while self._failures and self._failures[0] < now - 60:
            self._failures.popleft()
        return len(self._failures) >= self.max_failures

    def login(self, given: str) -> tuple[str, Session] | None:
        """A new session for a valid token; ``None`` (and a failure counted) otherwise."""
        role = self.role_of(given.strip())
        if role is None:
            self._failures.append(self.clock())
            return None
        sid = secrets.token_urlsafe(32)
        session = Session(role, secrets.token_urlsafe(24), self.clock() + self.lifetime_s)
        self._sessions[sid] = session
        while len(self._sessions) > self.max_sessions:
            self._sessions.popitem(last=False)
        return sid, session

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        session = self._sessions.get(sid)
        if session is None:
            return None
        if session.expires_at < self.clock():
            del self._sessions[sid]
            return None
        return session

    def logout(self, sid: str | None) -> None:
        if sid:
            self._sessions.pop(sid, None)

    @staticmethod
    def csrf_ok(session: Session, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(str(given).encode(), session.csrf.encode())
