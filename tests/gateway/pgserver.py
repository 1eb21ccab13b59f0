"""A private PostgreSQL server for tests: ``initdb`` in a temporary directory, a free port,
its unix socket in that directory, run as the ``postgres`` system user (initdb refuses root),
stopped by its PID.

>>> with PgServer() as pg:          # doctest: +SKIP
...     url = pg.url                  # postgresql://postgres@127.0.0.1:PORT/postgres
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Self

from gateway.peers.process import die_with_parent
from tests.harness import free_port
from tests.harness._process import Peer

__all__ = ["PgServer", "pg_bin_dir"]

_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def pg_bin_dir() -> Path | None:
    """Where ``initdb`` and ``postgres`` live (newest Debian version first), or ``None``."""
    for directory in _BIN_DIRS:
        if (directory / "initdb").exists() and (directory / "postgres").exists():
            return directory
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _run_as() -> str | None:
    """The user to run the server as: ourselves unless we are root, then ``postgres``."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    return "postgres"


class PgServer(Peer):
    """One throw-away PostgreSQL server on 127.0.0.1."""

    def __init__(self) -> None:
        bin_dir = pg_bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL binaries not found (apt-get install postgresql)")
        self.bin_dir = bin_dir
        self.user = _run_as()
        if os.geteuid() == 0 and self.user is None:
            raise RuntimeError("running as root but there is no 'postgres' user to run initdb")
        self.dir = Path(tempfile.mkdtemp(prefix="crcgw-pg."))
        self.data = self.dir / "data"
        self.port = free_port(udp=False)
        self.log_path = self.dir / "postgres.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.db_user = self.user or pwd.getpwuid(os.geteuid()).pw_name

    @property
    def url(self) -> str:
        return f"postgresql://{self.db_user}@127.0.0.1:{self.port}/postgres"

    def _popen(self, argv: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
            argv, user=self.user, group=self.user, extra_groups=[] if self.user else None,
            stdin=subprocess.DEVNULL, **kwargs,
        )

    def start(self, timeout: float = 30.0) -> Self:
        if self.user:
            shutil.chown(self.dir, self.user, self.user)
        with open(self.log_path, "ab") as log:
            init = self._popen(
                [str(self.bin_dir / "initdb"), "-D", str(self.data), "-A", "trust",
                 "-U", self.db_user, "--no-sync", "-E", "UTF8"],
                stdout=log, stderr=subprocess.STDOUT,
            )
            if init.wait(timeout) != 0:
                raise RuntimeError(f"initdb failed: {self.log_tail()}")
            self.proc = self._popen(
                [str(self.bin_dir / "postgres"), "-D", str(self.data), "-p", str(self.port),
                 "-k", str(self.dir), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                 "-c", "max_connections=50"],
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent(signal.SIGTERM),
            )
        deadline = time.monotonic() + timeout
        while not (self.dir / f".s.PGSQL.{self.port}").exists() or not self._accepts():
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited: {self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("postgres did not start in time")
            time.sleep(0.05)
        return self

    def _accepts(self) -> bool:
        import psycopg

        try:
            psycopg.connect(self.url, connect_timeout=1).close()
            return True
        except psycopg.OperationalError:
            return False

    def stop(self) -> float:
        """Fast shutdown (SIGINT) by PID, SIGKILL after 10 s; removes the directory."""
        started = time.monotonic()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)
        return time.monotonic() - started
