"""The pjsua2 adapter: the only package of crcgw that imports ``pjsua2``.

:class:`SipEngine` owns one pjsua2 Endpoint on a dedicated thread and is driven from asyncio;
:class:`SipEnginePool` spreads more endpoints than one process may hold over child processes.
Settings, events and pure logic live in :mod:`signaling.sip`.
"""

from signaling.pjsua._worker import MAX_CALLS as CALLS_PER_ENGINE
from signaling.pjsua.engine import SipEngine
from signaling.pjsua.pool import ROOMS_PER_ENGINE, SipEnginePool

__all__ = ["CALLS_PER_ENGINE", "ROOMS_PER_ENGINE", "SipEngine", "SipEnginePool"]
