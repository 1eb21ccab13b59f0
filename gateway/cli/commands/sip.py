"""``crcgw register`` and ``crcgw dial``: one SIP registration or one call, as a room would.

Both run the pjsua2 engine (:mod:`signaling.pjsua`) for the length of the command, print what
happened (``--json`` for scripts) and exit 0 only on success: registered, or call connected.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import socket
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gateway.cli.output import console, emit_json, fail, print_table
from signaling.dialstring import DialStringError, DialTarget, parse
from signaling.dialstring.ivr import DEFAULT_FIRST_DELAY_S, DEFAULT_GAP_S, IvrStep
from signaling.pjsua import SipEngine
from signaling.sip.address import HostPort, is_sip_uri, parse_host_port
from signaling.sip.config import CallOptions, EndpointConfig, EngineConfig, TlsSettings
from signaling.sip.dtmf import check_digits, dtmf_plan, hold_s
from signaling.sip.errors import SipError
from signaling.sip.events import (
    ByeOutcome,
    CallStateChanged,
    CallStats,
    DtmfReceived,
    RegistrationStatus,
)
from signaling.sip.grammar import uri_host_port
from signaling.sip.types import CallPhase, DtmfMethod, RegState, Transport

if TYPE_CHECKING:
    from gateway.videoleg import VideoLeg
    from signaling.sip.sdpvideo import VideoSettings

__all__ = ["register"]

Registrar = Annotated[
    str | None, typer.Option("--registrar", help="Registrar HOST[:PORT] (IPv6 as [ADDR]:PORT).")
]
User = Annotated[str | None, typer.Option("--user", help="SIP user name (and auth user).")]
PasswordEnv = Annotated[
    str | None,
    typer.Option("--password-env", help="Name of the environment variable holding the password."),
]
TransportOpt = Annotated[
    Transport, typer.Option("--transport", help="udp, tcp, tls, or auto (TLS, TCP, UDP in turn).")
]
Ca = Annotated[
    str | None, typer.Option("--ca", help="CA file to verify the TLS server (default: system).")
]
Insecure = Annotated[
    bool, typer.Option("--insecure", help="Accept any TLS certificate (logs a warning).")
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
Timeout = Annotated[float, typer.Option("--timeout", help="Seconds to wait for an answer.")]
ByeTimeout = Annotated[
    float,
    typer.Option("--bye-timeout", help="Seconds to wait for the answer to our BYE (Timer F: 32)."),
]


def _password(env: str | None) -> str:
    if env is None:
        fail("--password-env is required with --user")
    if env not in os.environ:
        fail(f"--password-env: environment variable {env} is not set")
    return os.environ[env]


def _host_port(text: str, option: str) -> HostPort:
    try:
        return parse_host_port(text)
    except SipError as exc:
        fail(f"{option}: {exc}")


def _local_addresses(host: str, port: int) -> tuple[str, str | None]:
    """The local IPv4 (and IPv6) address the system routes to ``host`` (no packet is sent)."""
    try:
        ip = ipaddress.ip_address(host)
        family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        address = host
    except ValueError:
        try:
            info = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        except socket.gaierror as exc:
            fail(f"cannot resolve {host}: {exc.strerror} (check the name and DNS)")
        family, address = info[0][0], str(info[0][4][0])
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((address, port))
        except OSError as exc:
            fail(f"no route to {host}: {exc.strerror}")
        local = str(probe.getsockname()[0])
    if family == socket.AF_INET6:
        return ("127.0.0.1" if local == "::1" else "0.0.0.0"), local
    return local, None


def _engine_config(
    host: HostPort, ca: str | None, insecure: bool, timeout: float, verbose: bool
) -> EngineConfig:
    if ca is not None and not os.path.isfile(ca):
        fail(f"--ca: no such file: {ca}")
    bind4, bind6 = _local_addresses(host.host, host.port or 5060)
    return EngineConfig(
        bind_address=bind4,
        bind_address6=bind6,
        tls=TlsSettings(verify=not insecure, ca_file=ca),
        register_timeout_s=timeout,
        pjsip_log_level=4 if verbose else 1,
    )


def _quiet_pjsip() -> bool:
    """Keep PJSIP's own log lines off stderr unless ``-v`` was given; True when verbose."""
    verbose = logging.getLogger().getEffectiveLevel() < logging.WARNING
    if not verbose:
        logging.getLogger("signaling.pjsua.pjsip").setLevel(logging.CRITICAL)
    return verbose


