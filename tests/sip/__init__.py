"""Tests of the SIP signaling core against real peers (Kamailio, baresip) on loopback."""
