"""A realistic, seeded mix of Zoom dial strings as rooms, macros and calendars produce them."""

from __future__ import annotations

import random

from signaling.dialstring import CRC_REGIONS, DialTarget


def make_targets(count: int = 2000, seed: int = 0) -> list[DialTarget]:
    """About 60 % SIP (zoomcrc.com, CRC IPs, IPv6, ports, transport params), 40 % H.323."""
    rng = random.Random(seed)
    targets: list[DialTarget] = []
    addresses = [r.address for r in CRC_REGIONS]
    for _ in range(count):
        mid = str(rng.randrange(10**8, 10**11 - 1)).rjust(rng.choice((9, 10, 11)), "1")
        passcode = str(rng.randrange(10**5, 10**10)) if rng.random() < 0.7 else None
        layout = rng.choice((None, None, None, "11", "308", "505", "608"))
        host_key = str(rng.randrange(10**5, 10**7)) if rng.random() < 0.1 else None
        if rng.random() < 0.6:
            host = rng.choice(
                ("zoomcrc.com", "zoomcrc.com", "global.zoomcrc.com", rng.choice(addresses),
                 "[2001:db8::10]", "zm9.example.us")
            )
            params = rng.choice(("", "", "", ";transport=tls", ";transport=tcp"))
            port = rng.choice((None, None, None, 5061))
            targets.append(
                DialTarget.sip(mid, passcode=passcode, layout=layout, host_key=host_key,
                               host=host, port=port, params=params)
            )
        else:
            targets.append(
                DialTarget.h323(mid, host=rng.choice(addresses), passcode=passcode,
                                layout=layout, host_key=host_key)
            )
    return targets