# -- crcgw register --------------------------------------------------------------------------------


def _status_dict(status: RegistrationStatus) -> dict[str, Any]:
    data = asdict(status)
    del data["seq"]  # the engine's event order: bookkeeping, not something to show
    data["state"] = status.state.value
    data["transport"] = status.transport.value
    return data


async def _register(
    endpoint: EndpointConfig, config: EngineConfig
) -> tuple[RegistrationStatus, RegistrationStatus | None]:
    async with SipEngine(config) as engine:
        status = await engine.register(endpoint, timeout=config.register_timeout_s + 2)
        if not status.ok:
            return status, None
        mark = engine.events.mark()
        await engine.set_registration(endpoint.name, False)
        try:
            off = await engine.wait_registration(
                endpoint.name,
                config.register_timeout_s,
                mark,
                (RegState.UNREGISTERED, RegState.FAILED),
            )
        except TimeoutError:
            off = None
        return status, off


def register_command(
    registrar: Registrar = None,
    user: User = None,
    password_env: PasswordEnv = None,
    transport: TransportOpt = Transport.UDP,
    ca: Ca = None,
    insecure: Insecure = False,
    expires: Annotated[int, typer.Option("--expires", help="Registration expiry, seconds.")] = 300,
    auth_user: Annotated[
        str | None, typer.Option("--auth-user", help="Authorization name, if not the user.")
    ] = None,
    domain: Annotated[
        str | None, typer.Option("--domain", help="SIP domain (default: the registrar host).")
    ] = None,
    timeout: Timeout = 10.0,
    as_json: Json = False,
) -> None:
    """Register once at a registrar, print the outcome, status code and time, then unregister."""
    if registrar is None or user is None:
        fail("--registrar and --user are required")
    password = _password(password_env)
    host = _host_port(registrar, "--registrar")
    verbose = _quiet_pjsip()
    config = _engine_config(host, ca, insecure, timeout, verbose)
    try:
        endpoint = EndpointConfig(
            name=user,
            user=user,
            password=password,
            registrar=registrar,
            domain=domain,
            auth_user=auth_user,
            transport=transport,
            expires_s=expires,
        )
        status, off = asyncio.run(_register(endpoint, config))
    except (SipError, TimeoutError) as exc:
        fail(str(exc) or "no answer in time", 1)
    unregistered = off is not None and off.state is RegState.UNREGISTERED
    if as_json:
        emit_json({**_status_dict(status), "registrar": registrar, "unregistered": unregistered})
    else:
        print_table(
            f"REGISTER {user} at {registrar}",
            ("field", "value"),
            [
                ("outcome", status.state.value),
                ("transport", status.transport.value),
                ("status", f"{status.code} {status.reason}".strip()),
                ("time", f"{status.duration_ms:.1f} ms" if status.duration_ms else "-"),
                ("expires", f"{status.expires_s} s" if status.expires_s else "-"),
                ("unregistered", "yes" if unregistered else "-"),
            ],
        )
    if not status.ok:
        fail(status.explanation or "registration failed", 1)


# -- crcgw dial ------------------------------------------------------------------------------------


def _target(text: str) -> tuple[str | DialTarget, DialTarget | None, str]:
    """What to dial, the parsed Zoom dial string (if it is one) and a form safe to print."""
    try:
        target = parse(text)
    except DialStringError as exc:
        if is_sip_uri(text) and "##" not in text:
            return text.strip(), None, text.strip()  # any other SIP URI
        fail(f"TARGET: not a SIP URI or Zoom dial string: {exc}")
    if target.protocol == "h323":
        return target, target, target.without_secrets().dial_string()
    return target, target, target.without_secrets().sip_uri()


