"""Process and port helpers shared by the harness peers.

Every peer is our direct child, started with ``PR_SET_PDEATHSIG`` so it dies with the test
process (even on a crash), and stopped by its own PID.
"""

from __future__ import annotations

import ctypes
import errno
import os
import random
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = [
    "Peer",
    "PeerError",
    "die_with_parent",
    "free_port",
    "free_port_range",
    "make_self_signed_cert",
    "port_accepts",
    "spawn",
    "stop_process",
]

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


class PeerError(RuntimeError):
    """A harness peer (Kamailio, baresip) could not be started or driven."""


class Peer:
    """Base of the harness peers: a context manager around ``start()``/``stop()`` with a log."""

    log_path: Path

    def start(self, timeout: float = 10.0) -> Self:
        raise NotImplementedError

    def stop(self) -> float:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines of the peer's log (for assertion messages)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def die_with_parent(sig: int) -> Callable[[], None]:
    """A ``preexec_fn`` that sends the child ``sig`` when the forking thread exits."""

    def preexec() -> None:
        _libc.prctl(_PR_SET_PDEATHSIG, sig)

    return preexec


def spawn(
    argv: Sequence[str],
    log_path: Path,
    death_signal: int = signal.SIGTERM,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` with stdout+stderr to ``log_path``; it gets ``death_signal`` if we die.

    The child leads its own process group, so :func:`stop_process` can also reach the
    processes it forked (Kamailio's workers) if it does not stop them itself.

    ``PR_SET_PDEATHSIG`` fires when the *thread* that forked exits, so start peers from the
    main thread (pytest fixtures do).
    """
    if threading.current_thread() is not threading.main_thread():
        raise PeerError("start harness peers from the main thread (PR_SET_PDEATHSIG)")
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=die_with_parent(death_signal),
        )


def stop_process(
    proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM, timeout: float = 5.0
) -> float:
    """Stop one child by PID (``sig``, then SIGKILL to its process group after ``timeout``).

    Returns the seconds it took. Safe to call twice.
    """
    if proc is None:
        return 0.0
    started = time.monotonic()
    if proc.poll() is None:
        try:
            os.kill(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    try:  # workers left behind by a main process that died first
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return time.monotonic() - started


def _bindable(host: str, port: int, kinds: Sequence[int]) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    socks: list[socket.socket] = []
    try:
        for kind in kinds:
            sock = socket.socket(family, kind)
            socks.append(sock)
            if kind == socket.SOCK_STREAM:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
        return True
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        return False
    finally:
        for sock in socks:
            sock.close()


def free_port(hosts: Sequence[str] = ("127.0.0.1",), udp: bool = True, tcp: bool = True) -> int:
    """A port that is free for the asked socket kinds on every host in ``hosts``.

    The kernel picks a candidate (bind to port 0), then the others are checked on it.
    """
    kinds = [k for k, on in ((socket.SOCK_DGRAM, udp), (socket.SOCK_STREAM, tcp)) if on]
    for _ in range(200):
        with socket.socket(socket.AF_INET, kinds[0]) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if all(_bindable(host, port, kinds) for host in hosts):
            return port
    raise PeerError("no free port found")


def free_port_range(
    count: int, host: str = "127.0.0.1", low: int = 20000, high: int = 30000
) -> tuple[int, int]:
    """``count`` consecutive UDP ports free on ``host`` (for RTP), chosen at random."""
    rng = random.Random()
    for _ in range(200):
        first = rng.randrange(low, high - count) & ~1
        if all(_bindable(host, p, (socket.SOCK_DGRAM,)) for p in range(first, first + count)):
            return first, first + count - 1
    raise PeerError(f"no range of {count} free UDP ports in {low}-{high}")


def port_accepts(host: str, port: int, timeout: float = 0.2) -> bool:
    """True when a TCP connect to ``host:port`` succeeds."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def make_self_signed_cert(
    directory: Path, name: str = "cert", common_name: str = "127.0.0.1"
) -> tuple[Path, Path]:
    """A self-signed RSA certificate valid for 127.0.0.1, ::1 and localhost (via openssl).

    Returns ``(cert_path, key_path)``; the certificate is its own CA.
    """
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            f"/CN={common_name}",
            "-addext",
            "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key
