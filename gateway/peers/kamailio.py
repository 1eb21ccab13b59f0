"""A private Kamailio for tests and benches: registrar + proxy with digest auth on UDP, TCP, TLS.

>>> with Kamailio(users={"alice": "alicepw"}) as kam:      # doctest: +SKIP
...     kam.address("tls")          # '127.0.0.1:40213'
...     kam.cert                    # self-signed, SAN 127.0.0.1, ::1, localhost; its own CA
...     kam.contacts("alice")       # Contact URIs registered for alice

It runs from the project's own ``kamailio.cfg`` (copied into a fresh work directory beside the
generated ``users.cfg``), listens on free ports, is our direct child (``PR_SET_PDEATHSIG``, so it
cannot outlive the test process) and is stopped by its PID. Needs the Debian packages
``kamailio`` and ``kamailio-tls-modules`` and ``openssl``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Self

from gateway.peers.process import (
    Peer,
    PeerError,
    free_port,
    make_self_signed_cert,
    port_accepts,
    spawn,
    stop_process,
)

__all__ = ["DEFAULT_USERS", "Kamailio", "kamailio_available"]

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "kamailio.cfg"
DEFAULT_USERS: Mapping[str, str] = {"alice": "alicepw", "bob": "bobpw", "carol": "carolpw"}
_SAFE_USER = re.compile(r"^[A-Za-z0-9._+-]{1,64}$")
_SAFE_PASSWORD = re.compile(r'^[^"\\\r\n$]{1,128}$')


def kamailio_available() -> bool:
    """True when kamailio, its TLS module, kamcmd and openssl are installed."""
    tls_module = any(
        Path(d, "tls.so").exists()
        for d in (
            "/usr/lib/x86_64-linux-gnu/kamailio/modules",
            "/usr/lib/kamailio/modules",
            "/usr/local/lib64/kamailio/modules",
            "/usr/local/lib/kamailio/modules",
        )
    )
    tools = all(shutil.which(tool) for tool in ("kamailio", "kamcmd", "openssl"))
    return tools and tls_module


class Kamailio(Peer):
    """One Kamailio on free loopback ports (UDP and TCP share ``sip_port``; TLS ``tls_port``)."""

    def __init__(
        self,
        users: Mapping[str, str] | None = None,
        workdir: Path | None = None,
        ipv6: bool = False,
    ) -> None:
        self.users: dict[str, str] = dict(DEFAULT_USERS if users is None else users)
        for name, password in self.users.items():
            if not _SAFE_USER.match(name) or not _SAFE_PASSWORD.match(password):
                raise ValueError(f"user {name!r}: unsupported characters for the test registrar")
        self.dir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="crcgw-kam."))
        self.ipv6 = ipv6
        hosts = ("127.0.0.1", "::1") if ipv6 else ("127.0.0.1",)
        self.sip_port = free_port(hosts)
        self.tls_port = free_port(hosts, udp=False)
        self.cert, self.key = make_self_signed_cert(self.dir, "kamailio")
        self.ctl_socket = self.dir / "ctl.sock"
        self.log_path = self.dir / "kamailio.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self.start_s = 0.0
        self.stop_s = 0.0

    # -- addresses ----------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def port(self, transport: str) -> int:
        """The port for ``udp``, ``tcp`` or ``tls``."""
        if transport not in ("udp", "tcp", "tls"):
            raise ValueError(f"unknown transport {transport!r}")
        return self.tls_port if transport == "tls" else self.sip_port

    def address(self, transport: str = "udp", ipv6: bool = False) -> str:
        """``HOST:PORT`` of the registrar for ``transport`` (``[::1]:PORT`` with ``ipv6``)."""
        if ipv6 and not self.ipv6:
            raise ValueError("this Kamailio was started without ipv6=True")
        host = "[::1]" if ipv6 else self.host
        return f"{host}:{self.port(transport)}"

    def uri(self, transport: str = "udp", ipv6: bool = False) -> str:
        """The registrar as a SIP URI with its ``;transport=`` parameter."""
        return f"sip:{self.address(transport, ipv6)};transport={transport}"

    # -- life cycle ---------------------------------------------------------------------------

    def _write_files(self) -> Path:
        cfg = self.dir / "kamailio.cfg"
        shutil.copyfile(CONFIG, cfg)
        lines = [f'$sht(users=>{name}) = "{pw}";' for name, pw in self.users.items()]
        (self.dir / "users.cfg").write_text("\n".join(lines) + "\n")
        return cfg

    def start(self, timeout: float = 10.0) -> Self:
        if self.running:
            return self
        started = time.monotonic()
        cfg = self._write_files()
        self.ctl_socket.unlink(missing_ok=True)
        argv = [
            "kamailio",
            "-DD",
            "-E",
            "-f",
            str(cfg),
            "-Y",
            str(self.dir),
            "-w",
            str(self.dir),
            "-m",
            "64",
            "-M",
            "8",
            "-A",
            f"SIP_PORT={self.sip_port}",
            "-A",
            f"TLS_PORT={self.tls_port}",
            "-A",
            f'CTL_SOCK="unix:{self.ctl_socket}"',
            "-A",
            f'TLS_CERT="{self.cert}"',
            "-A",
            f'TLS_KEY="{self.key}"',
        ]
        if self.ipv6:
            argv += ["-A", "WITH_IPV6"]
        self._proc = spawn(argv, self.log_path)
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise PeerError(f"kamailio exited at start: {self.log_tail()}")
            if (
                self.ctl_socket.exists()
                and port_accepts(self.host, self.tls_port)
                and port_accepts(self.host, self.sip_port)
                and self._rpc_answers()
            ):
                self.start_s = time.monotonic() - started
                return self
            time.sleep(0.02)
        self.stop()
        raise PeerError(f"kamailio not ready after {timeout} s: {self.log_tail()}")

    def _rpc_answers(self) -> bool:
        try:
            self.kamcmd("core.uptime", timeout=2.0)
        except (PeerError, subprocess.TimeoutExpired):
            return False
        return True

    def stop(self) -> float:
        """SIGTERM to the main process (it stops its children); idempotent."""
        self.stop_s = stop_process(self._proc, timeout=3.0)
        self._proc = None
        return self.stop_s

    def restart(self) -> Self:
        """Stop and start again on the same ports, certificate and users (registrations lost)."""
        self.stop()
        return self.start()

    # -- inspection ---------------------------------------------------------------------------

    def kamcmd(self, *args: str, timeout: float = 5.0) -> str:
        """Run one RPC command on the control socket; returns its output."""
        result = subprocess.run(
            ["kamcmd", "-s", f"unix:{self.ctl_socket}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0 or result.stdout.startswith("error:"):
            detail = result.stderr.strip() or result.stdout.strip()
            raise PeerError(f"kamcmd {' '.join(args)}: {detail}")
        return result.stdout

    def contacts(self, user: str) -> list[str]:
        """The Contact URIs currently registered for ``user`` (empty list if none)."""
        try:
            out = self.kamcmd("ul.lookup", "location", user)
        except PeerError as exc:
            if "Not Found" in str(exc) or "AOR not found" in str(exc):
                return []
            raise
        return re.findall(r"Address:\s*(\S+)", out)

    def registered_users(self) -> set[str]:
        """Every AOR with at least one binding."""
        return set(re.findall(r"AoR:\s*(\S+)", self.kamcmd("ul.dump")))

    def add_user(self, name: str, password: str) -> None:
        """Add or change a user while running (kept across :meth:`restart`)."""
        if not _SAFE_USER.match(name) or not _SAFE_PASSWORD.match(password):
            raise ValueError(f"user {name!r}: unsupported characters for the test registrar")
        self.users[name] = password
        if self.running:
            self.kamcmd("htable.sets", "users", name, password)