def _event_row(event: CallStateChanged, started: float) -> dict[str, Any]:
    return {
        "t_ms": round((event.at - started) * 1000, 1),
        "event": event.phase.value,
        "code": event.code,
        "reason": event.reason,
        "explanation": event.explanation,
        "origin": event.origin.value if event.origin else None,
    }


def _bye_dict(bye: ByeOutcome | None) -> dict[str, Any] | None:
    if bye is None:
        return None
    return {"code": bye.code, "reason": bye.reason, "origin": bye.origin.value, "ms": bye.ms}


@dataclass
class _DialResult:
    rows: list[dict[str, Any]]
    stats: CallStats | None
    connected: bool
    final: CallStateChanged | None
    bye: ByeOutcome | None
    call_events: list[dict[str, Any]]
    verdict: str | None = None
    """Why the controller failed a call the engine took as fine (answered, no media)."""
    video: dict[str, Any] | None = None

    def cause(self) -> dict[str, Any] | None:
        """How the call ended: code, reason, received or local, and why."""
        final = self.final
        if final is None or final.phase is not CallPhase.DISCONNECTED:
            return None
        return {
            "code": final.code,
            "reason": final.reason,
            "origin": final.origin.value if final.origin else None,
            "explanation": self.verdict or final.explanation,
        }


async def _dial(
    config: EngineConfig,
    endpoint: EndpointConfig | None,
    target: str | DialTarget,
    options: CallOptions,
    steps: tuple[IvrStep, ...],
    duration: float,
    as_json: bool,
    video: VideoSettings | None = None,
    snapshot: Path | None = None,
) -> _DialResult:
    from gateway.videoleg import VideoLeg  # PyAV and aiortc: only when dialling

    async with SipEngine(config) as engine:
        leg = None
        if video is not None:  # the test pattern, on a port held until the answer
            leg = VideoLeg(engine, video, config.bind_address6 or config.bind_address)
            options = replace(options, video=leg.reserve())
            engine.add_listener(leg.on_event)
        try:
            result = await _call(engine, endpoint, target, options, steps, duration, as_json,
                                 leg)
            if leg is not None:
                result.video = leg.summary(snapshot)
            return result
        finally:
            if leg is not None:
                leg.stop()


async def _call(
    engine: SipEngine,
    endpoint: EndpointConfig | None,
    target: str | DialTarget,
    options: CallOptions,
    steps: tuple[IvrStep, ...],
    duration: float,
    as_json: bool,
    video_leg: VideoLeg | None,
) -> _DialResult:
    """The call's life is the call controller's (:mod:`gateway.callcontrol`), as in the
    daemon: answer timeout, no media is a failure, hang-up after the duration. The engine's
    own phases (with their codes) are printed as they come."""
    from gateway.callcontrol import CallControl, CallPolicy
    from gateway.calllegs import SipLeg

    rows: list[dict[str, Any]] = []
    call_events: list[dict[str, Any]] = []
    if endpoint is not None:
        await engine.add_endpoint(endpoint)
    started = time.monotonic()
    box: list[str] = []

    def show(event: object) -> None:
        if not box:
            return
        if isinstance(event, CallStateChanged) and event.call_id == box[0]:
            row = _event_row(event, started)
            rows.append(row)
            if not as_json:
                code = f" {event.code} {event.reason}" if event.code else ""
                if event.origin is not None:
                    code += f" ({event.origin.value})"
                console.print(
                    f"{row['t_ms']:>9.1f} ms  {event.phase.value}{code}",
                    markup=False,
                    highlight=False,
                )
        elif isinstance(event, DtmfReceived) and event.call_id == box[0] and not as_json:
            console.print(f"{'':>12}  DTMF received ({event.method.value})", markup=False)

    leg, control = SipLeg(engine), CallControl()
    hold = hold_s(duration, dtmf_plan(options.dtmf, steps, options.dtmf_delay_s))
    policy = CallPolicy(answer_timeout_s=options.timeout_s + 5, hold_s=hold,
                        end_timeout_s=engine.config.bye_timeout_s + 5)
    call = await control.place(
        leg, target, endpoint=endpoint.name if endpoint else None, options=options,
        ivr=steps, policy=policy,
        listener=lambda event: call_events.append(event.as_dict(since=started)),
    )
    box.append(call.call_id)
    if video_leg is not None:
        video_leg.attach(call.call_id)
    for event in engine.events.since(0):
        show(event)
    engine.add_listener(show)
    finished = await call.wait()
    bye: ByeOutcome | None = None
    if finished.answered and call.machine.hung_up_here:
        try:
            bye = await engine.wait_bye(call.call_id)
        except TimeoutError:
            bye = None
        if bye is not None and not as_json:
            said = f"{bye.code} {bye.reason}" if bye.code else bye.reason
            console.print(
                f"{'':>12}  BYE: {said} ({bye.origin.value}, {bye.ms:.1f} ms)",
                markup=False,
                highlight=False,
            )
    stats = leg.last_stats.pop(call.call_id, None) or await engine.call_stats(call.call_id)
    verdict = finished.cause.reason if finished.answered and not finished.connected else None
    return _DialResult(rows, stats, finished.connected, engine.call_phases.get(call.call_id),
                       bye, call_events, verdict)


