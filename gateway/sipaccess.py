"""Who may use the dial-string redirect, and how often: trusted networks, a per-source token
bucket and an optional digest challenge. Pure: no I/O; every time is an explicit ``now``.

The redirect hands out CRC ports, so it is not open to anyone who can reach the SIP port:

- :class:`TrustedSources`: only sources inside the configured networks (default loopback, plus
  the rooms' registrar addresses resolved by the service) are redirected; others are refused.
- :class:`RateLimiter`: each source address has a bucket of ``burst`` tokens refilled at
  ``rate`` per second; a new INVITE takes one. An empty bucket says how long to wait.
- :class:`DigestGuard`: when configured, an INVITE must carry ``Authorization: Digest`` with
  the configured user and password (RFC 7616 ``SHA-256`` or ``MD5``, ``qop=auth`` or none, as SIP
  user agents do, RFC 3261 22.4 and RFC 8760). Nonces are stateless: the issue time and an HMAC
  of it under a key drawn at start, so nothing grows with the number of challenges; a nonce
  older than ``nonce_ttl``, or credentials already accepted once (a replay), get a fresh
  challenge with ``stale=true``. The password is held as a
  :class:`pydantic.SecretStr` and never appears in a repr, log or answer.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import SecretStr

__all__ = [
    "DigestGuard",
    "DigestVerdict",
    "RateLimiter",
    "RedirectAccess",
    "Refusal",
    "TrustedSources",
    "parse_digest",
]

log = logging.getLogger("gateway.redirect")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedSources:
    """Source addresses allowed to use the redirect: ``networks`` plus single ``hosts``
    (added later, e.g. the registrars once their names are resolved)."""

    def __init__(self, networks: Iterable[Network | str] = ()) -> None:
        self.networks: list[Network] = [ipaddress.ip_network(n, strict=False) for n in networks]

    def add(self, address: str) -> None:
        """Trust one more address (``192.0.2.7``, ``2001:db8::7``)."""
        network = ipaddress.ip_network(address, strict=False)
        if network not in self.networks:
            self.networks.append(network)

    def allows(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == net.version and ip in net for net in self.networks)


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Per-source token buckets. At most ``max_sources`` buckets are kept; the least recently
    used is forgotten first (a forgotten source starts with a full bucket, so a flood from many
    addresses gets no more than ``burst`` each and the table stays bounded)."""

    def __init__(self, rate: float, burst: int, max_sources: int = 4096) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate, self.burst, self.max_sources = rate, float(burst), max_sources
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, source: str, now: float) -> float:
        """Take a token for ``source``: ``0.0`` when granted, else the seconds until one is due."""
        bucket = self._buckets.get(source)
        if bucket is None:
            bucket = self._buckets[source] = _Bucket(self.burst, now)
            while len(self._buckets) > self.max_sources:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(source)
            bucket.tokens = min(self.burst, bucket.tokens + max(0.0, now - bucket.at) * self.rate)
            bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    @staticmethod
    def retry_after(wait: float) -> int:
        """A ``Retry-After`` value (whole seconds, at least 1) for a wait of ``wait`` seconds."""
        return max(1, math.ceil(wait))


