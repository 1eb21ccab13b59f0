"""Which ``crcgw`` commands exist, where each lives, and the help panel it is listed under.

The command modules import pjsua2, pydantic, httpx, numpy or pycrate: loading all of them took
about a second before any command ran. The root group lists the commands from this table and
imports a command's module only when that command runs (or its own ``--help`` is asked for), so
``crcgw --help`` and ``crcgw dialstring ...`` start without those libraries.

A new command: its module in :mod:`gateway.cli.commands` with ``register(app)``, and a line
here. ``tests/test_cli_app.py`` checks that the two agree (names, modules and summaries).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperGroup

__all__ = ["CATALOG", "PANELS", "CommandCatalog", "Entry", "load_command"]

DIAL = "Dial and test meetings"
GATEWAY = "Run the gateway"
REGISTER = "Register rooms"
ACCOUNTS = "Zoom and PortSIP accounts"
DIAGNOSE = "Look into calls and media"

PANELS = (DIAL, GATEWAY, REGISTER, ACCOUNTS, DIAGNOSE)


@dataclass(frozen=True)
class Entry:
    """A top-level command: ``module`` of :mod:`gateway.cli.commands` registers it;
    ``summary`` opens its help (the listing shows it; tests check they agree)."""

    name: str
    module: str
    panel: str
    summary: str


CATALOG: tuple[Entry, ...] = (
    Entry("dialstring", "dialstring", DIAL,
          "Build, parse and explain Zoom CRC dial strings (SIP and H.323)."),
    Entry("test-dial", "testdial", DIAL, "Dial a meeting like a room system, time each stage, "
          "measure the media, judge the call."),
    Entry("dial", "sip", DIAL, "Place one SIP call and print its events and statistics; "
          "exit 0 only if it connected (answered with audio negotiated)."),
    Entry("h323-dial", "h323", DIAL, "Dial a meeting over H.323 and report every message; "
          "exit 0 only if it connected."),
    Entry("call", "call", DIAL,
          "Dial meetings from a running gateway's rooms (through its control API)."),
    Entry("serve", "serve", GATEWAY, "Run the gateway daemon (embedded emulator and stand-in "
          "when no account is configured)."),
    Entry("demo", "demo", GATEWAY, "Run the gateway on embedded defaults: register a room, "
          "dial a meeting, report, exit."),
    Entry("config", "config", GATEWAY,
          "Check and show the gateway configuration (YAML, CRCGW_* environment overrides)."),
    Entry("register", "sip", REGISTER, "Register once at a registrar, print the outcome, "
          "status code and time, then unregister."),
    Entry("register-h323", "h323", REGISTER, "Register with an H.323 gatekeeper (GRQ, RRQ), "
          "keep alive, then unregister (URQ)."),
    Entry("sync-devices", "call", REGISTER,
          "Register the configured rooms with Zoom as SIP phones and H.323 devices."),
    Entry("devices", "devices", REGISTER, "Room devices registered with Zoom: SIP and H.323."),
    Entry("meeting", "meetings", ACCOUNTS,
          "A Zoom meeting: details, live metrics, participants."),
    Entry("callout", "meetings", DIAL, "A live meeting calls a room system by SIP or H.323."),
    Entry("zoom-rooms", "meetings", ACCOUNTS, "Zoom Rooms: list, show, devices."),
    Entry("crc", "crc", ACCOUNTS,
          "Cloud Room Connector: settings and port usage (Zoom, or the embedded emulator)."),
    Entry("numbers", "numbers", ACCOUNTS,
          "Phone numbers: search, provision, assign, port, blocks."),
    Entry("rooms", "rooms", ACCOUNTS, "PortSIP PBX conference rooms."),
    Entry("trunk", "trunk", ACCOUNTS,
          "SIP trunk (SIP Connected Audio) configuration of a sub account."),
    Entry("analyze", "analyze", DIAGNOSE, "Analyse a SIP or H.323 capture: calls and their "
          "ladders, set-up times, final responses, auth challenges, re-INVITEs, DTMF; RTP "
          "streams with loss, jitter, max delta and MOS."),
    Entry("media", "media", DIAGNOSE, "The numpy media path: compositor/mixer benchmarks, "
          "layout drawings, SDP parameters."),
    Entry("emulator", "emulator", DIAGNOSE, "Serve the local emulator: Zoom under /v2 (token "
          "at /oauth/token, any client credentials) and PortSIP under /api (admin/admin)."),
    Entry("h323-peer", "h323", DIAGNOSE,
          "Run the project's own H.323 answering peer in the foreground until interrupted."),
)

_BY_NAME = {entry.name: entry for entry in CATALOG}
_LOADED: dict[str, dict[str, Any]] = {}  # module -> command name -> (typer's) click command


def load_command(entry: Entry) -> Any:
    """Import ``entry``'s module and build its command (each module is loaded once)."""
    commands = _LOADED.get(entry.module)
    if commands is None:
        module = importlib.import_module(f"gateway.cli.commands.{entry.module}")
        holder = typer.Typer()
        module.register(holder)
        commands = _LOADED[entry.module] = dict(typer.main.get_group(holder).commands)
    command = commands[entry.name]
    # typer's rich help (when enabled) groups by this attribute, as the listing below does
    command.rich_help_panel = entry.panel
    return command


class CommandCatalog(TyperGroup):
    """The root group: commands from :data:`CATALOG`, imported on first use, listed by panel."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [entry.name for entry in CATALOG] + super().list_commands(ctx)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        entry = _BY_NAME.get(cmd_name)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        return load_command(entry)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """One section per panel, from the table: listing imports no command module."""
        for panel in PANELS:
            entries = [entry for entry in CATALOG if entry.panel == panel]
            limit = max(formatter.width - 6 - max(len(e.name) for e in entries), 30)
            rows = [(e.name, _short(e.summary, limit)) for e in entries]
            with formatter.section(panel):
                formatter.write_dl(rows)



def _short(summary: str, limit: int) -> str:
    """The summary's first sentence, cut at a word to ``limit`` characters with "..."."""
    words: list[str] = []
    for word in summary.split():
        if len(" ".join([*words, word])) > limit - 3:
            return " ".join(words) + "..."
        words.append(word)
        if word.endswith("."):
            break
    return " ".join(words)
