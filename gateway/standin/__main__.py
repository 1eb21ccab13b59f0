"""``python -m gateway.standin``: run the stand-in connector until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from api_client.clients import AsyncZoomClient, ZoomCredentials
from api_client.emulator import meeting_passcode
from gateway.standin.connector import EmulatorMeetings, StandinConnector, print_event
from gateway.standin.video import STANDIN_VIDEO


def _sip_uri(device: str) -> str:
    """A call-out's ``device_ip`` (an address or a URI) as a SIP URI."""
    return device if device.startswith(("sip:", "sips:")) else "sip:" + device


async def _main(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    client: AsyncZoomClient | None = None
    if args.emulator:
        client = AsyncZoomClient(
            ZoomCredentials("emulator-account", "crcgw-standin", "emulator", base_url=args.emulator)
        )

    async def on_join(meeting_id: str) -> str | None:
        if client is None:
            return None
        call = await client.emulator.start_call("crcgw-standin", meeting_id)
        return str(call.id)

    async def on_leave(report_id: str) -> None:
        if client is not None:
            await client.emulator.end_call(report_id)

    async def callouts() -> list[tuple[str, str]]:
        assert client is not None
        pending = await client.emulator.callouts("pending")
        return [(c.id, _sip_uri(c.device_ip)) for c in pending if c.call_type == "sip"]

    async def callout_report(callout_id: str, status: str) -> None:
        assert client is not None
        await client.emulator.update_callout(callout_id, status)

    connector = StandinConnector(
        EmulatorMeetings(meeting_passcode),
        host=args.host,
        port=args.port,
        on_join=on_join,
        on_leave=on_leave,
        emit=print_event,
        callouts=callouts if client is not None else None,
        callout_report=callout_report if client is not None else None,
        video=None if args.no_video else STANDIN_VIDEO,
    )
    try:
        await connector.run(stop)
    finally:
        if client is not None:
            await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--emulator", help="the emulator's Zoom base URL (…/v2) to report calls to")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--no-video", action="store_true", help="answer audio only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
