"""H.323 codec and call-signalling cost, sans I/O (no sockets timed).

Budget: a gateway handling a burst of room-system calls spends well under 1 ms of CPU per
call-signalling message; a whole call set-up (Setup to Connect, both sides, with tunnelled H.245
and every message through bytes) stays under 20 ms so 50 calls a second fit on one core.
Run: ``.venv/bin/python -m pytest bench/test_bench_h323.py --benchmark-only``
"""

from __future__ import annotations

from typing import Any

import pytest

from signaling.h323.call import IncomingCall, OutgoingCall
from signaling.h323.h225 import Alias, CallMessage, UserInformation, setup_uuie
from signaling.h323.h245 import H245Session
from signaling.h323.tpkt import TpktDecoder, encode

pytestmark = pytest.mark.benchmark(group="h323")

GUID, CONF = bytes(range(16)), bytes(range(16, 32))
MEETING = "12345678901#2267511544#308"


def _outgoing() -> OutgoingCall:
    return OutgoingCall(
        0x1234,
        CONF,
        GUID,
        False,
        H245Session(1000),
        destination=[Alias.digits(MEETING), Alias.h323_id(MEETING)],
        called_digits=MEETING,
        source=[Alias.h323_id("crcgw")],
        destination_address=("10.0.0.1", 1720),
        source_address=("10.0.0.2", 40000),
    )


def test_setup_encode(benchmark: Any) -> None:
    uuie = setup_uuie(
        destination=[Alias.digits(MEETING)],
        source=[Alias.h323_id("crcgw")],
        conference_id=CONF,
        call_identifier=GUID,
    )
    info = UserInformation("setup", uuie, True)
    data = benchmark(info.encode)
    assert UserInformation.decode(data).aliases() == [Alias("dialledDigits", MEETING)]


def test_setup_decode_from_tpkt_stream(benchmark: Any) -> None:
    frame = encode(bytes(_outgoing().setup()))

    def decode() -> CallMessage:
        (payload,) = TpktDecoder().feed(frame)
        return CallMessage.parse(payload)

    message = benchmark(decode)
    assert message.uu is not None and message.uu.body == "setup"


def test_call_setup_both_sides(benchmark: Any) -> None:
    def call() -> bool:
        caller = _outgoing()
        setup = CallMessage.parse(bytes(caller.setup()))
        callee = IncomingCall.from_setup(setup, answer="connect", random_number=5000)
        queue = [("callee", setup)]
        while queue:
            side, message = queue.pop(0)
            node = callee if side == "callee" else caller
            replies, _ = node.receive(message)
            other = "caller" if side == "callee" else "callee"
            queue += [(other, CallMessage.parse(bytes(r))) for r in replies]
        return caller.state.value == "connected"

    assert benchmark(call)
