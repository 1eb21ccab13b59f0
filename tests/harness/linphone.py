"""Linphone (Debian ``linphone-cli``: ``linphonec``) as a far end, registered at a test Kamailio.

``linphonec`` runs headless here once three things hold, learnt the hard way:

- its configuration file is given with ``-c`` (Debian's linphonec does not read
  ``~/.config/linphone/linphonerc``) and ``HOME`` is a private directory;
- ``$HOME/.local/share/linphone`` exists: without it the core fails to open its database and
  never starts, so no SIP listening point is ever created (what an earlier attempt saw);
- standard input stays open (end of input makes linphonec quit at once): commands such as
  ``terminate`` are written to it.

With ``-d 6 -l FILE`` belle-sip logs every SIP message it sends and receives, which is what the
tests read. There is no sound card: mediastreamer falls back to no audio device, RTP still
flows. Linphone registers with ``+sip.instance`` and ``Supported: gruu``, and Kamailio gives it
a public GRUU that it then uses as its dialog Contact.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.harness._process import PeerError, free_port, free_port_range

__all__ = ["Linphone", "linphone_available"]

_ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3} ", re.MULTILINE)


def linphone_available() -> bool:
    return shutil.which("linphonec") is not None


class Linphone:
    """One linphonec on a free UDP port, registered as ``user`` at ``registrar`` (HOST:PORT),
    answering every call itself (``-a``)."""

    def __init__(self, registrar: str, user: str, password: str) -> None:
        self.registrar, self.user, self.password = registrar, user, password
        self.home = Path(tempfile.mkdtemp(prefix="crcgw-linphone."))
        self.port = free_port(udp=True, tcp=False)
        self.log_path = self.home / "linphone.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def _write_config(self) -> Path:
        (self.home / ".local" / "share" / "linphone").mkdir(parents=True, exist_ok=True)
        low, high = free_port_range(40)
        host = self.registrar.rsplit(":", 1)[0]
        rc = self.home / "linphonerc"
        rc.write_text(
            "[sip]\n"
            f"sip_port={self.port}\nsip_tcp_port=-1\nsip_tls_port=-1\n"
            "ipv6_enabled=0\nguess_hostname=1\ndefault_proxy=0\n"
            "[rtp]\n"
            f"audio_rtp_port={low}-{high}\n"
            "[sound]\necho_cancellation=0\n"
            "[proxy_0]\n"
            f"reg_proxy=<sip:{self.registrar};transport=udp>\n"
            f"reg_identity=sip:{self.user}@{host}\n"
            "reg_expires=300\nreg_sendregister=1\npublish=0\n"
            "[auth_info_0]\n"
            f"username={self.user}\npasswd={self.password}\n"
        )
        return rc

    def start(self, timeout: float = 20.0) -> Linphone:
        rc = self._write_config()
        self._proc = subprocess.Popen(
            ["linphonec", "-c", str(rc), "-d", "6", "-l", str(self.log_path), "-a"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={"HOME": str(self.home), "PATH": "/usr/bin:/bin"}, cwd=self.home,
        )
        deadline = time.monotonic() + timeout
        while "SIP/2.0 200" not in self.responses_to("REGISTER"):
            if self._proc.poll() is not None:
                raise PeerError(f"linphonec exited with {self._proc.returncode}: {self.tail()}")
            if time.monotonic() > deadline:
                said = self.tail()
                self.stop()
                raise PeerError(f"linphonec did not register in {timeout:.0f} s: {said}")
            time.sleep(0.1)
        return self

    def command(self, line: str) -> None:
        """Type a linphonec command (``terminate``, ``answer``, ``call URI`` ...)."""
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(line.encode() + b"\n")
        self._proc.stdin.flush()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def messages(self) -> list[tuple[str, str]]:
        """Every SIP message in its log, in order: ``("sent"|"received", the message text)``
        (belle-sip logs the message on the lines after ``message sent to [...]`` or
        ``received [N] new bytes from [...]``)."""
        out = []
        for entry in _ENTRY.split(self.log()):
            head, _, text = entry.partition("\n")
            if "]: message sent to [" in head:
                out.append(("sent", text.strip()))
            elif "new bytes from [" in head:
                out.append(("received", text.strip()))
        return [(direction, text) for direction, text in out if text]

    def first_lines(self, direction: str) -> list[str]:
        return [text.strip().splitlines()[0] for d, text in self.messages()
                if d == direction and text.strip()]

    def responses_to(self, method: str) -> str:
        """The status lines of the responses it received to ``method`` (one per line)."""
        found = []
        for direction, text in self.messages():
            lines = text.strip().splitlines()
            if direction == "received" and lines and lines[0].startswith("SIP/2.0"):
                if any(re.match(rf"(?i)cseq:\s*\d+\s+{method}\b", ln) for ln in lines):
                    found.append(lines[0])
        return "\n".join(found)

    def stop(self) -> None:
        proc = self._proc
        if proc is None:
            return
        self._proc = None
        if proc.poll() is None:
            try:
                assert proc.stdin is not None
                proc.stdin.write(b"quit\n")
                proc.stdin.close()
                proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait(5)
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> Linphone:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