def dial_command(
    target: Annotated[
        str,
        typer.Argument(help="SIP URI, Zoom dial string (MID.PASS@host) or H.323 (IP##MID#PASS)."),
    ],
    protocol: Annotated[
        str | None,
        typer.Option("--protocol", help="sip or h323 (default: from the form of TARGET)."),
    ] = None,
    registrar: Registrar = None,
    user: User = None,
    password_env: PasswordEnv = None,
    transport: TransportOpt = Transport.UDP,
    ca: Ca = None,
    insecure: Insecure = False,
    dtmf: Annotated[
        str | None, typer.Option("--dtmf", help="DTMF digits to send after answer.")
    ] = None,
    ivr: Annotated[
        bool,
        typer.Option("--ivr", help="Dial without passcode/host key and send them by DTMF."),
    ] = False,
    ivr_first: Annotated[
        float, typer.Option("--ivr-first", help="Seconds after answer for the first IVR entry.")
    ] = DEFAULT_FIRST_DELAY_S,
    ivr_gap: Annotated[
        float, typer.Option("--ivr-gap", help="Seconds between IVR entries.")
    ] = DEFAULT_GAP_S,
    dtmf_info: Annotated[
        bool, typer.Option("--dtmf-info", help="Send DTMF as SIP INFO instead of RFC 4733.")
    ] = False,
    duration: Annotated[
        float,
        typer.Option(
            "--duration",
            help="Seconds to stay connected before hanging up (longer while DTMF goes out).",
        ),
    ] = 5.0,
    timeout: Timeout = 30.0,
    bye_timeout: ByeTimeout = 32.0,
    rtp_timeout: Annotated[
        float,
        typer.Option(
            "--rtp-timeout", help="Hang up when no RTP arrives for this many seconds (0: never)."
        ),
    ] = 30.0,
    video: Annotated[
        bool,
        typer.Option(
            "--video/--no-video",
            help="Offer video (H.264, VP8) and send a test pattern with a moving clock.",
        ),
    ] = True,
    snapshot: Annotated[
        Path | None,
        typer.Option(
            "--snapshot", help="Save the far end's last decoded picture to FILE.png.",
            dir_okay=False,
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """Place one SIP call and print its events and statistics; exit 0 only if it connected
    (answered with audio negotiated). Every end cause says whether it was received from the
    far end or made locally."""
    if dtmf is not None and ivr:
        fail("--dtmf and --ivr exclude each other")
    if protocol not in (None, "sip", "h323"):
        fail(f"--protocol must be sip or h323 (got {protocol!r})")
    dial_as, parsed, shown = _target(target)
    is_h323 = parsed is not None and parsed.protocol == "h323"
    if protocol == "h323" or (protocol is None and is_h323):
        from gateway.cli.commands.h323 import run_h323_dial

        raise typer.Exit(run_h323_dial(target, timeout=timeout, json_output=as_json, hold=duration,
                                       fast_start=True, video=True, controlled=True))
    if is_h323:
        fail(f"{shown} is an H.323 dial string: leave out --protocol sip")
    steps: tuple[IvrStep, ...] = ()
    if ivr:
        if parsed is None:
            fail("--ivr needs a Zoom dial string (MEETING.PASSCODE..HOSTKEY@host)")
        from gateway.callcontrol import planned_dial

        try:
            plan = planned_dial(parsed, ivr=True, first_delay_s=ivr_first, gap_s=ivr_gap)
        except ValueError as exc:
            fail(f"--ivr: {exc}")
        dial_as, steps = plan.dial, plan.steps
    try:
        if dtmf is not None:
            check_digits(dtmf)
        options = CallOptions(
            dtmf=dtmf,
            dtmf_method=DtmfMethod.SIP_INFO if dtmf_info else DtmfMethod.RFC4733,
            timeout_s=timeout,
            transport=None if registrar else transport,
        )
    except SipError as exc:
        fail(str(exc))
    endpoint: EndpointConfig | None = None
    if registrar is not None or user is not None:
        if registrar is None or user is None:
            fail("--registrar and --user go together")
        route = _host_port(registrar, "--registrar")
        endpoint = EndpointConfig(
            name=user,
            user=user,
            password=_password(password_env),
            registrar=registrar,
            transport=transport,
            register=False,
        )
    else:
        uri = dial_as if isinstance(dial_as, str) else dial_as.sip_uri()
        host_part = uri_host_port(uri)
        route = _host_port(host_part, "TARGET")
    verbose = _quiet_pjsip()
    config = _engine_config(route, ca, insecure, timeout, verbose)
    if bye_timeout <= 0 or rtp_timeout < 0:
        fail("--bye-timeout must be > 0 and --rtp-timeout >= 0")
    config = replace(config, bye_timeout_s=bye_timeout, rtp_timeout_s=rtp_timeout or None)
    try:
        result = asyncio.run(_dial(config, endpoint, dial_as, options, steps, duration, as_json,
                                   _default_video() if video else None, snapshot))
    except (SipError, TimeoutError) as exc:
        fail(str(exc) or "no answer in time", 1)
    stats, connected = result.stats, result.connected
    cause = result.cause()
    explanation = (cause or {}).get("explanation") or ""
    stats_dict = asdict(stats) if stats else {}
    if as_json:
        emit_json(
            {
                "target": shown,
                "connected": connected,
                "events": result.rows,
                "stats": stats_dict,
                "cause": cause,
                "bye": _bye_dict(result.bye),
                "explanation": explanation or None,
                "call_events": result.call_events,
                "video": result.video,
            }
        )
    elif stats is not None:
        print_table(
            f"Call to {shown}",
            ("statistic", "value"),
            [(k, "-" if v is None else v) for k, v in stats_dict.items() if k != "call_id"],
        )
        if result.video is not None:
            _show_video(result.video)
    if not connected:
        fail(f"call to {shown} did not connect: {explanation or 'no answer'}", 1)
    if explanation:  # connected, then ended abnormally (the far end vanished, an error)
        fail(f"call to {shown} connected, then failed: {explanation}", 1)


def _default_video() -> VideoSettings:
    from gateway.videoleg import DEFAULT_VIDEO

    return DEFAULT_VIDEO


def _show_video(video: dict[str, Any]) -> None:
    negotiated, stats = video["negotiated"], video["stats"]
    if negotiated is None or not negotiated["accepted"] or stats is None:
        reason = (negotiated or {}).get("reason") or "the answer had no video"
        console.print(f"video: none ({reason})", markup=False, highlight=False)
        return
    rows = [
        ("codec / direction", f"{negotiated['codec']} / {negotiated['direction']}"),
        ("received", f"{stats['decoded_frames']} frames {stats['width']}x{stats['height']} "
         f"at {stats['fps']} fps, {stats['packets']} packets, {stats['lost']} lost"),
        ("sent", f"{stats['frames_sent']} frames, {stats['packets_sent']} packets"),
        ("first picture", f"{stats['first_frame_ms']} ms"),
        ("freezes", stats["freezes"]),
        ("snapshot", video["snapshot"] or "-"),
    ]  # fmt: skip
    print_table("Video", ("figure", "value"), rows)


def register(app: typer.Typer) -> None:
    app.command("register")(register_command)
    app.command("dial")(dial_command)
