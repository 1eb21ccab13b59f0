"""H.323 commands: ``crcgw h323-dial``, ``crcgw h323-peer`` and ``crcgw register-h323``.

:func:`run_h323_dial` is also what ``crcgw dial`` calls for an H.323 target
(``HOST[:PORT]##MID#PASS…``): it prints each message with its time and the outcome, with the
Q.931 cause in words, and returns the exit code (0 only when the call connected).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated, Any

import typer

from gateway.cli.output import console, emit_json, fail, print_table
from signaling.dialstring import DialStringError, parse
from signaling.h323 import DEFAULT_PORT, DialResult, H323Error, H323Peer, PeerCall, dial
from signaling.h323.cause import explain
from signaling.h323.h225 import Alias
from signaling.h323.peer import ANSWERS
from signaling.h323.ras import RAS_PORT
from signaling.h323.ras_client import RasClient
from signaling.h323.rtp import RTCP_INTERVAL
from signaling.hostport import HostPortError, parse_host_port

__all__ = ["register", "render_dial_result", "run_h323_dial"]

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
RtcpInterval = Annotated[
    float, typer.Option("--rtcp-interval", help="Seconds between RTCP reports (RFC 3550: 5).")
]


def render_dial_result(result: DialResult, json_output: bool) -> None:
    """Print a dial's messages (time, direction, message, detail) and its outcome."""
    if json_output:
        emit_json(result.as_dict())
        return
    arrows = {"sent": "->", "received": "<-", "info": "  "}
    print_table(
        f"H.323 call to {result.target} ({result.remote})",
        ("t (ms)", "", "message", "detail"),
        (
            (f"{event.at * 1000:.1f}", arrows[event.direction], event.message, event.detail)
            for event in result.events
        ),
    )
    style = "green" if result.connected else "red"
    console.print(f"[{style}]{result.outcome}[/{style}]", highlight=False)
    m = result.media
    if m is not None and "tx_packets" in m:
        jitter = "" if m["jitter_ms"] is None else f", jitter {m['jitter_ms']} ms"
        console.print(
            f"audio {m['codec']} ({m['opened_by']}) {m['local_rtp']} <-> {m['remote_rtp']}: "
            f"sent {m['tx_packets']}, received {m['rx_packets']} packets, lost {m['lost']}{jitter}",
            highlight=False,
        )
        rtcp = m.get("rtcp") or {}
        if rtcp.get("received"):
            far = rtcp.get("far_end") or {}
            console.print(
                f"RTCP: sent {rtcp['sent']}, received {rtcp['received']} reports; round trip "
                f"{rtcp['rtt_ms']} ms; far end lost {far.get('cumulative_lost')} of ours",
                highlight=False,
            )
    v = result.video
    if v is not None:
        console.print(
            f"video H.264 {v['local_rtp']} <-> {v['remote_rtp']}: sent {v['frames_sent']}, "
            f"decoded {v['decoded_frames']} frames ({v['width']}x{v['height']}), lost {v['lost']}",
            highlight=False,
        )


def run_h323_dial(
    target: str,
    port: int | None = None,
    timeout: float = 10.0,
    json_output: bool = False,
    *,
    hold: float = 0.0,
    fast_start: bool = False,
    h245_channels: bool = False,
    gatekeeper: str | None = None,
    tunnel: bool = True,
    rtcp_interval: float = RTCP_INTERVAL,
    video: bool = False,
    controlled: bool = False,
) -> int:
    """Dial ``target`` over H.323, print the result; exit code 0 only when it connected.

    With ``controlled`` (``crcgw dial``) the call runs under the gateway's call controller
    (:func:`gateway.calllegs.dial_h323`): held ``hold`` seconds after media came up, and a call
    answered without media fails (exit 1).
    A malformed dial string is a one-line error (exit 2), not a traceback.
    """
    try:
        parsed = parse(target)
    except DialStringError as exc:
        fail(f"bad dial string: {exc}")
    if parsed.protocol != "h323":
        fail(
            "not an H.323 dial string (expected HOST[:PORT]##MEETING[#PASSCODE...]): "
            f"{parsed.without_secrets()}"
        )
    if timeout <= 0:
        fail("--timeout must be positive")
    if rtcp_interval <= 0:
        fail("--rtcp-interval must be positive")
    options: dict[str, Any] = {}
    if gatekeeper:
        options["gatekeeper"], options["gatekeeper_port"] = _split_host(
            gatekeeper, RAS_PORT, "--gatekeeper"
        )
    if controlled and not gatekeeper:
        from gateway.calllegs import dial_h323

        result = asyncio.run(dial_h323(parsed, hold, timeout, video=video, tunnel=tunnel,
                                       rtcp_interval=rtcp_interval))
        render_dial_result(result, json_output)
        return 0 if result.connected and result.error is None else 1
    result = asyncio.run(
        dial(
            parsed,
            port=port,
            timeout=timeout,
            hold=hold,
            fast_start=fast_start,
            h245_channels=h245_channels,
            h245_tunnelling=tunnel,
            rtcp_interval=rtcp_interval,
            video=video,
            **options,
        )
    )
    render_dial_result(result, json_output)
    return 0 if result.connected else 1


