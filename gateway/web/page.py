"""The status page's routes, mounted on the control API under ``/status``::

    GET  /status/             the page (login form first when a token is configured)
    GET  /status/login        POST /status/login (token) -> session cookie; POST /status/logout
    GET  /status/fragment     the live regions alone (the page polls it every few seconds)
    GET  /status/confirm      ?action=hangup&id=CALL or ?action=register&id=ROOM: confirm first
    POST /status/calls/{id}/hangup, POST /status/rooms/{name}/register        (change token)
    GET  /status/static/...   the page's CSS and JavaScript

Changes need a session, its CSRF token, a same-origin request, and the change token: either
the session was opened with it, or the confirmation form gives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jinja2
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from gateway.callerrors import CallError
from gateway.http_api import ControlError, control_error
from gateway.web.auth import COOKIE, Session, Sessions
from gateway.web.history import chart_svg, gauge_svg, span_text
from gateway.web.snapshot import OUTCOMES, Observer, StatusSource, collect

__all__ = ["StatusPage"]

log = logging.getLogger(__name__)

_HERE = Path(__file__).parent
_FORM_LIMIT = 8 * 1024
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}

Handler = Callable[[Request], Awaitable[Response]]


class StatusPage:
    """The page over ``source``; ``token`` allows changes, ``read_token`` only reading.

    ``interval_s``: seconds between pool history samples (and the page's refresh hint).
    """

    def __init__(self, source: StatusSource, *, token: SecretStr | None,
                 read_token: SecretStr | None = None, prefix: str = "/status",
                 observer: Observer | None = None, refresh_s: float = 3.0) -> None:
        self.source = source
        self.sessions = Sessions(token, read_token)
        self.prefix = prefix.rstrip("/")
        self.observer = observer or Observer()
        self.refresh_s = refresh_s
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(_HERE / "templates"),
            autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.globals.update(base=self.prefix, outcomes=OUTCOMES, gauge_svg=gauge_svg)

    # -- wiring ------------------------------------------------------------------------------

    def mount(self, app: Starlette) -> None:
        """Add the page's routes to the control API ``app``."""
        redirect = RedirectResponse(self.prefix + "/", status_code=308)

        async def bare(request: Request) -> Response:
            return redirect

        app.router.routes.append(Route(self.prefix, bare, methods=["GET"]))
        app.router.routes.append(Mount(self.prefix, routes=self.routes()))
        if self.source.redirect is not None:
            self.observer.watch_redirects(self.source.redirect)

    def routes(self) -> list[Route | Mount]:
        return [
            Route("/", self._reader(self.page), methods=["GET"]),
            Route("/fragment", self._reader(self.fragment), methods=["GET"]),
            Route("/confirm", self._reader(self.confirm), methods=["GET"]),
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/calls/{id}/hangup", self._changer(self.hangup), methods=["POST"]),
            Route("/rooms/{id}/register", self._changer(self.reregister), methods=["POST"]),
            Mount("/static", StaticFiles(directory=_HERE / "static"), name="static"),
        ]

    async def run(self, stop: asyncio.Event, interval_s: float | None = None) -> None:
        """Sample the pool history every ``interval_s`` (default: the history's) until
        ``stop``."""
        interval = interval_s or self.observer.history.interval_s
        while not stop.is_set():
            try:
                await self.observer.sample(self.source)
            except Exception as exc:  # noqa: BLE001 - the next sample tries again
                log.debug("status sample failed: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    # -- plumbing ----------------------------------------------------------------------------

    def _render(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        body = self.templates.get_template(name).render(**values)
        return HTMLResponse(body, status_code=status, headers=_HEADERS)

    def _session(self, request: Request) -> Session | None:
        if self.sessions.open:
            return None
        return self.sessions.get(request.cookies.get(COOKIE))

    def _reader(self, handler: Callable[[Request, Session | None], Awaitable[Response]]
                ) -> Handler:
        async def run(request: Request) -> Response:
            session = self._session(request)
            if session is None and not self.sessions.open:
                if request.url.path.endswith("/fragment"):
                    return HTMLResponse("log in again", status_code=401, headers=_HEADERS)
                return RedirectResponse(self.prefix + "/login", status_code=303)
            return await handler(request, session)

        return run

    def _same_origin(self, request: Request) -> bool:
        origin = request.headers.get("origin")
        if origin is None or origin == "null":
            return origin is None
        return origin == f"{request.url.scheme}://{request.headers.get('host', '')}"

    async def _form(self, request: Request) -> dict[str, str] | None:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > _FORM_LIMIT:
                return None
        try:
            parsed = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=20)
        except (UnicodeDecodeError, ValueError):
            return None
        return {key: values[0] for key, values in parsed.items()}

    def _changer(self, handler: Callable[[str, Session], Awaitable[str]]) -> Handler:
        async def run(request: Request) -> Response:
            if self.sessions.open:
                return self._render("message.html", 401, title="Changes are disabled",
                                    message="No control token is configured "
                                            "(http.token_env): nothing can be changed.")
            session = self._session(request)
            if session is None:
                return self._render("message.html", 401, title="Log in first",
                                    message="Your session has ended: log in again.")
            form = await self._form(request)
            target = request.path_params["id"]
            action = "hangup" if request.url.path.endswith("/hangup") else "register"
            refusal = None
            if form is None or not self._same_origin(request):
                refusal = "The request was not sent by this page."
            elif not self.sessions.csrf_ok(session, form.get("csrf")):
                refusal = "The form has expired: reload the page and try again."
            elif session.role != "change" and not self.sessions.is_change_token(
                    form.get("token", "").strip()):
                refusal = "Refused: this change needs the change token."
            if refusal is not None:
                details = await self._target_details(action, target)
                return self._render("confirm.html", 403, session=session, action=action,
                                    target=target, details=details, error=refusal)
            try:
                done = await handler(target, session)
            except (ControlError, CallError) as exc:
                error = control_error(exc) if isinstance(exc, CallError) else exc
                done = f"Not done ({error.status}): {error.message}"
            session.flash.append(done)
            return RedirectResponse(self.prefix + "/", status_code=303)

        return run

    async def _target_details(self, action: str, target: str) -> dict[str, Any] | None:
        snapshot = await collect(self.source, self.observer, cdr_rows=0)
        rows = snapshot["calls"] if action == "hangup" else snapshot["rooms"]
        key = "id" if action == "hangup" else "name"
        return next((row for row in rows if row[key] == target), None)

    # -- pages -------------------------------------------------------------------------------

    def _filters(self, request: Request) -> tuple[str | None, str | None]:
        room = request.query_params.get("room") or None
        outcome = request.query_params.get("outcome") or None
        if outcome is not None and outcome not in OUTCOMES:
            outcome = None
        return room, outcome

    async def _panels(self, request: Request) -> dict[str, Any]:
        room, outcome = self._filters(request)
        data = await collect(self.source, self.observer, room=room, outcome=outcome)
        history = self.observer.history
        span = history.shown_span(data["now"])
        data["chart"] = chart_svg(history.window(data["now"], span), data["now"], span)
        data["span_text"] = span_text(span)
        data["filter_room"], data["filter_outcome"] = room, outcome
        return data

    async def page(self, request: Request, session: Session | None) -> Response:
        data = await self._panels(request)
        flash = session.flash[:] if session is not None else []
        if session is not None:
            session.flash.clear()
        return self._render("status.html", session=session, flash=flash,
                            refresh_ms=int(self.refresh_s * 1000), **data)

    async def fragment(self, request: Request, session: Session | None) -> Response:
        data = await self._panels(request)
        return self._render("fragment.html", session=session, **data)

    async def confirm(self, request: Request, session: Session | None) -> Response:
        action = request.query_params.get("action", "")
        target = request.query_params.get("id", "")
        if action not in ("hangup", "register") or not target:
            return self._render("message.html", 400, title="Nothing to confirm",
                                message="Choose a call to hang up or a room to register.")
        details = await self._target_details(action, target)
        return self._render("confirm.html", session=session, action=action, target=target,
                            details=details, error=None)

    async def login_form(self, request: Request) -> Response:
        if self.sessions.open or self._session(request) is not None:
            return RedirectResponse(self.prefix + "/", status_code=303)
        return self._render("login.html", error=None)

    async def login(self, request: Request) -> Response:
        if self.sessions.open:
            return RedirectResponse(self.prefix + "/", status_code=303)
        if self.sessions.throttled():
            return self._render("login.html", 429, error="Too many wrong tokens: wait a minute.")
        form = await self._form(request)
        if form is None or not self._same_origin(request):
            return self._render("login.html", 400, error="The request was not sent by this page.")
        opened = self.sessions.login(form.get("token", ""))
        if opened is None:
            return self._render("login.html", 401, error="That token is not valid.")
        sid, _ = opened
        response = RedirectResponse(self.prefix + "/", status_code=303)
        response.set_cookie(COOKIE, sid, max_age=int(self.sessions.lifetime_s),
                            path=self.prefix + "/", httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    async def logout(self, request: Request) -> Response:
        session = self._session(request)
        form = await self._form(request) or {}
        if session is not None and self.sessions.csrf_ok(session, form.get("csrf")):
            self.sessions.logout(request.cookies.get(COOKIE))
        response = RedirectResponse(self.prefix + "/login", status_code=303)
        response.delete_cookie(COOKIE, path=self.prefix + "/")
        return response

    # -- changes -----------------------------------------------------------------------------

    async def hangup(self, call_id: str, session: Session) -> str:
        info = await self.source.hangup(call_id)
        log.info("status page: call %s hung up", call_id)
        return f"Call {info.call_id} from {info.room}: {info.state}."

    async def reregister(self, room: str, session: Session) -> str:
        info = await self.source.reregister(room)
        log.info("status page: room %s registering again", room)
        return f"Room {info.name} registering again: now {info.registration}."

