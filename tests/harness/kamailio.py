"""The private Kamailio lives in :mod:`gateway.peers.kamailio` (``crcgw demo`` uses it too)."""

from gateway.peers.kamailio import DEFAULT_USERS, Kamailio, kamailio_available

__all__ = ["DEFAULT_USERS", "Kamailio", "kamailio_available"]
