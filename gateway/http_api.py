"""The control API (Starlette, served by uvicorn, bound to 127.0.0.1 by default).

Reads are open; every change needs ``Authorization: Bearer <token>`` (401 otherwise, and 401
for every change when no token is configured). Invalid bodies get 422 naming each bad field::

    GET    /healthz                 liveness: {"status": "ok"}
    GET    /readyz                  {"ready": bool, "sip_listen": ["udp://127.0.0.1:5060"], ...}
    GET    /metrics                 Prometheus text
    GET    /rooms                   rooms and their registration state
    POST   /rooms/{name}/register   register the room again                      (token)
    GET    /calls                   calls in progress
    POST   /calls                   {"room", "meeting_id", "passcode"?, ...} or
                                    {"room", "invitation": "<invitation text>"}   (token)
    DELETE /calls/{call_id}         hang up                                      (token)
    GET    /ports                   the CRC port pool
    GET    /cdrs?limit=&room=       call detail records, newest first
    POST   /zoom/webhook            Zoom's notifications, signed (gateway.webhook; when configured)

The daemon behind it is reached through :class:`GatewayControl`, a small protocol the daemon
implements; :func:`create_app` builds the application, :class:`HttpServer` runs it on uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

import uvicorn
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.callerrors import CallError, CallFailed, CallNotPlaced, UnknownCall
from gateway.httplimits import guarded_protocol
from gateway.metrics import CONTENT_TYPE, GatewayMetrics
from gateway.store import Cdr, PoolState
from signaling.dialstring import DialStringError, DialTarget, parse_invitation

__all__ = [
    "CallInfo",
    "CALL_ERROR_STATUS",
    "ControlError",
    "GatewayControl",
    "HttpLimits",
    "HttpServer",
    "Readiness",
    "RoomInfo",
    "START_CONTEXT",
    "StartCall",
    "StartContext",
    "control_error",
    "create_app",
]

log = logging.getLogger(__name__)

#: Largest request body the API reads (an invitation text fits many times over).
MAX_BODY = 64 * 1024
MAX_INVITATION = 20000


@dataclass(frozen=True)
class RoomInfo:
    """A configured room and its registration (``registered``, ``registering``, ``failed``,
    ``unregistered``); ``status_code`` is the registrar's last answer."""

    name: str
    aor: str
    transport: str
    registration: str
    status_code: int | None = None
    reason: str | None = None
    expires_in: int | None = None
    h323_alias: str | None = None


@dataclass(frozen=True)
class CallInfo:
    """A call the gateway placed; ``target`` is the dial string without passcode or host key.
    ``state``: ``dialling``, ``ringing``, ``connected``, ``ended``..."""

    call_id: str
    room: str
    target: str
    state: str
    started_at: float
    connected_at: float | None = None
    ended_at: float | None = None
    sip_code: int | None = None
    protocol: str = "sip"
    events: tuple[dict[str, Any], ...] = ()
    """The call's story in the gateway's call-event vocabulary (:mod:`signaling.callevents`):
    ringing, answered, media up/down, DTMF, ended with its cause (received or local)."""


@dataclass(frozen=True)
class Readiness:
    """``degraded``: per dependency (``api``, ``store``) that is degraded now, since when
    (epoch seconds) and why."""

    ready: bool
    sip_listen: list[str]
    checks: dict[str, bool] = field(default_factory=dict)
    rooms_waiting: list[str] = field(default_factory=list)
    """Rooms whose SIP engine died and that are not back (registered on a fresh one) yet."""
    degraded: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class StartContext:
    """What travels with a ``POST /calls`` into the daemon: the event-loop time after which the
    client is taken to have given up, and a check that its connection is still open. A call
    whose request has expired is never dialled."""

    deadline: float
    client_gone: Callable[[], Awaitable[bool]]


#: Set by ``POST /calls`` for the daemon's :meth:`GatewayControl.start_call`.
START_CONTEXT: contextvars.ContextVar[StartContext | None] = contextvars.ContextVar(
    "crcgw_start_context", default=None
)
#: How long a ``POST /calls`` may take before the call is abandoned (seconds).
START_DEADLINE_S = 10.0


class ControlError(Exception):
    """A refused operation: ``status`` (404 unknown room or call, 503 no CRC port...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


#: The HTTP status of each refusal of the call tracker (:mod:`gateway.callerrors`).
CALL_ERROR_STATUS: dict[type[CallError], int] = {UnknownCall: 404, CallNotPlaced: 503,
                                                 CallFailed: 502}


def control_error(exc: CallError) -> ControlError:
    """The call tracker's refusal ``exc`` as the control API answers it."""
    status = next((code for kind, code in CALL_ERROR_STATUS.items() if isinstance(exc, kind)),
                  500)
    return ControlError(status, exc.message)


