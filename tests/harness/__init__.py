"""Real SIP peers for tests and benches: a private Kamailio and an independent baresip.

Both run on free loopback ports, are our direct children (``PR_SET_PDEATHSIG``: nothing survives
the test process) and are stopped by their PID::

    from tests.harness import Baresip, Kamailio

    with Kamailio(users={"alice": "alicepw", "bob": "bobpw"}) as kam:
        with Baresip("bob", "bobpw", registrar=kam.address("udp")) as bob:
            assert bob.wait_registered()
            ...

The Kamailio launcher and its config live in :mod:`gateway.peers` (``crcgw demo`` uses them);
this package re-exports them. Also here: :mod:`tests.harness.stun` (a STUN binding responder)
and :mod:`tests.harness.dns` (an A/SRV DNS responder). pytest fixtures built on them live in
``tests/sip/conftest.py``.
"""

from tests.harness._process import PeerError, free_port, free_port_range, make_self_signed_cert
from tests.harness.baresip import Baresip, baresip_available
from tests.harness.kamailio import DEFAULT_USERS, Kamailio, kamailio_available

__all__ = [
    "DEFAULT_USERS",
    "Baresip",
    "Kamailio",
    "PeerError",
    "baresip_available",
    "free_port",
    "free_port_range",
    "kamailio_available",
    "make_self_signed_cert",
]
