"""A local stand-in for Zoom's Cloud Room Connector, for the embedded defaults and the tests.

It answers SIP calls the way a meeting does: it reads the meeting ID, passcode and host key from
the dialled URI, asks by IVR (DTMF ending in ``#``) for what is missing, checks them against its
meeting directory, and reports each joined call to the API emulator so that port usage follows.
"""

from gateway.standin.session import (
    Action,
    ConnectorSession,
    Meeting,
    Phase,
)

__all__ = ["Action", "ConnectorSession", "Meeting", "Phase"]