class StartCall(BaseModel):
    """Body of ``POST /calls``: dial a meeting from a room."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    room: str = Field(min_length=1, max_length=64)
    meeting_id: str = Field(min_length=1, max_length=32)
    passcode: SecretStr | None = None
    layout: str | None = None
    host_key: SecretStr | None = None
    protocol: Literal["sip", "h323"] = "sip"
    host: str | None = Field(default=None, description="CRC host (SIP default zoomcrc.com)")
    port: int | None = Field(default=None, ge=1, le=65535,
                             description="the host's port (SIP 5060/5061, H.323 1720 if not given)")
    invitation: str | None = Field(
        default=None, max_length=MAX_INVITATION, repr=False,
        description="invitation text: fills meeting_id, passcode (and the H.323 host)",
    )

    @field_validator("meeting_id")
    @classmethod
    def _meeting_id(cls, value: str) -> str:
        try:
            return DialTarget.sip(value).meeting_id
        except DialStringError as exc:
            raise ValueError(exc.rule) from None

    def target(self) -> DialTarget:
        """The dial target (raises :class:`DialStringError` naming the bad field)."""
        secret = (self.passcode.get_secret_value() if self.passcode else None,
                  self.host_key.get_secret_value() if self.host_key else None)
        if self.protocol == "h323":
            return DialTarget.h323(self.meeting_id, host=self.host or "", passcode=secret[0],
                                   layout=self.layout, host_key=secret[1], port=self.port)
        kwargs: dict[str, Any] = {"host": self.host} if self.host else {}
        if self.port is not None:
            kwargs["port"] = self.port
        return DialTarget.sip(self.meeting_id, passcode=secret[0], layout=self.layout,
                              host_key=secret[1], **kwargs)


class GatewayControl(Protocol):
    """What the control API needs from the daemon."""

    def ready(self) -> Readiness: ...

    async def rooms(self) -> Sequence[RoomInfo]: ...

    async def reregister(self, room: str) -> RoomInfo: ...

    async def calls(self) -> Sequence[CallInfo]: ...

    async def start_call(self, request: StartCall) -> CallInfo: ...

    async def hangup(self, call_id: str) -> CallInfo: ...

    async def ports(self) -> PoolState: ...

    async def cdrs(self, limit: int, room: str | None) -> Sequence[Cdr]: ...


def _from_invitation(payload: dict[str, Any]) -> dict[str, Any]:
    """Fill ``meeting_id``, ``passcode`` and (H.323) ``host`` from the invitation text, unless
    the body gives them."""
    info = parse_invitation(payload["invitation"])
    filled = dict(payload)
    if info.meeting_id and "meeting_id" not in filled:
        filled["meeting_id"] = info.meeting_id
    if info.passcode and "passcode" not in filled:
        filled["passcode"] = info.passcode
    if filled.get("protocol") == "h323" and "host" not in filled and info.h323_targets:
        filled["host"] = info.h323_targets[0].host
    return filled


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _invalid(errors: list[dict[str, str]]) -> JSONResponse:
    return _error(422, "invalid request", detail=errors)


Handler = Callable[[Request], Awaitable[Response]]


def create_app(
    control: GatewayControl,
    *,
    token: SecretStr | None,
    metrics: GatewayMetrics | None = None,
    webhook: Handler | None = None,
) -> Starlette:
    """The control API over ``control``. ``token=None``: every change is refused (401).
    ``webhook``: the handler of ``POST /zoom/webhook`` (it checks Zoom's signature itself)."""
    expected = token.get_secret_value().encode() if token is not None else None

    def authorised(request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if expected is None:
            message = "changes are disabled: no control token is configured (http.token_env)"
        elif scheme.lower() != "bearer" or not given:
            message = "this change needs Authorization: Bearer <token>"
        elif not hmac.compare_digest(given.strip().encode(), expected):
            message = "invalid token"
        else:
            return None
        return JSONResponse({"error": message}, status_code=401,
                            headers={"WWW-Authenticate": 'Bearer realm="crcgw"'})

    def change(handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            refused = authorised(request)
            if refused is not None:
                return refused
            return await handler(request)

        return guarded

    def guarded_errors(handler: Handler) -> Handler:
        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except ControlError as exc:
                return _error(exc.status, exc.message)
            except CallError as exc:
                error = control_error(exc)
                return _error(error.status, error.message)

        return run

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        state = control.ready()
        return JSONResponse(asdict(state), status_code=200 if state.ready else 503)

    async def metrics_text(request: Request) -> Response:
        body = metrics.render() if metrics is not None else b""
        return Response(body, media_type=CONTENT_TYPE)

    async def rooms(request: Request) -> Response:
        return JSONResponse({"rooms": [asdict(room) for room in await control.rooms()]})

    async def reregister(request: Request) -> Response:
        room = await control.reregister(request.path_params["name"])
        return JSONResponse(asdict(room))

    async def calls(request: Request) -> Response:
        return JSONResponse({"calls": [asdict(call) for call in await control.calls()]})

    async def start_call(request: Request) -> Response:
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY:
                return _error(413, f"request body over {MAX_BODY} bytes")
        try:
            payload = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError):
            return _invalid([{"field": "body", "message": "not valid JSON"}])
        except RecursionError:
            return _invalid([{"field": "body", "message": "JSON nested too deeply"}])
        if not isinstance(payload, dict):
            return _invalid([{"field": "body", "message": "expected a JSON object"}])
        if isinstance(payload.get("invitation"), str):
            if len(payload["invitation"]) > MAX_INVITATION:
                return _invalid([{"field": "invitation",
                                  "message": f"at most {MAX_INVITATION} characters"}])
            try:
                payload = _from_invitation(payload)
            except DialStringError as exc:
                return _invalid([{"field": "invitation", "message": f"{exc.field}: {exc.rule}"}])
        try:
            body = StartCall.model_validate(payload)
            body.target()
        except ValidationError as exc:
            return _invalid([
                {"field": ".".join(str(p) for p in err["loc"]) or "body",
                 "message": err["msg"].removeprefix("Value error, ")}
                for err in exc.errors(include_input=False, include_url=False)
            ])
        except DialStringError as exc:
            return _invalid([{"field": exc.field, "message": exc.rule}])
        deadline = asyncio.get_running_loop().time() + START_DEADLINE_S
        token = START_CONTEXT.set(StartContext(deadline, request.is_disconnected))
        try:
            call = await control.start_call(body)
        finally:
            START_CONTEXT.reset(token)
        return JSONResponse(asdict(call), status_code=201)

    async def hangup(request: Request) -> Response:
        call = await control.hangup(request.path_params["call_id"])
        return JSONResponse(asdict(call))

    async def ports(request: Request) -> Response:
        return JSONResponse((await control.ports()).as_dict())

    async def cdrs(request: Request) -> Response:
        limit_text = request.query_params.get("limit", "100")
        # (ASCII digits only: "²".isdigit() is true, and int("²") fails)
        if not (limit_text.isascii() and limit_text.isdigit()) or not 1 <= int(limit_text) <= 10000:
            return _invalid([{"field": "limit", "message": "must be a number from 1 to 10000"}])
        room = request.query_params.get("room") or None
        if room is not None and (len(room) > 64 or not room.isprintable()):
            return _invalid([{"field": "room", "message": "must be a room name (printable, "
                              "at most 64 characters)"}])
        records = await control.cdrs(int(limit_text), room)
        return JSONResponse({"cdrs": [record.as_dict() for record in records]})

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_text, methods=["GET"]),
        Route("/rooms", guarded_errors(rooms), methods=["GET"]),
        Route("/rooms/{name}/register", change(guarded_errors(reregister)), methods=["POST"]),
        Route("/calls", guarded_errors(calls), methods=["GET"]),
        Route("/calls", change(guarded_errors(start_call)), methods=["POST"]),
        Route("/calls/{call_id}", change(guarded_errors(hangup)), methods=["DELETE"]),
        Route("/ports", guarded_errors(ports), methods=["GET"]),
        Route("/cdrs", guarded_errors(cdrs), methods=["GET"]),
    ]
    if webhook is not None:
        routes.append(Route("/zoom/webhook", webhook, methods=["POST"]))
    return Starlette(routes=routes, exception_handlers={HTTPException: _http_error})


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such route, method not allowed) as JSON with ``error``,
    like every other 4xx of the control API, instead of a plain-text body."""
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the daemon owns SIGTERM and Ctrl-C."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass(frozen=True)
class HttpLimits:
    """Connection limits (:mod:`gateway.httplimits`): open connections, seconds for a request
    to arrive, idle seconds kept alive after a response, bytes of request head."""

    max_connections: int = 256
    request_timeout: float = 10.0
    keep_alive: int = 5
    max_header: int = 16384


class HttpServer:
    """uvicorn running ``app`` inside the caller's event loop.

    ``await server.start()`` returns once it listens (a port 0 is resolved, see
    :attr:`address`); ``await server.stop()`` shuts it down.
    """

    def __init__(self, app: Starlette, host: str = "127.0.0.1", port: int = 8080,
                 limits: HttpLimits | None = None) -> None:
        limits = limits or HttpLimits()
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="off", access_log=False,
            http=guarded_protocol(limits.max_connections, limits.request_timeout),
            limit_concurrency=limits.max_connections + 1,  # 503 for running requests beyond
            timeout_keep_alive=limits.keep_alive, h11_max_incomplete_event_size=limits.max_header,
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self, timeout: float = 10.0) -> str:
        self._task = asyncio.create_task(self._server.serve())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("the HTTP server stopped while starting")
            if loop.time() > deadline:
                raise TimeoutError("the HTTP server did not start")
            await asyncio.sleep(0.01)
        return self.address

    @property
    def address(self) -> str:
        """``HOST:PORT`` the server listens on."""
        sock = self._server.servers[0].sockets[0]
        host, port = sock.getsockname()[:2]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._task = None
