"""``crcgw dialstring``: build, parse and explain Zoom SIP and H.323 dial strings."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli.output import emit_json, fail, print_table
from signaling.dialstring import (
    CRC_REGIONS,
    DialInfo,
    DialStringError,
    DialTarget,
    find_region,
    parse,
    parse_invitation,
    region_for_address,
    split_host_port,
)

__all__ = ["register"]

app = typer.Typer(
    help="Build, parse and explain Zoom CRC dial strings (SIP and H.323).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

MeetingId = Annotated[str, typer.Argument(help="Meeting ID, 9 to 11 digits; spaces and dashes OK.")]
Passcode = Annotated[
    str | None, typer.Option("--passcode", "-p", help="Numeric room-system passcode.")
]
Layout = Annotated[
    str | None, typer.Option("--layout", "-l", help="Layout code (11, 308, 505, 608, ...).")
]
HostKey = Annotated[str | None, typer.Option("--host-key", "-k", help="Host key, 6 to 10 digits.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
FromApi = Annotated[
    bool,
    typer.Option(
        "--from-api",
        help="Take the passcode (h323_password) from Zoom's GET /meetings/{id} (and, for "
        "H.323 without --host/--region, the addresses of the meeting's invitation).",
    ),
]
Config = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Gateway configuration with the Zoom credentials."),
]


def _from_api(
    meeting_id: str, passcode: str | None, config: Path | None, *, addresses: bool
) -> tuple[str | None, list[str]]:
    """(passcode, H.323 addresses) from the API: the meeting's ``h323_password`` unless a
    passcode was given, and its invitation's H.323 addresses when asked for."""
    from gateway.cli.commands._api_common import zoom_client

    digits = "".join(ch for ch in meeting_id if ch.isdigit())
    with zoom_client(config) as zoom:
        meeting = zoom.meetings.get(digits)
        found = zoom.meetings.h323_ip_addresses(digits) if addresses else []
    if passcode is None and meeting.h323_password is not None:
        passcode = meeting.h323_password.get_secret_value() or None
    return passcode, found


def _show(targets: Sequence[DialTarget], as_json: bool, *, as_list: bool = False) -> None:
    if as_json:
        items = [target.as_dict() for target in targets]
        emit_json(items if as_list or len(items) != 1 else items[0])
        return
    if len(targets) == 1 and not as_list:
        target = targets[0]
        fields = target.as_dict()
        region = region_for_address(target.host or "")
        if region is not None:
            fields["region"] = f"{region.label} ({region.name})"
        print_table(
            f"{target.protocol.upper()} dial target",
            ("field", "value"),
            ((key, "-" if value is None else value) for key, value in fields.items()),
        )
        return
    rows = []
    for target in targets:
        region = region_for_address(target.host or "")
        rows.append(
            (
                target.protocol.upper(),
                region.label if region else "-",
                target.sip_uri() if target.protocol == "sip" else target.dial_string(),
            )
        )
    print_table(None, ("protocol", "region", "dial"), rows)


@app.command("sip")
def sip_command(
    meeting_id: MeetingId,
    passcode: Passcode = None,
    layout: Layout = None,
    host_key: HostKey = None,
    host: Annotated[
        str,
        typer.Option("--host", help="HOST[:PORT]: zoomcrc.com, a CRC IP or another domain."),
    ] = "zoomcrc.com",
    transport: Annotated[
        str | None, typer.Option("--transport", help="Add ;transport= (udp, tcp, tls).")
    ] = None,
    as_json: Json = False,
    from_api: FromApi = False,
    config: Config = None,
) -> None:
    """Build the SIP dial string MEETING[.PASSCODE[.LAYOUT[.HOSTKEY]]]@HOST."""
    if from_api:
        passcode, _ = _from_api(meeting_id, passcode, config, addresses=False)
    params = ""
    if transport is not None:
        if transport.lower() not in ("udp", "tcp", "tls"):
            fail(f"transport: must be udp, tcp or tls (got {transport!r})")
        params = f";transport={transport.lower()}"
    try:
        host_name, port = split_host_port(host)
        target = DialTarget.sip(
            meeting_id, passcode=passcode, layout=layout, host_key=host_key, host=host_name,
            port=port, params=params,
        )
    except DialStringError as exc:
        fail(str(exc))
    _show([target], as_json)