def _peer_line(call: PeerCall) -> str:
    outcome = "connected" if call.connected else "not connected"
    cause = call.released_cause
    ended = f", released with cause {cause} {explain(cause)}" if cause else ""
    error = f", error: {call.error}" if call.error else ""
    sent = ", ".join(call.sent) or "nothing"
    m = call.media
    audio = f"; audio {m['codec']}: sent {m['tx_packets']}, received {m['rx_packets']}" if m else ""
    return f"call from {call.remote}: {outcome}; sent {sent}{ended}{error}{audio}"


async def _serve_peer(peer: H323Peer, json_output: bool) -> None:
    await peer.start()
    if json_output:
        emit_json({"listening": f"{peer.host}:{peer.port}", "answer": peer.answer})
        sys.stdout.flush()  # a supervising process reads the port from a pipe
    else:
        console.print(
            f"H.323 peer listening on {peer.host}:{peer.port}, answering {peer.answer}; "
            "Ctrl-C stops it",
            highlight=False,
        )
    try:
        await peer.serve_forever()
    finally:
        await peer.close()


def _registration_report(client: RasClient, registered: bool, error: str | None) -> dict[str, Any]:
    endpoint = client.endpoint
    return {
        "gatekeeper": f"{client.gatekeeper[0]}:{client.gatekeeper[1]}",
        "registered": registered,
        "gatekeeper_id": endpoint.gatekeeper_id if endpoint else None,
        "endpoint_id": endpoint.endpoint_id if endpoint else None,
        "granted_ttl": endpoint.granted_ttl if endpoint else None,
        "error": error,
        "events": [
            {
                "at": round(event.at - client.events[0].at, 4),
                "event": event.kind,
                "detail": event.detail,
            }
            for event in client.events
        ],
    }


async def _register(
    host: str, port: int, alias: str, ttl: int, hold: float, timeout: float
) -> dict[str, Any]:
    client = RasClient(host, [Alias.h323_id(alias)], gatekeeper_port=port, ttl=ttl, timeout=timeout)
    registered, error = False, None
    try:
        async with client:
            await client.register()
            registered = True
            if hold > 0:
                await client.keep_alive(hold)
    except H323Error as exc:
        error = str(exc)
    return _registration_report(client, registered, error)


def _split_host(value: str, default_port: int, option: str) -> tuple[str, int]:
    try:
        address = parse_host_port(value, default_port=default_port, bare_ipv6=True)
    except HostPortError as exc:
        fail(f"{option}: {exc}")
    assert address.port is not None
    return address.host, address.port


