"""Call detail records: one recorder for the calls the gateway places and for its redirects.

:class:`CdrRecorder` writes to the store on its write threads (``write``: the port pool's
:meth:`gateway.ports.PortPool.write`, or a plain executor). A placed call's record is opened
before the INVITE leaves (:meth:`CdrRecorder.open`) and updated as the call goes
(:meth:`CdrRecorder.update`); an update the store cannot take goes to the durable CDR journal
and reaches the store when it is back, in order.

Every INVITE the redirect service answers with a final status (302 to the meeting, or a
refusal: 404 no route, 486/503 no CRC port, 487 cancelled, 415, 481) becomes one closed record
through :meth:`CdrRecorder.redirect` (its ``on_event``): ``call_id`` ``redirect:<SIP Call-ID>``,
direction ``redirect``, ``room`` the caller's user part, ``target`` the dial string without
passcode or host key (empty when no rule matched: the dialled digits may hold a passcode),
``outcome`` ``redirected``, ``no-route``, ``no-port``, ``cancelled`` or ``refused``. Refusals
by the access checks (403, 401, rate limit) are answered statelessly and take no record, so a
flood cannot fill the store; the metrics count them. A redirect record the store cannot take
is logged and lost (the journal only holds updates of records already open).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from gateway.redirect import RedirectEvent
from gateway.store import Store, StoreUnavailableError
from gateway.store.journal import CdrJournal

__all__ = ["REDIRECT_OUTCOMES", "CdrRecorder"]

log = logging.getLogger(__name__)

REDIRECT_OUTCOMES = {302: "redirected", 404: "no-route", 486: "no-port", 503: "no-port",
                     487: "cancelled"}
"""The CDR outcome of a redirect answered with this status (any other: ``refused``)."""


class StoreWriter(Protocol):
    """Runs a blocking store write off the event loop (:meth:`gateway.ports.PortPool.write`)."""

    def __call__(self, func: Callable[[], Any]) -> Awaitable[Any]: ...


async def _in_executor(func: Callable[[], Any]) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, func)


class CdrRecorder:
    """The records of ``store`` owned by gateway ``owner``; see the module docstring."""

    def __init__(self, store: Store, owner: str, *, write: StoreWriter | None = None,
                 journal: CdrJournal | None = None) -> None:
        self.store = store
        self.owner = owner
        self.journal = journal
        self._write: StoreWriter = write or _in_executor
        self._pending: set[asyncio.Task[None]] = set()

    async def open(self, call_id: str, room: str, target: str, started_at: float) -> None:
        """Start the record of a placed call (raises :class:`StoreUnavailableError`)."""
        await self._write(functools.partial(
            self.store.record_cdr, call_id, room, target, started_at, owner=self.owner,
        ))

    async def update(self, call_id: str, **fields: Any) -> None:
        """Write an update; the journal keeps it when the store cannot (or when earlier
        updates of this call wait there: their order is kept)."""
        journal = self.journal
        if journal is None or not journal.has(call_id):
            try:
                await self._write(functools.partial(self.store.update_cdr, call_id, **fields))
                return
            except StoreUnavailableError:
                if journal is None:
                    raise
        assert journal is not None
        await asyncio.get_running_loop().run_in_executor(
            None, functools.partial(journal.append, call_id, fields)
        )

    # -- redirects --------------------------------------------------------------------------

    def redirect(self, event: RedirectEvent) -> None:
        """The redirect service's ``on_event``: record ``event`` in the background."""
        task = asyncio.get_running_loop().create_task(self._record_redirect(event))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _write_redirect(self, event: RedirectEvent) -> None:
        call_id = f"redirect:{event.sip_call_id}"
        self.store.record_cdr(call_id, event.caller, event.target or "", event.at,
                              direction="redirect", owner=self.owner)
        self.store.update_cdr(call_id, ended_at=event.at, sip_code=event.status,
                              outcome=REDIRECT_OUTCOMES.get(event.status, "refused"))

    async def _record_redirect(self, event: RedirectEvent) -> None:
        try:
            await self._write(functools.partial(self._write_redirect, event))
        except Exception as exc:  # noqa: BLE001 - a record lost is logged, the service goes on
            log.warning("redirect %s: its CDR was not written: %s", event.sip_call_id,
                        type(exc).__name__)

    async def drain(self, timeout: float) -> None:
        """Wait (bounded) for the redirect records still being written."""
        if self._pending:
            await asyncio.wait(list(self._pending), timeout=timeout)
