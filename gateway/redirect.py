"""The dial-string redirect service: room systems that cannot build Zoom dial strings call the
gateway with digits and are sent on to the meeting.

``INVITE sip:87654321012*4321@gateway`` gets ``100 Trying`` then ``302 Moved Temporarily`` with
``Contact: <sip:87654321012.4321@zoomcrc.com>`` (the dial plan decides), so media flows directly
between the room and Zoom. No matching rule: ``404``. No CRC port free: ``486 Busy Here`` or
``503 Service Unavailable`` with ``Retry-After`` (configurable).

Port leases: each 302 takes a lease (``redirect:<Call-ID>``) for ``hold`` seconds, then gives
it back. The gateway never sees the redirected call itself, so the hold covers the time the room
needs to reach the meeting; after that the account's own usage figure (the API's ``ports in use``,
read by the reconcile loop as "used elsewhere") accounts for the call. :meth:`RedirectService.
call_ended` releases a lease early when something learns the call is over. A retransmitted
INVITE is answered from the transaction, never leased twice.

Other requests: ``OPTIONS`` 200; ``CANCEL`` 200 (the INVITE gets 487 if not answered yet) or 481;
``ACK`` ends the INVITE transaction (no answer); ``BYE`` 481; other known methods 405, unknown
ones 501; bad requests 400 (or 505, 416, 420, 415) when they carry a Via to answer to, else
silence. Nothing a peer sends can stop the service.

Transports: UDP (final responses retransmitted until ACK, RFC 3261 17.2.1) and TCP (framing by
Content-Length, CRLF keep-alives answered; a connection idle for ``tcp_idle_timeout`` is closed;
at ``tcp_max_connections`` a new connection closes the oldest one that has not sent a whole
message yet, or is itself closed when all have, so the connections of rooms that have spoken go
on while a flood of silent ones cannot lock them out).

Access (:mod:`gateway.sipaccess`), checked for every new INVITE before the dial plan is asked,
so a refused source learns nothing about which numbers exist: a source outside the trusted
networks gets ``403`` (``404`` with ``conceal``); a source over its rate gets ``503`` with
``Retry-After`` (an untrusted one over its rate gets silence, so the service cannot be used to
reflect a flood); with digest authentication configured, ``401`` with ``WWW-Authenticate``
until the credentials are right (wrong ones: ``403``, or ``404`` with ``conceal``). These
refusals are answered statelessly: they take no port, keep no transaction and set no timer.
``reveal: no-secrets`` leaves the passcode and host key out of the 302 Contact; with
``server_header`` off no ``Server`` header names the product.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, cast

from gateway.config import SipConfig, parse_host_port, parse_listen
from gateway.dialplan import DialPlan, NoRouteError
from gateway.metrics import GatewayMetrics
from gateway.sipaccess import DigestGuard, RateLimiter, RedirectAccess, TrustedSources
from gateway.store import Lease, StoreUnavailableError
from signaling.dialstring import DialTarget
from signaling.sip.grammar import uri_of, uri_user
from signaling.sip.request import NotARequest, SipRequest, build_response, new_tag, split_stream

__all__ = [
    "PortGate",
    "RedirectEvent",
    "RedirectService",
    "RedirectSettings",
    "contact_uri",
]

log = logging.getLogger(__name__)

ALLOW = "INVITE, ACK, CANCEL, OPTIONS"
_KNOWN_METHODS = {"REGISTER", "INFO", "MESSAGE", "SUBSCRIBE", "NOTIFY", "REFER", "PRACK",
                  "UPDATE", "PUBLISH"}
_REASONS = {486: "Busy Here", 503: "Service Unavailable"}

Reply = Callable[[bytes], None]


class PortGate(Protocol):
    """What the service needs of the port pool (:class:`gateway.ports.PortPool` fits)."""

    async def acquire(self, call_id: str, room: str, target: str) -> Lease | None: ...

    async def release(self, call_id: str) -> Lease | None: ...


@dataclass(frozen=True)
class RedirectSettings:
    """``hold``: seconds a redirect keeps its port lease; ``busy_status`` 486 or 503 (with
    ``Retry-After: retry_after``) when no port is free; ``t1`` the RFC 3261 timer base."""

    hold: float = 60.0
    busy_status: int = 503
    retry_after: int = 30
    t1: float = 0.5
    t2: float = 4.0
    server: str = "crcgw"
    #: Source networks that may be redirected, and host names or addresses (the rooms'
    #: registrars and proxies) resolved and trusted when the service starts.
    trusted: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    trusted_hosts: tuple[str, ...] = ()
    rate: float = 2.0
    burst: int = 10
    auth: DigestGuard | None = None
    conceal: bool = False
    reveal: str = "full"
    tcp_idle_timeout: float = 120.0
    tcp_max_connections: int = 256

    @classmethod
    def from_config(cls, sip: SipConfig, trusted_hosts: Sequence[str] = (),
                    environ: Mapping[str, str] | None = None) -> RedirectSettings:
        """The settings of the configuration's ``sip`` section; ``trusted_hosts`` (the rooms'
        registrars) count only when ``sip.redirect.trust_registrars`` is on."""
        access = sip.redirect
        guard = None
        if access.auth is not None:
            password = access.auth.secret("password", environ)
            assert password is not None  # the section validator requires a reference
            guard = DigestGuard(access.auth.realm, access.auth.user, password,
                                access.auth.nonce_ttl)
        return cls(hold=sip.redirect_hold, busy_status=sip.busy_status,
                   retry_after=sip.retry_after, server="crcgw" if access.server_header else "",
                   trusted=tuple(str(n) for n in access.trusted),
                   trusted_hosts=tuple(trusted_hosts) if access.trust_registrars else (),
                   rate=access.rate, burst=access.burst, auth=guard, conceal=access.conceal,
                   reveal=access.reveal, tcp_idle_timeout=sip.tcp_idle_timeout,
                   tcp_max_connections=sip.tcp_max_connections)


@dataclass(frozen=True)
class RedirectEvent:
    """One answered INVITE, for logs and CDRs. ``target`` carries no passcode or host key."""

    sip_call_id: str
    status: int
    target: str | None
    caller: str
    transport: str
    source: str
    at: float


def contact_uri(target: DialTarget) -> str:
    """The ``Contact`` value of a redirect to ``target``: ``<sip:…>`` for SIP, an RFC 3508
    ``<h323:MID%23PASS@HOST>`` URI for H.323."""
    if target.protocol == "sip":
        return f"<{target.sip_uri()}>"
    return f"<h323:{target.user_part().replace('#', '%23')}@{target.host_port()}>"


@dataclass
class _InviteTx:
    request: SipRequest
    reply: Reply
    reliable: bool
    to_tag: str = field(default_factory=new_tag)
    final: bytes | None = None
    cancelled: bool = False
    acked: bool = False
    timer: asyncio.TimerHandle | None = None


class RedirectService:
    """The listener. ``await service.start(["udp://127.0.0.1:5060", …])`` returns the bound
    addresses (a port 0 is resolved); ``await service.close()`` stops it and frees its leases."""

    def __init__(
        self,
        dial_plan: DialPlan,
        ports: PortGate,
        settings: RedirectSettings | None = None,
        *,
        metrics: GatewayMetrics | None = None,
        on_event: Callable[[RedirectEvent], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.dial_plan = dial_plan
        self.ports = ports
        self.settings = settings or RedirectSettings()
        self.metrics = metrics
        self.on_event = on_event
        self.clock = clock
        self._txs: dict[tuple[str, str], _InviteTx] = {}
        self._holds: dict[str, asyncio.TimerHandle] = {}
        self._servers: list[asyncio.AbstractServer] = []
        self._udp: list[asyncio.DatagramTransport] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        #: TCP connections that have not sent a whole message yet, oldest first: at the cap
        #: the oldest of them makes room for a new connection.
        self._silent: OrderedDict[asyncio.StreamWriter, None] = OrderedDict()
        self._listen: list[str] = []
        self._access = RedirectAccess(
            TrustedSources(self.settings.trusted),
            RateLimiter(self.settings.rate, self.settings.burst),
            self.settings.auth, conceal=self.settings.conceal,
        )

    # -- life cycle ---------------------------------------------------------------------------

    async def start(self, listen: Sequence[str]) -> list[str]:
        loop = asyncio.get_running_loop()
        await self._trust_hosts()
        for address in listen:
            transport, host, port = parse_listen(address)
            if transport == "udp":
                udp, _ = await loop.create_datagram_endpoint(
                    lambda: _UdpProtocol(self), local_addr=(host, port)
                )
                self._udp.append(udp)
                bound = udp.get_extra_info("sockname")
            else:
                server = await asyncio.start_server(self._serve_tcp, host, port)
                self._servers.append(server)
                bound = server.sockets[0].getsockname()
            shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
            self._listen.append(f"{transport}://{shown}:{bound[1]}")
        log.info("redirect service listening on %s", ", ".join(self._listen))
        return list(self._listen)

    async def _trust_hosts(self) -> None:
        """Resolve the trusted host names (registrars) now; one that does not resolve is
        logged and left out (its calls get 403 until the service restarts)."""
        loop = asyncio.get_running_loop()
        for entry in self.settings.trusted_hosts:
            try:
                host, port = parse_host_port(entry)
                infos = await asyncio.wait_for(loop.getaddrinfo(host, port or 5060), 10)
            except (OSError, ValueError, TimeoutError) as exc:
                log.warning("redirect: trusted host %s not resolved (%s); not trusted",
                            entry, type(exc).__name__)
                continue
            for info in infos:
                self._access.trusted.add(str(info[4][0]))

    @property
    def listen_addresses(self) -> list[str]:
        """Where the service listens, ``udp://127.0.0.1:5060`` style (for ``/readyz``)."""
        return list(self._listen)

    def live_call_ids(self) -> set[str]:
        """Lease ids the service holds now (the reconcile loop must not reclaim them)."""
        return set(self._holds)

    async def call_ended(self, sip_call_id: str) -> bool:
        """Release the lease of a redirected call early; ``False`` if it held none. This is
        the hook for a signal that the call reached the meeting (the account's live usage then
        counts it), so the hold ends at that moment or when it expires, whichever is first."""
        lease_id = f"redirect:{sip_call_id}"
        handle = self._holds.pop(lease_id, None)
        if handle is None:
            return False
        handle.cancel()
        await self.ports.release(lease_id)
        return True

    async def close(self) -> None:
        """Stop listening, answer nothing more, release every held lease."""
        for udp in self._udp:
            udp.close()
        for server in self._servers:
            server.close()
        for writer in list(self._writers):
            writer.close()
        for server in self._servers:
            await server.wait_closed()
        self._udp.clear()
        self._servers.clear()
        for tx in self._txs.values():
            if tx.timer is not None:
                tx.timer.cancel()
        self._txs.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for lease_id in list(self._holds):
            self._holds.pop(lease_id).cancel()
            await self.ports.release(lease_id)
        self._listen.clear()

    # -- transports ---------------------------------------------------------------------------

    def _spawn(self, data: bytes, reply: Reply, source: tuple[str, int], transport: str,
               stream: bool) -> None:
        task = asyncio.get_running_loop().create_task(
            self.handle(data, reply, source, transport, stream=stream)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        source = (str(peer[0]), int(peer[1]))
        if len(self._writers) >= self.settings.tcp_max_connections:
            if not self._silent:  # every connection has spoken: keep them, refuse this one
                self._access.warn(source[0], "SIP TCP connection refused: "
                                  f"{self.settings.tcp_max_connections} connections open")
                writer.transport.abort()
                return
            oldest = next(iter(self._silent))  # one that never sent a message: a flood's
            self._silent.pop(oldest)
            self._writers.discard(oldest)
            oldest.transport.abort()
        self._writers.add(writer)
        self._silent[writer] = None

        def reply(data: bytes) -> None:
            if not writer.is_closing():
                writer.write(data)

        buffer = b""
        try:
            while True:
                try:
                    chunk = await asyncio.wait_for(reader.read(65536),
                                                   self.settings.tcp_idle_timeout)
                except TimeoutError:
                    break  # idle for too long: close (the peer reconnects when it needs to)
                if not chunk:
                    break
                if buffer == b"" and chunk.strip(b"\r\n") == b"" and b"\r\n\r\n" in chunk:
                    reply(b"\r\n")  # RFC 5626 keep-alive ping: pong
                    continue
                buffer += chunk
                while True:
                    message, buffer, fatal = split_stream(buffer)
                    if message is None:
                        if fatal:
                            return
                        break
                    if fatal:  # answer (400) before dropping the link: framing is lost
                        await self.handle(message, reply, source, "tcp")
                        await writer.drain()
                        return
                    self._silent.pop(writer, None)
                    self._spawn(message, reply, source, "tcp", stream=True)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._silent.pop(writer, None)
            self._writers.discard(writer)
            writer.close()

    # -- the protocol -------------------------------------------------------------------------

    async def handle(
        self,
        data: bytes,
        reply: Reply,
        source: tuple[str, int],
        transport: str = "udp",
        *,
        stream: bool = False,
    ) -> None:
        """Answer one message from ``source``; never raises."""
        try:
            await self._handle(data, reply, source, transport, stream)
        except Exception:  # noqa: BLE001 - a peer must never be able to stop the service
            log.exception("redirect service: error handling a message from %s", source[0])

    async def _handle(
        self, data: bytes, reply: Reply, source: tuple[str, int], transport: str, stream: bool
    ) -> None:
        try:
            request = SipRequest.parse(data, stream=stream)
        except NotARequest:
            return
        server = self.settings.server

        def answer(status: int, reason: str, *headers: tuple[str, str],
                   to_tag: str | None = None) -> bytes:
            message = build_response(request, status, reason, source=source,
                                     to_tag=to_tag or new_tag(), headers=headers, server=server)
            reply(message)
            return message

        if request.problem is not None:
            # Without a Via there is nowhere to send a response (RFC 3261 18.2.2): drop it.
            if request.method != "ACK" and request.header_values("via"):
                answer(*request.problem)
            return
        method = request.method
        if method == "ACK":
            self._ack(request)
            return
        if method == "CANCEL":
            self._cancel(request, answer)
            return
        scheme, user = uri_user(request.uri)
        if scheme not in ("sip", "sips"):
            answer(416, "Unsupported URI Scheme")
            return
        require = request.header("require")
        if require and method in ("INVITE", "OPTIONS"):
            answer(420, "Bad Extension", ("Unsupported", require.strip()))
            return
        if method == "OPTIONS":
            answer(200, "OK", ("Allow", ALLOW), ("Accept", "application/sdp"))
        elif method == "INVITE":
            if request.transaction_key in self._txs or self._admit(request, source, answer):
                await self._invite(request, user, reply, source, transport)
        elif method == "BYE":
            answer(481, "Call/Transaction Does Not Exist")
        elif method in _KNOWN_METHODS:
            answer(405, "Method Not Allowed", ("Allow", ALLOW))
        else:
            answer(501, "Not Implemented", ("Allow", ALLOW))

    def _admit(self, request: SipRequest, source: tuple[str, int],
                answer: Callable[..., bytes]) -> bool:
        """Trust, rate and credentials of a new INVITE; a refusal is answered here."""
        refusal = self._access.judge(source[0], request.header_values("authorization"),
                                     asyncio.get_running_loop().time(), self.clock())
        if refusal is None:
            return True
        if refusal.status:
            answer(refusal.status, refusal.reason, *refusal.headers)
        if self.metrics is not None:
            self.metrics.redirects.labels(str(refusal.status or "dropped")).inc()
        return False

    async def _invite(
        self,
        request: SipRequest,
        user: str | None,
        reply: Reply,
        source: tuple[str, int],
        transport: str,
    ) -> None:
        key = request.transaction_key
        tx = self._txs.get(key)
        if tx is not None:  # a retransmission: repeat what we said
            tx.reply = reply
            reply(tx.final or self._response(tx, 100, "Trying", source))
            return
        tx = _InviteTx(request, reply, reliable=transport != "udp")
        self._txs[key] = tx
        reply(self._response(tx, 100, "Trying", source))
        ctype = (request.header("content-type") or "").split(";")[0].strip().lower()
        if request.to_has_tag:
            self._final(key, tx, source, 481, "Call/Transaction Does Not Exist")
            return
        if request.body.strip() and ctype not in ("", "application/sdp"):
            self._final(key, tx, source, 415, "Unsupported Media Type",
                        ("Accept", "application/sdp"))
            return
        try:
            target = self.dial_plan.resolve(user or "")
        except NoRouteError:
            self._final(key, tx, source, 404, "Not Found")
            return
        lease_id = f"redirect:{request.call_id}"
        caller = uri_user(uri_of(request.header("from") or ""))[1] or "unknown"
        safe_target = target.without_secrets().dial_string()
        if lease_id in self._holds:  # a new transaction of a call we already redirected
            lease: Lease | None = None
            already = True
        else:
            try:
                lease = await self.ports.acquire(lease_id, caller, safe_target)
            except Exception as exc:  # noqa: BLE001 - the store is down: say so, do not go silent
                if isinstance(exc, StoreUnavailableError):  # known: the pool's health reports it
                    log.debug("redirect %s: port store unavailable: %s", request.call_id, exc)
                else:
                    log.exception("redirect %s: the port store failed", request.call_id)
                self._final(key, tx, source, 503, "Service Unavailable",
                            ("Retry-After", str(self.settings.retry_after)))
                return
            already = False
        if lease is None and not already:
            status = self.settings.busy_status
            self._final(key, tx, source, status, _REASONS.get(status, "Busy"),
                        ("Retry-After", str(self.settings.retry_after)))
            return
        if tx.cancelled:
            if lease is not None:
                await self.ports.release(lease_id)
            self._final(key, tx, source, 487, "Request Terminated")
            return
        if lease is not None:
            loop = asyncio.get_running_loop()
            self._holds[lease_id] = loop.call_later(
                self.settings.hold, lambda: self._spawn_release(lease_id)
            )
        shown = target if self.settings.reveal == "full" else target.without_secrets()
        self._final(key, tx, source, 302, "Moved Temporarily", ("Contact", contact_uri(shown)),
                    target=safe_target, caller=caller, transport=transport)

    def _spawn_release(self, lease_id: str) -> None:
        if self._holds.pop(lease_id, None) is None:
            return
        task = asyncio.get_running_loop().create_task(self._release(lease_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _release(self, lease_id: str) -> None:
        await self.ports.release(lease_id)

    def _response(self, tx: _InviteTx, status: int, reason: str, source: tuple[str, int],
                  *headers: tuple[str, str]) -> bytes:
        return build_response(tx.request, status, reason, source=source, to_tag=tx.to_tag,
                              headers=headers, server=self.settings.server)

    def _final(
        self,
        key: tuple[str, str],
        tx: _InviteTx,
        source: tuple[str, int],
        status: int,
        reason: str,
        *headers: tuple[str, str],
        target: str | None = None,
        caller: str = "",
        transport: str = "udp",
    ) -> None:
        tx.final = self._response(tx, status, reason, source, *headers)
        tx.reply(tx.final)
        if self.metrics is not None:
            self.metrics.redirects.labels(str(status)).inc()
        log.info("INVITE %s from %s: %d %s%s", tx.request.call_id, source[0], status, reason,
                 f" -> {target}" if target else "")
        if self.on_event is not None:
            self.on_event(RedirectEvent(tx.request.call_id, status, target, caller, transport,
                                        f"{source[0]}:{source[1]}", self.clock()))
        loop = asyncio.get_running_loop()
        t1, t2 = self.settings.t1, self.settings.t2
        deadline = loop.time() + 64 * t1  # Timer H: give up waiting for the ACK

        def retransmit(interval: float) -> None:
            if tx.acked or self._txs.get(key) is not tx:
                return
            if loop.time() >= deadline:
                self._txs.pop(key, None)
                return
            tx.reply(tx.final or b"")
            tx.timer = loop.call_later(min(interval * 2, t2), retransmit, min(interval * 2, t2))

        if tx.reliable:  # no retransmissions over TCP; keep the tx to absorb a late ACK
            tx.timer = loop.call_later(64 * t1, lambda: self._txs.pop(key, None))
        else:
            tx.timer = loop.call_later(t1, retransmit, t1)

    def _ack(self, request: SipRequest) -> None:
        tx = self._txs.get(request.transaction_key)
        if tx is None or tx.final is None:
            return
        tx.acked = True
        if tx.timer is not None:
            tx.timer.cancel()
        key = request.transaction_key
        # Timer I (T4 = 5 s on UDP, 0 on TCP): absorb ACK retransmissions, then forget.
        delay = 0.0 if tx.reliable else 5.0
        tx.timer = asyncio.get_running_loop().call_later(delay, lambda: self._txs.pop(key, None))

    def _cancel(self, request: SipRequest, answer: Callable[..., bytes]) -> None:
        tx = self._txs.get(request.transaction_key)
        if tx is None:
            answer(481, "Call/Transaction Does Not Exist")
            return
        answer(200, "OK", to_tag=tx.to_tag)
        if tx.final is None:
            tx.cancelled = True


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, service: RedirectService) -> None:
        self.service = service
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (the selector loop's UDP transport does not subclass DatagramTransport in 3.11)
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if not data.strip(b"\r\n\x00 "):
            return  # keep-alive
        transport = self.transport
        source = (str(addr[0]), int(addr[1]))

        def reply(message: bytes) -> None:
            if transport is not None and not transport.is_closing():
                transport.sendto(message, addr)

        self.service._spawn(data, reply, source, "udp", stream=False)

    def error_received(self, exc: Exception) -> None:
        log.debug("redirect service UDP error: %s", exc)