@app.command("h323")
def h323_command(
    meeting_id: MeetingId,
    passcode: Passcode = None,
    layout: Layout = None,
    host_key: HostKey = None,
    host: Annotated[str | None, typer.Option("--host", help="The CRC IP[:PORT].")] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="A CRC region (see 'dialstring regions').")
    ] = None,
    all_regions: Annotated[
        bool, typer.Option("--all-regions", help="One dial string per CRC region.")
    ] = False,
    as_json: Json = False,
    from_api: FromApi = False,
    config: Config = None,
) -> None:
    """Build the H.323 dial string IP##MEETING[#PASSCODE[#LAYOUT[#HOSTKEY]]]."""
    chosen = (host is not None) + (region is not None) + all_regions
    invited: list[str] = []
    if from_api:
        passcode, invited = _from_api(meeting_id, passcode, config, addresses=chosen == 0)
        if chosen == 0 and not invited:
            fail("host: the meeting's invitation lists no H.323 address; give --host or --region")
    elif chosen != 1:
        fail("host: give exactly one of --host IP, --region NAME or --all-regions")
    if chosen > 1:
        fail("host: give exactly one of --host IP, --region NAME or --all-regions")
    try:
        hosts: list[tuple[str, int | None]]
        if invited:
            hosts = [(address, None) for address in invited]
        elif all_regions:
            hosts = [(r.address, None) for r in CRC_REGIONS]
        elif region is not None:
            hosts = [(find_region(region).address, None)]
        else:
            hosts = [split_host_port(host or "")]
        targets = [
            DialTarget.h323(
                meeting_id, host=address, port=port, passcode=passcode, layout=layout,
                host_key=host_key,
            )
            for address, port in hosts
        ]
    except DialStringError as exc:
        fail(str(exc))
    _show(targets, as_json, as_list=all_regions or len(targets) > 1)


@app.command("parse")
def parse_command(
    dial_string: Annotated[str, typer.Argument(help="A SIP or H.323 dial string or SIP URI.")],
    as_json: Json = False,
) -> None:
    """Parse a dial string and show its fields; exit code 2 names the field that is wrong."""
    try:
        target = parse(dial_string)
    except DialStringError as exc:
        fail(str(exc))
    _show([target], as_json)


@app.command("invitation")
def invitation_command(
    source: Annotated[str, typer.Argument(help="A file with the invitation text, or - for stdin.")],
    as_json: Json = False,
) -> None:
    """Read the 'Join by SIP' and 'Join by H.323' blocks of a Zoom meeting invitation."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"invitation: cannot read {source}: {exc.strerror or exc}")
    except UnicodeDecodeError:
        fail(f"invitation: {source} is not UTF-8 text")
    try:
        info: DialInfo = parse_invitation(text)
    except DialStringError as exc:
        fail(str(exc))
    for problem in info.problems:
        sys.stderr.write(f"crcgw: warning: {problem}\n")
    if not info.targets:
        fail("invitation: no usable SIP or H.323 target found")
    _show(info.targets, as_json, as_list=True)


@app.command("regions")
def regions_command(as_json: Json = False) -> None:
    """List the Zoom CRC H.323 addresses by region."""
    if as_json:
        emit_json([{"name": r.name, "label": r.label, "address": r.address} for r in CRC_REGIONS])
        return
    print_table(
        "Zoom CRC H.323 addresses",
        ("region", "label", "address"),
        ((r.name, r.label, r.address) for r in CRC_REGIONS),
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="dialstring")
