"""The gateway daemon: rooms registered, meetings dialled and redirected, CRC ports in sync.

:class:`Gateway` composes the pieces and implements :class:`gateway.http_api.GatewayControl`:

- the SIP core (:mod:`signaling.pjsua`) registers every configured room and places calls;
- the API client talks to Zoom, or to the embedded emulator when no account is configured, in
  which case a stand-in for Zoom's connector (:mod:`gateway.standin`) answers the calls;
- the port pool (:mod:`gateway.ports`) leases a CRC port for every call and redirect and
  reconciles with the API's usage;
- the redirect service (:mod:`gateway.redirect`) answers digits-only INVITEs with 302;
- the control API (:mod:`gateway.http_api`) serves health, readiness, metrics and changes.

``async with Gateway(config) as gw:`` starts it; leaving the block stops it in order: stop
accepting, hang up calls, release leases, unregister, close.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from pydantic import SecretStr

from api_client import AsyncZoomClient
from api_client.clients import ZoomCredentials
from api_client.emulator import EmulatorServer
from api_client.realzoom import is_zoom_base
from gateway.calls import CallTracker
from gateway.cdrs import CdrRecorder
from gateway.config import GatewayConfig, RoomConfig, parse_host_port
from gateway.http_api import (
    CallInfo,
    ControlError,
    HttpLimits,
    HttpServer,
    Readiness,
    RoomInfo,
    StartCall,
    create_app,
)
from gateway.live_usage import LiveUsage
from gateway.metrics import GatewayMetrics
from gateway.ports import PortPool, UsageSource
from gateway.redirect import RedirectService, RedirectSettings
from gateway.standin.process import StandinProcess
from gateway.store import Cdr, PoolState, StoreUnavailableError, open_store
from gateway.store.journal import CdrJournal
from gateway.usage import ZoomLiveUsage, room_system_ids, seed_usage
from gateway.web import StatusPage
from gateway.webhook import WebhookReceiver, pool_receiver
from signaling.dialstring import DialStringError, DialTarget
from signaling.pjsua import SipEnginePool
from signaling.sip.config import EndpointConfig, EngineConfig, TlsSettings
from signaling.sip.types import RegState, Transport

if TYPE_CHECKING:
    from gateway.roomvideo import RoomVideo

__all__ = ["Gateway", "GatewayError"]

log = logging.getLogger(__name__)

_EMULATED_POOL_SIZE = 10


class GatewayError(RuntimeError):
    """The gateway could not start: the message says which part and why."""


def endpoint_for(room: RoomConfig, password: str) -> EndpointConfig:
    return EndpointConfig(
        name=room.name,
        user=room.user,
        password=password,
        registrar=room.registrar,
        auth_user=room.auth_user,
        transport=Transport(room.transport),
        expires_s=room.expires,
        outbound_proxy=room.outbound_proxy,
        auto_answer=room.answer_calls,
    )


def _room_video(
    engine: SipEnginePool, rooms: Sequence[RoomConfig], host: str
) -> RoomVideo | None:
    """Video for the rooms with ``video: true`` (``None`` when no room has it)."""
    names = [room.name for room in rooms if room.video]
    if not names:
        return None
    from gateway.roomvideo import RoomVideo  # PyAV and aiortc only when a room has video

    video = RoomVideo(engine, names, host)
    engine.add_listener(video.on_event)
    return video


#: In the data directory while the embedded emulator runs: its Zoom base URL.
EMULATOR_URL_FILE = "emulator.url"


class Gateway:
    """The daemon. ``sip_listen``/``http_bind`` override the configuration (``crcgw serve``)."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        environ: Mapping[str, str] | None = None,
        sip_listen: Sequence[str] | None = None,
        http_bind: str | None = None,
        standin: bool | None = None,
        call_timeout_s: float = 60.0,
        ivr_first_delay_s: float = 2.0,
        ivr_gap_s: float = 1.5,
        standin_emulator: str | None = None,
    ) -> None:
        self.config = config
        self.environ = os.environ if environ is None else environ
        self.sip_listen = list(sip_listen) if sip_listen is not None else list(config.sip.listen)
        self.http_bind = http_bind or config.http.bind
        self.use_standin = config.uses_emulator if standin is None else standin
        self.use_standin = self.use_standin or standin_emulator is not None
        self.standin_emulator = standin_emulator
        self.journal: CdrJournal | None = None
        self.cdr_recorder: CdrRecorder | None = None
        self.call_timeout_s = call_timeout_s
        self.ivr_first_delay_s = ivr_first_delay_s
        self.ivr_gap_s = ivr_gap_s
        self.metrics = GatewayMetrics()
        self.emulator: EmulatorServer | None = None
        self.standin: StandinProcess | None = None
        self.zoom: AsyncZoomClient | None = None
        self.engine: SipEnginePool | None = None
        self.pool: PortPool | None = None
        self.tracker: CallTracker | None = None
        self.video: RoomVideo | None = None
        self.redirect: RedirectService | None = None
        self.http: HttpServer | None = None
        self.listening: list[str] = []
        self.http_address: str | None = None
        self.live_usage = LiveUsage()
        self.webhook: WebhookReceiver | None = None
        self._webhook_secret: SecretStr | None = None
        self._stop = asyncio.Event()
        self._background: list[asyncio.Task[None]] = []
        self._rooms = {room.name: room for room in config.rooms}

    # -- life cycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        config = self.config
        Path(config.data_dir).mkdir(parents=True, exist_ok=True)
        password = config.store_password(self.environ)
        store = open_store(config.store_url, ttl=config.ports.lease_ttl, password=password,
                           busy_timeout=config.store.busy_timeout)
        self.pool = PortPool(
            store, config.owner_id, metrics=self.metrics, live_calls=self._live_calls,
            api_deadline=config.ports.api_deadline, stale_after=config.ports.stale_after,
        )
        self.journal = CdrJournal(Path(config.data_dir) / "cdr-journal.jsonl")
        await self._replay_journal()  # records a killed gateway could not write come first
        for lease in await self.pool.restart():
            await self.pool.write(functools.partial(self._close_interrupted_cdr, lease.call_id))
        usage = await self._start_api()
        real_zoom = self.zoom is not None and is_zoom_base(self.zoom.credentials.base_url)
        exact: bool | Callable[[], bool] = not real_zoom
        if isinstance(usage, ZoomLiveUsage):
            exact = functools.partial(getattr, usage, "exact")
        usage = self.live_usage.source(usage, exact=exact)
        if self.use_standin:
            zoom_url = self.emulator.zoom_url if self.emulator else self.standin_emulator
            # On this thread (not a worker): the child's PDEATHSIG follows the forking thread.
            self.standin = StandinProcess(emulator_url=zoom_url).start()
            log.info("stand-in connector answering at %s", self.standin.address)
        await self._start_engine()
        # one recorder of call detail records, for placed calls and for redirects
        self.cdr_recorder = CdrRecorder(self.pool.store, self.pool.owner, write=self.pool.write,
                                        journal=self.journal)
        self.tracker = CallTracker(
            self._engine(), self.pool, call_timeout_s=self.call_timeout_s,
            ivr_first_delay_s=self.ivr_first_delay_s, ivr_gap_s=self.ivr_gap_s,
            metrics=self.metrics, cdrs=self.cdr_recorder, video=self.video,
        )
        pool_size = config.ports.pool_size
        try:  # know the pool's size before accepting calls; the loop keeps it in sync after
            await self.pool.reconcile_once(usage, self._live_calls, pool_size)
        except Exception as exc:  # noqa: BLE001 - the loop retries; calls wait for a size
            log.warning("first port reconcile failed: %s", exc)
        self._background.append(asyncio.create_task(self.pool.run(
            usage, self._live_calls, configured_size=pool_size,
            reconcile_interval=config.ports.reconcile_interval,
            heartbeat_interval=config.ports.heartbeat_interval, stop=self._stop,
            on_store_ok=self._replay_journal,
        ), name="port-pool"))
        self._background.append(asyncio.create_task(self._refresh_metrics(), name="metrics"))
        self.redirect = RedirectService(
            config.dial_plan(), self.pool,
            RedirectSettings.from_config(config.sip, [
                host for room in config.rooms for host in (room.registrar, room.outbound_proxy)
                if host
            ], self.environ),
            metrics=self.metrics, on_event=self.cdr_recorder.redirect,
        )
        self.listening = await self.redirect.start(self.sip_listen)
        host, port = parse_host_port(self.http_bind, 8080, zero_port=True)
        self.webhook = self._webhook_receiver(pool_size)
        app = create_app(self, token=config.http_token(self.environ), metrics=self.metrics,
                         webhook=self.webhook.handle if self.webhook else None)
        status = StatusPage(self, token=config.http_token(self.environ),
                            read_token=config.http.secret("read_token", self.environ))
        status.mount(app)
        self._background.append(asyncio.create_task(status.run(self._stop), name="status"))
        limits = HttpLimits(config.http.max_connections, config.http.request_timeout,
                            config.http.keep_alive)
        self.http = HttpServer(app, host, 8080 if port is None else port, limits)
        self.http_address = await self.http.start()
        await self._subscribe_emulator_webhooks()
        log.info("gateway up: SIP %s, HTTP %s", ", ".join(self.listening), self.http_address)

    def _webhook_receiver(self, pool_size: int | None) -> WebhookReceiver | None:
        """``POST /zoom/webhook`` with the configured secret; on embedded defaults a fresh one
        that the embedded emulator is given (:meth:`_subscribe_emulator_webhooks`)."""
        secret = self.config.http.secret("webhook_secret", self.environ)
        if secret is None and self.emulator is not None:
            secret = SecretStr(secrets.token_hex(16))
        if secret is None or self.pool is None:
            return None
        self._webhook_secret = secret
        resolver = None
        if self.zoom is not None and is_zoom_base(self.zoom.credentials.base_url):
            resolver = functools.partial(room_system_ids, self.zoom)
        return pool_receiver(secret, self.live_usage, self.pool, self._live_calls, pool_size,
                             resolver)

    async def _subscribe_emulator_webhooks(self) -> None:
        if self.webhook is None or self.emulator is None or self.zoom is None:
            return
        assert self._webhook_secret is not None
        await self.zoom.emulator.configure(
            webhook_url=f"http://{self.http_address}/zoom/webhook",
            webhook_secret=self._webhook_secret.get_secret_value(),
        )

    def _close_interrupted_cdr(self, call_id: str) -> None:
        """A call whose gateway died mid-call: its record ends now, as ``interrupted``."""
        assert self.pool is not None
        cdr = self.pool.store.cdr(call_id)
        if cdr is not None and cdr.ended_at is None:
            self.pool.store.update_cdr(call_id, ended_at=time.time(), outcome="interrupted")

    async def _replay_journal(self) -> int:
        """Write the CDR updates the store could not take earlier (none: nothing to do)."""
        journal = self.journal
        if journal is None or self.pool is None or not len(journal):
            if journal is not None:
                self.metrics.cdr_journal.set(len(journal))
            return 0
        done = await self.pool.write(functools.partial(journal.replay, self.pool.store))
        self.metrics.cdr_journal.set(len(journal))
        return done

    async def _start_api(self) -> UsageSource | None:
        config = self.config
        if config.uses_emulator:
            self.emulator = EmulatorServer(Path(config.data_dir) / "emulator.sqlite3")
            await self.emulator.__aenter__()
            # where `crcgw … --config` finds this gateway's emulator (gateway.cli commands)
            (Path(config.data_dir) / EMULATOR_URL_FILE).write_text(self.emulator.zoom_url)
            credentials = self.emulator.zoom_credentials(self.emulator.settings.account_id)
            self.zoom = AsyncZoomClient(credentials)
            return seed_usage(self.zoom)
        zoom = config.zoom
        assert zoom is not None
        secret = zoom.secret("client_secret", self.environ)
        if secret is None:
            raise GatewayError("zoom: set client_secret_env or client_secret_file")
        self.zoom = AsyncZoomClient(ZoomCredentials(
            zoom.account_id, zoom.client_id, secret.get_secret_value(), base_url=zoom.base_url
        ))
        if is_zoom_base(zoom.base_url):
            return ZoomLiveUsage(self.zoom)  # the Dashboard's live figure, else /metrics/crc
        return seed_usage(self.zoom)

    async def _start_engine(self) -> None:
        tls = TlsSettings()
        ca = next((r.tls_ca for r in self.config.rooms if r.tls_ca), None)
        if any(r.tls_insecure for r in self.config.rooms):
            tls = TlsSettings(verify=False)
        elif ca is not None:
            tls = TlsSettings(ca_file=str(ca))
        rtp_timeout = self.config.lifecycle.rtp_timeout or None
        engine_config = EngineConfig(tls=tls, pjsip_log_level=2, rtp_timeout_s=rtp_timeout)
        # pjsua2 only ever runs in child engine processes (a pjsip abort ends one of them, not
        # the daemon); each holds as many rooms as it holds calls, so all can be in calls at once
        self.engine = SipEnginePool(engine_config)
        await self.engine.start()
        self.video = _room_video(self.engine, self.config.rooms, engine_config.bind_address)
        for room in self.config.rooms:
            secret = room.secret("password", self.environ)
            endpoint = endpoint_for(room, secret.get_secret_value() if secret else "")
            if self.video is not None:
                endpoint = replace(endpoint, video=self.video.endpoint_video(room.name))
            await self.engine.add_endpoint(endpoint)

    async def _refresh_metrics(self, interval: float = 2.0) -> None:
        """Registrations by state and live calls, for ``GET /metrics``."""
        while not self._stop.is_set():
            with contextlib.suppress(Exception):
                await self.rooms()
                await self.calls()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), interval)

    def _engine(self) -> SipEnginePool:
        if self.engine is None:
            raise ControlError(503, "the SIP core is not running")
        return self.engine

    def _live_calls(self) -> set[str]:
        live = self.tracker.live_call_ids() if self.tracker else set()
        if self.redirect is not None:
            live |= self.redirect.live_call_ids()
        return live

    async def stop(self) -> None:
        """Stop accepting, hang up, release, unregister, close: each step bounded."""
        self._stop.set()
        timeout = self.config.lifecycle.shutdown_timeout
        if self.webhook is not None and self.emulator is not None and self.zoom is not None:
            with contextlib.suppress(Exception):  # the control API is going: no more webhooks
                await asyncio.wait_for(self.zoom.emulator.configure(webhook_url=""), timeout)
        if self.http is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.http.stop(), timeout)
        if self.redirect is not None:
            await self.redirect.close()
        if self.cdr_recorder is not None:
            await self.cdr_recorder.drain(timeout)
        if self.tracker is not None:
            if self.config.lifecycle.on_shutdown == "handover":
                # Let calls in progress finish on their own (new ones are refused already),
                # within the shutdown timeout; what is left is hung up below.
                await self.tracker.drain(timeout)
            await self.tracker.close(timeout)
        for task in self._background:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout)
        if self.engine is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.engine.close(), timeout + 5)
        if self.video is not None:
            self.video.stop()
        if self.standin is not None:
            self.standin.stop()
        if self.zoom is not None:
            await self.zoom.aclose()
        if self.emulator is not None:
            (Path(self.config.data_dir) / EMULATOR_URL_FILE).unlink(missing_ok=True)
            await self.emulator.__aexit__(None, None, None)
        if self.pool is not None:
            with contextlib.suppress(StoreUnavailableError):
                await self._replay_journal()
            await asyncio.to_thread(self.pool.store.close)
            self.pool.close()
        self.http = self.redirect = self.tracker = self.engine = None
        self.standin = self.emulator = self.zoom = self.pool = None

    async def wait_stopped(self) -> None:
        await self._stop.wait()

    def request_stop(self) -> None:
        self._stop.set()

    # -- dialling -----------------------------------------------------------------------------

    def default_target(self, request: StartCall) -> DialTarget:
        """The request's target; with the stand-in and no host given, the stand-in's address."""
        target = request.target()
        if self.standin is not None and request.host is None and request.protocol == "sip":
            target = target._replace(host=self.standin.host, port=self.standin.port)
        return target

    async def dial(self, room: str, target: DialTarget, *, ivr: bool = True) -> CallInfo:
        if self._stop.is_set():
            raise ControlError(503, "the gateway is shutting down")
        if room not in self._rooms:
            raise ControlError(404, f"no room {room!r}")
        if self.tracker is None:
            raise ControlError(503, "the gateway is not running")
        if target.protocol == "h323" and not target.host:
            raise ControlError(422, "an H.323 call needs the meeting's host (H.323 IP)")
        return await self.tracker.start(room, target, ivr=ivr,
                                        h323_alias=self._rooms[room].h323_alias)

    # -- GatewayControl -----------------------------------------------------------------------

    def ready(self) -> Readiness:
        """Ready while calls can start. A degraded API (last good figures in use) is reported
        but keeps the gateway ready; a degraded store, or a pool without a size, does not."""
        pool = self.pool
        waiting = sorted(getattr(self.engine, "restarting", ()))  # an engine pool's supervision
        checks = {
            "sip_core": self.engine is not None,
            "sip_engines": not waiting,
            "redirect": bool(self.listening),
            "store": pool is not None and not pool.store_health.degraded,
            "api": self.zoom is not None,
            "ports": pool is not None and pool.refusal is None,
        }
        degraded: dict[str, dict[str, object]] = {}
        if pool is not None:
            for health in (pool.api_health, pool.store_health):
                if health.degraded:
                    degraded[health.name.lower()] = {"since": health.since,
                                                     "reason": health.reason}
            if pool.refusal is not None:
                degraded["ports"] = {"since": pool.api_health.since, "reason": pool.refusal}
        if self.journal is not None and len(self.journal):
            degraded["cdr_journal"] = {"pending": len(self.journal),
                                       "durable": self.journal.durable}
        return Readiness(all(checks.values()), list(self.listening), checks, waiting, degraded)

    async def rooms(self) -> Sequence[RoomInfo]:
        engine = self.engine
        out = []
        counts: dict[str, int] = {}
        for room in self.config.rooms:
            status = engine.registrations.get(room.name) if engine is not None else None
            state = status.state.value if status else RegState.UNREGISTERED.value
            counts[state] = counts.get(state, 0) + 1
            out.append(RoomInfo(
                room.name, f"sip:{room.user}@{room.registrar}", room.transport, state,
                status.code if status else None, status.reason if status else None,
                status.expires_s if status else None, room.h323_alias,
            ))
        for state in RegState:
            self.metrics.registrations.labels(state.value).set(counts.get(state.value, 0))
        return out

    async def reregister(self, room: str) -> RoomInfo:
        if room not in self._rooms:
            raise ControlError(404, f"no room {room!r}")
        await self._engine().set_registration(room, True)
        return next(r for r in await self.rooms() if r.name == room)

    async def calls(self) -> Sequence[CallInfo]:
        tracker = self.tracker
        calls = [c.info for c in tracker.calls.values()] if tracker else []
        live = [c for c in calls if c.ended_at is None]
        self.metrics.calls.labels("live").set(len(live))
        return live

    async def start_call(self, request: StartCall) -> CallInfo:
        try:
            target = self.default_target(request)
        except DialStringError as exc:
            raise ControlError(422, str(exc)) from None
        return await self.dial(request.room, target)

    async def hangup(self, call_id: str) -> CallInfo:
        if self.tracker is None:
            raise ControlError(503, "the gateway is not running")
        return await self.tracker.hangup(call_id)

    async def ports(self) -> PoolState:
        if self.pool is None:
            raise ControlError(503, "the gateway is not running")
        return await self.pool.status()

    async def cdrs(self, limit: int, room: str | None) -> Sequence[Cdr]:
        if self.pool is None:
            raise ControlError(503, "the gateway is not running")
        return await self.pool.read(functools.partial(self.pool.store.cdrs, limit, room))