def register(root: typer.Typer) -> None:
    @root.command("h323-dial")
    def h323_dial(
        target: Annotated[
            str,
            typer.Argument(help="H.323 dial string: HOST[:PORT]##MEETING[#PASS[#LAYOUT[#KEY]]]"),
        ],
        port: Annotated[
            int | None,
            typer.Option("--port", help=f"Call-signalling port (default {DEFAULT_PORT})."),
        ] = None,
        timeout: Annotated[
            float, typer.Option("--timeout", help="Seconds allowed for connect and each answer.")
        ] = 10.0,
        hold: Annotated[
            float,
            typer.Option("--hold", help="Seconds to keep a connected call before hanging up."),
        ] = 0.0,
        fast_start: Annotated[
            bool,
            typer.Option(
                "--fast-start",
                help="Offer G.711 fastStart channels in Setup; RTP flows both ways once accepted.",
            ),
        ] = False,
        h245_channels: Annotated[
            bool,
            typer.Option(
                "--h245-channels",
                help="Open G.711 by H.245 OpenLogicalChannel (when not --fast-start).",
            ),
        ] = False,
        tunnel: Annotated[
            bool,
            typer.Option(
                "--tunnel/--no-tunnel",
                help="H.245 in the H.225.0 tunnel, or on its own TCP connection (h245Address).",
            ),
        ] = True,
        rtcp_interval: RtcpInterval = RTCP_INTERVAL,
        video: Annotated[
            bool,
            typer.Option(
                "--video", help="Offer H.264 and open video by H.245 when the far end can."
            ),
        ] = False,
        gatekeeper: Annotated[
            str | None,
            typer.Option("--gatekeeper", help="Register and ask admission first (HOST[:PORT])."),
        ] = None,
        json_output: Json = False,
    ) -> None:
        """Dial a meeting over H.323 and report every message; exit 0 only if it connected."""
        code = run_h323_dial(
            target,
            port,
            timeout,
            json_output,
            hold=hold,
            fast_start=fast_start,
            h245_channels=h245_channels,
            gatekeeper=gatekeeper,
            tunnel=tunnel,
            rtcp_interval=rtcp_interval,
            video=video,
        )
        raise typer.Exit(code)

    @root.command("h323-peer")
    def h323_peer(
        host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[
            int, typer.Option("--port", help="TCP port (0: any free port).")
        ] = DEFAULT_PORT,
        answer: Annotated[
            str,
            typer.Option(
                "--answer", help="connect, busy (cause 17), reject (cause 21) or forward."
            ),
        ] = "connect",
        cause: Annotated[
            int | None, typer.Option("--cause", help="Q.931 cause for busy/reject (1-127).")
        ] = None,
        ring: Annotated[
            float, typer.Option("--ring", help="Seconds between Alerting and Connect.")
        ] = 0.0,
        hangup_after: Annotated[
            float | None,
            typer.Option("--hangup-after", help="Clear connected calls after this many seconds."),
        ] = None,
        forward_to: Annotated[
            str | None,
            typer.Option("--forward-to", help="With --answer forward: redirect to HOST:PORT."),
        ] = None,
        fast_start: Annotated[
            bool,
            typer.Option(
                "--fast-start/--no-fast-start",
                help="Answer fastStart offers (else audio opens by H.245 OpenLogicalChannel).",
            ),
        ] = True,
        tunnel: Annotated[
            bool,
            typer.Option(
                "--tunnel/--no-tunnel",
                help="Accept tunnelled H.245, or refuse it: H.245 on a connection to us.",
            ),
        ] = True,
        rtcp_interval: RtcpInterval = RTCP_INTERVAL,
        video: Annotated[
            bool,
            typer.Option("--video", help="Offer H.264; accept and return the caller's video."),
        ] = False,
        json_output: Json = False,
    ) -> None:
        """Run the project's own H.323 answering peer in the foreground until interrupted."""
        forward = None
        if (answer == "forward") != (forward_to is not None):
            fail("--answer forward and --forward-to HOST:PORT go together")
        if forward_to is not None:
            forward = _split_host(forward_to, DEFAULT_PORT, "--forward-to")
        if rtcp_interval <= 0:
            fail("--rtcp-interval must be positive")
        if ring < 0 or (hangup_after is not None and hangup_after < 0):
            fail("--ring and --hangup-after must not be negative")
        if answer not in ANSWERS:
            fail(f"--answer must be one of {', '.join(ANSWERS)} (got {answer!r})")
        if cause is not None and not 1 <= cause <= 127:
            fail(f"--cause must be 1-127 (got {cause})")

        def report(call: PeerCall) -> None:
            if json_output:
                emit_json(
                    {
                        "remote": call.remote,
                        "connected": call.connected,
                        "sent": call.sent,
                        "received": call.received,
                        "released_cause": call.released_cause,
                        "error": call.error,
                        "media": call.media,
                        "h245_separate": call.h245_separate,
                        "video": call.video,
                    }
                )
                sys.stdout.flush()
            else:
                console.print(_peer_line(call), highlight=False)

        peer = H323Peer(
            host,
            port,
            answer=answer,
            cause=cause,
            ring=ring,
            hangup_after=hangup_after,
            forward_to=forward,
            fast_start=fast_start,
            tunnelling=tunnel,
            rtcp_interval=rtcp_interval,
            video=video,
            on_call_end=report,
        )
        try:
            asyncio.run(_serve_peer(peer, json_output))
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        except KeyboardInterrupt:
            console.print("stopped", highlight=False)

    @root.command("register-h323")
    def register_h323(
        gatekeeper: Annotated[
            str, typer.Option("--gatekeeper", help=f"Gatekeeper HOST[:PORT] (port {RAS_PORT}).")
        ],
        alias: Annotated[str, typer.Option("--alias", help="H.323-ID to register.")],
        ttl: Annotated[int, typer.Option("--ttl", help="Requested time to live, seconds.")] = 300,
        hold: Annotated[
            float, typer.Option("--hold", help="Stay registered this long (keep-alive RRQs).")
        ] = 0.0,
        timeout: Annotated[
            float, typer.Option("--timeout", help="Seconds per RAS try (3 tries).")
        ] = 3.0,
        json_output: Json = False,
    ) -> None:
        """Register with an H.323 gatekeeper (GRQ, RRQ), keep alive, then unregister (URQ)."""
        if not 1 <= ttl <= 4294967295:
            fail(f"--ttl must be a positive number of seconds (got {ttl})")
        if not 1 <= len(alias) <= 256:
            fail("--alias must be 1-256 characters")
        if timeout <= 0 or hold < 0:
            fail("--timeout must be positive and --hold not negative")
        host, port = _split_host(gatekeeper, RAS_PORT, "--gatekeeper")
        try:
            report = asyncio.run(_register(host, port, alias, ttl, hold, timeout))
        except KeyboardInterrupt:
            fail("interrupted", 130)
        if json_output:
            emit_json(report)
        else:
            print_table(
                f"RAS with {report['gatekeeper']}",
                ("t (s)", "event", "detail"),
                ((f"{e['at']:.3f}", e["event"], e["detail"]) for e in report["events"]),
            )
            if report["registered"]:
                console.print(
                    f"[green]registered as {report['endpoint_id']} with "
                    f"{report['gatekeeper_id']}, ttl {report['granted_ttl']} s[/green]",
                    highlight=False,
                )
            else:
                console.print(f"[red]not registered: {report['error']}[/red]", highlight=False)
        raise typer.Exit(0 if report["registered"] else 1)