_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)')
_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def parse_digest(header: str) -> dict[str, str] | None:
    """The parameters of a ``Digest`` credentials header (names lower-cased); ``None`` when it
    is not a well-formed digest header."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest" or len(rest) > 4096:
        return None
    params: dict[str, str] = {}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        m = _PARAM.match(rest, pos)
        if m is None or m.end() == pos:
            return None
        quoted, bare = m.group(2), m.group(3)
        params[m.group(1).lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
        pos = m.end()
    return params


DigestVerdict = Literal["ok", "missing", "stale", "wrong"]


@dataclass
class DigestGuard:
    """Digest authentication of INVITEs for one ``user``/``password`` in ``realm``."""

    realm: str
    user: str
    password: SecretStr
    nonce_ttl: float = 300.0
    max_seen: int = 65536
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    #: Credentials already accepted (nonce, nc, cnonce), so a captured header cannot be
    #: replayed: a repeat gets a fresh challenge, as an expired nonce does.
    _seen: OrderedDict[str, float] = field(default_factory=OrderedDict, repr=False)

    def __repr__(self) -> str:
        return f"DigestGuard(realm={self.realm!r}, user={self.user!r}, password=**********)"

    def nonce(self, now: float) -> str:
        stamp = f"{int(now):x}"
        mac = hmac.new(self._key, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{stamp}.{mac}"

    def _nonce_age(self, nonce: str, now: float) -> float | None:
        stamp, _, mac = nonce.partition(".")
        expected = hmac.new(self._key, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        if not hmac.compare_digest(mac.encode(), expected.encode()):
            return None
        try:
            return now - int(stamp, 16)
        except ValueError:
            return None

    def challenges(self, now: float, stale: bool = False) -> list[tuple[str, str]]:
        """``WWW-Authenticate`` headers: MD5, then SHA-256 (RFC 8760). MD5 comes first because
        many SIP user agents (SIPp among them) answer the first challenge only and know no
        other algorithm; one that knows SHA-256 may pick it."""
        nonce = self.nonce(now)
        extra = ", stale=true" if stale else ""
        return [
            ("WWW-Authenticate",
             f'Digest realm="{self.realm}", nonce="{nonce}", algorithm={name}, qop="auth"{extra}')
            for name in _HASHES
        ]

    def check(self, method: str, authorization: Iterable[str], now: float) -> DigestVerdict:
        """Judge the request's ``Authorization`` values: ``ok``; ``missing`` (none for this
        realm: challenge); ``stale`` (an expired nonce of ours, or credentials already used
        once: challenge again with stale=true);
        ``wrong`` (bad user or response, or a nonce we never issued)."""
        verdict: DigestVerdict = "missing"
        for header in authorization:
            params = parse_digest(header)
            if params is None or params.get("realm") != self.realm:
                continue
            verdict = self._judge(params, method, now)
            if verdict == "ok":
                return verdict
        return verdict

    def _judge(self, p: dict[str, str], method: str, now: float) -> DigestVerdict:
        age = self._nonce_age(p.get("nonce", ""), now)
        if age is None or age < -5:
            return "wrong"
        algorithm = p.get("algorithm", "MD5").upper()
        digest = _HASHES.get(algorithm)
        if digest is None or "uri" not in p:
            return "wrong"
        # The hash covers the URI the client names; it need not equal the Request-URI (SIPp,
        # for one, names the server's address), as Asterisk and Kamailio also accept.

        def h(text: str) -> str:
            return digest(text.encode("utf-8", "surrogateescape")).hexdigest()

        secret = self.password.get_secret_value()
        ha1 = h(f"{self.user}:{self.realm}:{secret}")
        ha2 = h(f"{method}:{p['uri']}")
        qop = p.get("qop")
        if qop is None:
            expected = h(f"{ha1}:{p['nonce']}:{ha2}")
        elif qop == "auth" and "nc" in p and "cnonce" in p:
            expected = h(f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:auth:{ha2}")
        else:
            return "wrong"
        user_ok = hmac.compare_digest(p.get("username", "").encode(), self.user.encode())
        response_ok = hmac.compare_digest(p.get("response", "").lower().encode(),
                                          expected.encode())
        if not (user_ok and response_ok):
            return "wrong"
        if age > self.nonce_ttl:
            return "stale"
        used = f"{p['nonce']}:{p.get('nc', '')}:{p.get('cnonce', '')}"
        while self._seen and (len(self._seen) >= self.max_seen
                              or next(iter(self._seen.values())) < now - self.nonce_ttl - 5):
            self._seen.popitem(last=False)
        if used in self._seen:
            return "stale"  # a replay (or a client that reuses its nonce without qop)
        self._seen[used] = now
        return "ok"


@dataclass(frozen=True)
class Refusal:
    """How to refuse an INVITE: ``status`` 0 means say nothing at all."""

    status: int
    reason: str = ""
    headers: tuple[tuple[str, str], ...] = ()


class RedirectAccess:
    """The access decision for a new INVITE, in this order: trusted source, rate, credentials.
    A refusal is logged at most once a minute per source (a flood must not flood the log)."""

    def __init__(self, trusted: TrustedSources, limiter: RateLimiter,
                 auth: DigestGuard | None = None, *, conceal: bool = False) -> None:
        self.trusted, self.limiter, self.auth = trusted, limiter, auth
        self.refused = Refusal(404, "Not Found") if conceal else Refusal(403, "Forbidden")
        self._warned: dict[str, float] = {}

    def judge(self, source: str, authorization: Iterable[str], now: float,
              wall: float) -> Refusal | None:
        """``None`` to go on; ``now`` is a monotonic clock (rates), ``wall`` the time of day
        (nonces)."""
        wait = self.limiter.take(source, now)
        if not self.trusted.allows(source):
            self.warn(source, "INVITE from an untrusted source refused", now)
            # Over its rate an untrusted source gets silence: answers would reflect a flood.
            return Refusal(0) if wait > 0 else self.refused
        if wait > 0:
            self.warn(source, "INVITE rate limit reached", now)
            return Refusal(503, "Service Unavailable",
                           (("Retry-After", str(RateLimiter.retry_after(wait))),))
        if self.auth is None:
            return None
        verdict = self.auth.check("INVITE", authorization, wall)
        if verdict == "ok":
            return None
        if verdict == "wrong":
            self.warn(source, "INVITE with wrong digest credentials refused", now)
            return self.refused
        return Refusal(401, "Unauthorized",
                       tuple(self.auth.challenges(wall, stale=verdict == "stale")))

    def warn(self, source: str, what: str, now: float | None = None) -> None:
        """Log ``what`` about ``source`` unless it was said in the last minute."""
        now = time.monotonic() if now is None else now
        last = self._warned.get(source)
        if last is not None and now - last < 60.0:
            return
        if len(self._warned) >= 1024:
            self._warned = {k: v for k, v in self._warned.items() if now - v < 60.0}
            if len(self._warned) >= 1024:
                return
        self._warned[source] = now
        log.warning("redirect: %s (%s; said once a minute per source)", what, source)
