"""The CDR journal: call-record updates the store could not take, kept durably until it can.

When the store is locked, full or read-only, :meth:`CdrJournal.append` writes the update as one
JSON line to an append-only file (flushed and ``fsync``-ed before returning) and keeps it in
memory; :meth:`CdrJournal.replay` applies the pending updates to the store in order once it
answers again, then empties the file. A journal left by a killed gateway is read back when the
next one starts, so no call record stays open. Only the file's last line can be torn (a crash
in mid-write); it is skipped.

If even the journal file cannot be written (the disk is full for every file), the update stays
in memory and is replayed all the same while the process lives; ``durable`` says so.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from gateway.store._sql import SqlStore, StoreUnavailableError

__all__ = ["CdrJournal"]

log = logging.getLogger(__name__)


class CdrJournal:
    """``journal = CdrJournal(data_dir / "cdr-journal.jsonl")``; thread-safe."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self.durable = True
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                    self._pending.append((str(entry["call_id"]), dict(entry["fields"])))
                except (ValueError, KeyError, TypeError):
                    log.warning("CDR journal %s: skipping a torn line", self.path)
            if self._pending:
                log.warning("CDR journal %s: %d update(s) to replay", self.path,
                            len(self._pending))

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def has(self, call_id: str) -> bool:
        """Whether updates of ``call_id`` wait here (later ones must follow them)."""
        with self._lock:
            return any(cid == call_id for cid, _ in self._pending)

    def append(self, call_id: str, fields: dict[str, Any]) -> None:
        """Keep one update of ``call_id`` (``fields`` as for ``Store.update_cdr``)."""
        line = json.dumps({"call_id": call_id, "fields": fields}, sort_keys=True) + "\n"
        with self._lock:
            self._pending.append((call_id, dict(fields)))
            try:
                with self.path.open("a", encoding="utf-8") as out:
                    out.write(line)
                    out.flush()
                    os.fsync(out.fileno())
            except OSError as exc:
                if self.durable:
                    log.error("CDR journal %s cannot be written (%s): keeping updates in memory",
                              self.path, exc.strerror or exc)
                self.durable = False

    def replay(self, store: SqlStore) -> int:
        """Apply the pending updates to ``store`` in order; returns how many were applied. Stops
        at the first :class:`StoreUnavailableError` (the rest wait for the next replay)."""
        with self._lock:
            if not self._pending:
                return 0
            done = 0
            try:
                for call_id, fields in self._pending:
                    store.update_cdr(call_id, **dict(fields))
                    done += 1
            except StoreUnavailableError:
                pass
            finally:
                del self._pending[:done]
                if done:
                    self._rewrite()
            if done:
                log.info("CDR journal: %d update(s) written to the store, %d left", done,
                         len(self._pending))
            return done

    def _rewrite(self) -> None:
        try:
            if not self._pending:
                self.path.unlink(missing_ok=True)
                self.durable = True
                return
            temp = self.path.with_suffix(".tmp")
            with temp.open("w", encoding="utf-8") as out:
                for call_id, fields in self._pending:
                    out.write(json.dumps({"call_id": call_id, "fields": fields},
                                         sort_keys=True) + "\n")
                out.flush()
                os.fsync(out.fileno())
            temp.replace(self.path)
        except OSError as exc:
            log.error("CDR journal %s cannot be rewritten: %s", self.path, exc.strerror or exc)
