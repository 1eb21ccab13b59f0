"""``crcgw serve``: run the gateway daemon until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli.output import fail

__all__ = ["register"]

log = logging.getLogger("gateway.serve")


def _sip_listen(value: str) -> list[str]:
    """``HOST:PORT`` (or ``[v6]:PORT``) listens on UDP and TCP; a full ``udp://…`` on that one."""
    if "://" in value:
        return [value]
    return [f"udp://{value}", f"tcp://{value}"]


async def _serve(
    config_path: Path | None, http: str | None, sip: str | None, standin_emulator: str | None
) -> None:
    from gateway.config import ConfigError, load_config
    from gateway.daemon import Gateway, GatewayError

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        for issue in exc.issues:
            sys.stderr.write(f"crcgw: error: {issue}\n")
        fail("the configuration is not valid (crcgw config check FILE explains it)")
    gateway = Gateway(config, sip_listen=_sip_listen(sip) if sip else None, http_bind=http,
                      standin_emulator=standin_emulator)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, gateway.request_stop)
    try:
        await gateway.start()
    except (GatewayError, OSError, ValueError) as exc:
        await gateway.stop()
        fail(f"the gateway could not start: {exc}", 1)
    except BaseException:
        await gateway.stop()
        raise
    sys.stderr.write(
        f"crcgw: serving SIP on {', '.join(gateway.listening)}, control API on "
        f"http://{gateway.http_address}"
        + (f", stand-in connector on {gateway.standin.address}" if gateway.standin else "")
        + "\n"
    )
    sys.stderr.flush()
    try:
        await gateway.wait_stopped()
    finally:
        sys.stderr.write("crcgw: stopping (hang up, release ports, unregister)\n")
        await gateway.stop()


def serve(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="YAML configuration (default: none).")
    ] = None,
    http: Annotated[
        str | None, typer.Option("--http", help="HOST:PORT for the control API.")
    ] = None,
    sip: Annotated[
        str | None, typer.Option("--sip", help="HOST:PORT for the SIP listener (UDP and TCP).")
    ] = None,
    standin_emulator: Annotated[
        str | None,
        typer.Option("--standin-emulator", metavar="URL",
                     help="Also run the stand-in connector, reporting calls to the emulator at "
                          "URL (…/v2); for tests with a separate emulator process."),
    ] = None,
) -> None:
    """Run the gateway daemon (embedded emulator and stand-in when no account is configured)."""
    if config is not None and not config.is_file():
        fail(f"config: no such file: {config}")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("signaling").setLevel(logging.WARNING)
    asyncio.run(_serve(config, http, sip, standin_emulator))


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
