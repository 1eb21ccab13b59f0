"""Process and port helpers: they live in :mod:`gateway.peers.process` (the demo uses them)."""

from gateway.peers.process import (
    Peer,
    PeerError,
    free_port,
    free_port_range,
    make_self_signed_cert,
    port_accepts,
    spawn,
    stop_process,
)

__all__ = [
    "Peer",
    "PeerError",
    "free_port",
    "free_port_range",
    "make_self_signed_cert",
    "port_accepts",
    "spawn",
    "stop_process",
]
