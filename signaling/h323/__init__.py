"""H.323 for crcgw: H.225.0 call signalling (TPKT, Q.931, PER via pycrate), H.245 in the
tunnel, RAS, the project's own answering peer and gatekeeper, and :func:`dial`.

Codecs are sans I/O (``bytes`` in and out, :class:`ValueError` subclasses on malformed input);
asyncio lives in :mod:`~signaling.h323.transport`, :mod:`~signaling.h323.dial`,
:mod:`~signaling.h323.peer`, :mod:`~signaling.h323.gatekeeper` and
:mod:`~signaling.h323.ras_client`.
"""

from signaling.h323.call import CallEvent, CallState, IncomingCall, OutgoingCall
from signaling.h323.cause import describe as describe_cause
from signaling.h323.cause import explain as explain_cause
from signaling.h323.dial import DEFAULT_PORT, DialEvent, DialResult, dial
from signaling.h323.errors import (
    H323ConnectionError,
    H323DecodeError,
    H323Error,
    H323Timeout,
    PerError,
    Q931Error,
    RasRejected,
    TpktError,
)
from signaling.h323.gatekeeper import Gatekeeper, GatekeeperServer
from signaling.h323.h225 import Alias, CallMessage, UserInformation
from signaling.h323.peer import H323Peer, PeerCall
from signaling.h323.q931 import MessageType, Q931Message
from signaling.h323.ras import RAS_PORT, RasEndpoint, RasEvent, RasMessage, RegistrationState
from signaling.h323.ras_client import RasClient

__all__ = [
    "DEFAULT_PORT",
    "RAS_PORT",
    "Alias",
    "CallEvent",
    "CallMessage",
    "CallState",
    "DialEvent",
    "DialResult",
    "Gatekeeper",
    "GatekeeperServer",
    "H323ConnectionError",
    "H323DecodeError",
    "H323Error",
    "H323Peer",
    "H323Timeout",
    "IncomingCall",
    "MessageType",
    "OutgoingCall",
    "PeerCall",
    "PerError",
    "Q931Error",
    "Q931Message",
    "RasClient",
    "RasEndpoint",
    "RasEvent",
    "RasMessage",
    "RasRejected",
    "RegistrationState",
    "TpktError",
    "UserInformation",
    "describe_cause",
    "dial",
    "explain_cause",
]
