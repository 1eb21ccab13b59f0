"""baresip as an independent SIP user agent for tests and benches, driven over ``ctrl_tcp``.

>>> with Baresip("bob", "bobpw", registrar=kam.address("udp")) as bob:   # doctest: +SKIP
...     bob.wait_registered()
...     ...                                  # call sip:bob@127.0.0.1 through Kamailio
...     bob.wait_event("CALL_ESTABLISHED")
...     bob.dtmf_received()                  # digits baresip got as RFC 4733 events
...     bob.send_dtmf("9"); bob.hangup()

Auto-answers by default, listens on free ports (SIP, control, RTP), plays to ALSA's ``null``
device and sends a sine tone, so no sound card is needed. baresip 1.0 (Debian ``baresip-core``).
It is our direct child, killed if the test process dies, stopped by its PID.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

from tests.harness._process import Peer, PeerError, free_port, free_port_range, spawn, stop_process

__all__ = ["Baresip", "baresip_available"]

# baresip looks a bare codec name up at 8000 Hz; G.722 registers as 16000 Hz
_CODEC_IDS = {"G722": "G722/16000/1"}

_MODULE_DIRS = ("/usr/lib/baresip/modules", "/usr/local/lib/baresip/modules")

_CONFIG = """\
poll_method		epoll
sip_listen		127.0.0.1:{sip_port}
net_interface		127.0.0.1
call_local_timeout	120
call_max_calls		16
audio_player		alsa,null
audio_source		ausine,440
audio_alert		alsa,null
ausrc_srate		48000
ausrc_channels		2
audio_level		no
rtp_ports		{rtp_low}-{rtp_high}
rtp_timeout		0
jitter_buffer_delay	5-10
module_path		{module_path}
module			g711.so
module			g722.so
module			ausine.so
module			alsa.so
module			srtp.so
module_app		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:{ctrl_port}
"""


def _module_path() -> Path | None:
    env = os.environ.get("BARESIP_MODULE_PATH")
    candidates = (env,) if env else _MODULE_DIRS
    for directory in candidates:
        if directory and Path(directory, "ctrl_tcp.so").exists():
            return Path(directory)
    return None


def _free_sip_port() -> int:
    """A port free for UDP and TCP whose next port is free for TCP too: baresip listens for
    SIP over TLS on ``sip_port + 1``."""
    for _ in range(100):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise PeerError("no free pair of ports for baresip")


def baresip_available() -> bool:
    """True when the baresip binary and its modules (incl. ctrl_tcp) are installed."""
    return shutil.which("baresip") is not None and _module_path() is not None


class Baresip(Peer):
    """One baresip UA with one account ``user``.

    ``registrar`` is ``HOST:PORT`` of a registrar (REGISTERs through it, digest ``password``),
    or ``None`` to only listen: then call it directly at :attr:`direct_uri`.
    ``answer`` is baresip's answer mode (``auto`` or ``manual``); ``codecs`` its audio codec
    list in order; ``media_encryption`` ``None``, ``"srtp"`` (optional) or ``"srtp-mand"``.
    """

    def __init__(
        self,
        user: str = "bob",
        password: str = "bobpw",
        registrar: str | None = None,
        transport: str = "udp",
        answer: str = "auto",
        codecs: Sequence[str] = ("PCMU", "PCMA", "G722"),
        media_encryption: str | None = None,
        workdir: Path | None = None,
        video: Sequence[str] = (),
        video_size: tuple[int, int] = (352, 288),
        video_fps: int = 10,
    ) -> None:
        self.user, self.password, self.registrar = user, password, registrar
        self.transport, self.answer_mode = transport, answer
        self.codecs, self.media_encryption = tuple(codecs), media_encryption
        self.video, self.video_size, self.video_fps = tuple(video), video_size, video_fps
        self.dir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="crcgw-baresip."))
        self.sip_port = _free_sip_port()
        self.ctrl_port = free_port(udp=False)
        self.rtp_low, self.rtp_high = free_port_range(20)
        self.log_path = self.dir / "baresip.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._cond = threading.Condition()
        self._events: list[dict[str, Any]] = []
        self._responses: list[dict[str, Any]] = []
        self._token = 0
        self.start_s = 0.0

    # -- addresses ----------------------------------------------------------------------------

    @property
    def aor(self) -> str:
        """The address of record, ``sip:USER@127.0.0.1`` (reach it through the registrar)."""
        return f"sip:{self.user}@127.0.0.1"

    @property
    def direct_uri(self) -> str:
        """Where baresip itself listens (no registrar needed)."""
        return f"sip:{self.user}@127.0.0.1:{self.sip_port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    # -- life cycle ---------------------------------------------------------------------------

    def _account_line(self) -> str:
        codecs = ",".join(_CODEC_IDS.get(c, c) for c in self.codecs)
        params = [f"answermode={self.answer_mode}", f"audio_codecs={codecs}"]
        if self.media_encryption:
            params.append(f"mediaenc={self.media_encryption}")
        if self.registrar:
            outbound = f"sip:{self.registrar};transport={self.transport}"
            params += [f"auth_pass={self.password}", "regint=60", f'outbound="{outbound}"']
            uri = f"<sip:{self.user}@127.0.0.1;transport={self.transport}>"
        else:
            params.append("regint=0")
            uri = f"<sip:{self.user}@127.0.0.1>"
        return uri + "".join(f";{p}" for p in params) + "\n"

    def _video_config(self) -> str:
        """Video with ``fakevideo`` (a moving test source and a display that only counts
        frames), the codec modules of :attr:`video` (``VP8``, ``H264``: avcodec, Debian
        ``baresip-ffmpeg``) and ``snapshot`` (``snapshot_recv FILE.png`` saves a decoded
        frame)."""
        modules = {"VP8": "vp8.so", "H264": "avcodec.so"}
        lines = [f"module\t\t\t{modules[c]}" for c in self.video]
        width, height = self.video_size
        lines += [
            "module\t\t\tfakevideo.so",
            "module_app\t\tsnapshot.so",
            "video_source\t\tfakevideo,nil",
            "video_display\t\tfakevideo,nil",
            f"video_size\t\t{width}x{height}",
            f"video_fps\t\t{self.video_fps}",
            "video_bitrate\t\t300000",
        ]
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = 10.0) -> Self:
        module_path = _module_path()
        if module_path is None:
            raise PeerError("baresip modules not found: apt-get install baresip-core")
        started = time.monotonic()
        (self.dir / "config").write_text(
            _CONFIG.format(
                sip_port=self.sip_port,
                ctrl_port=self.ctrl_port,
                rtp_low=self.rtp_low,
                rtp_high=self.rtp_high,
                module_path=module_path,
            )
        )
        if self.video:
            with (self.dir / "config").open("a") as config:
                config.write(self._video_config())
        (self.dir / "accounts").write_text(self._account_line())
        (self.dir / "contacts").write_text("")
        # SIGKILL on our death: on SIGTERM baresip waits for un-REGISTER (up to 32 s).
        self._proc = spawn(["baresip", "-f", str(self.dir), "-v"], self.log_path, signal.SIGKILL)
        deadline = started + timeout
        while True:
            if self._proc.poll() is not None:
                raise PeerError(f"baresip exited at start: {self.log_tail()}")
            try:
                self._sock = socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise PeerError("baresip ctrl_tcp not reachable") from None
                time.sleep(0.02)
        self._sock.settimeout(None)
        threading.Thread(target=self._read, name="baresip-ctrl", daemon=True).start()
        self.start_s = time.monotonic() - started
        return self

    def stop(self) -> float:
        """Close the control connection and stop baresip by PID; idempotent."""
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._sock.close()
            self._sock = None
        took = stop_process(self._proc, timeout=2.0)
        self._proc = None
        return took

    # -- control ------------------------------------------------------------------------------

    def _read(self) -> None:
        sock, buf = self._sock, b""
        while sock is not None:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            while b":" in buf:
                length, rest = buf.split(b":", 1)
                size = int(length)
                if len(rest) < size + 1:
                    break
                message, buf = json.loads(rest[:size]), rest[size + 1 :]
                message["_t"] = time.monotonic()
                with self._cond:
                    (self._events if message.get("event") else self._responses).append(message)
                    self._cond.notify_all()

    def command(self, command: str, params: str | None = None, timeout: float = 5.0) -> Any:
        """Send one ctrl_tcp command; returns baresip's response (``{"ok": ..., "data": ...}``)."""
        if self._sock is None:
            raise PeerError("baresip is not running")
        with self._cond:
            self._token += 1
            token = str(self._token)
        body: dict[str, str] = {"command": command, "token": token}
        if params is not None:
            body["params"] = params
        raw = json.dumps(body).encode()
        self._sock.sendall(b"%d:%s," % (len(raw), raw))
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for response in self._responses:
                    if response.get("token") == token:
                        self._responses.remove(response)
                        return response
                left = deadline - time.monotonic()
                if left <= 0:
                    raise PeerError(f"baresip did not answer {command!r}")
                self._cond.wait(left)

    def mark(self) -> int:
        """Position in the event list; pass it as ``since`` to wait only for newer events."""
        with self._cond:
            return len(self._events)

    def events(self, kind: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        with self._cond:
            return [e for e in self._events[since:] if kind is None or e.get("type") == kind]

    def wait_event(self, kind: str, timeout: float = 10.0, since: int = 0) -> dict[str, Any] | None:
        """The first event of type ``kind`` (``CALL_ESTABLISHED``, ``CALL_CLOSED``, ...)
        received at or after position ``since``; ``None`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self._events[since:]:
                    if event.get("type") == kind:
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def wait_registered(self, timeout: float = 10.0) -> bool:
        """True once ``reginfo`` reports the account registered (REGISTER_OK fires too early
        for a ctrl_tcp client to see it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = str(self.command("reginfo").get("data", ""))
            if " OK " in info or "\x1b[32mOK" in info:
                return True
            time.sleep(0.05)
        return False

    def dtmf_received(self, since: int = 0) -> str:
        """Digits received as RFC 4733 events (``CALL_DTMF_START``), in order."""
        return "".join(str(e.get("param", "")) for e in self.events("CALL_DTMF_START", since))

    def wait_dtmf(self, digits: str, timeout: float = 10.0, since: int = 0) -> str:
        """Wait until ``digits`` were received (or the timeout); returns what arrived."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = "".join(
                    str(e.get("param", ""))
                    for e in self._events[since:]
                    if e.get("type") == "CALL_DTMF_START"
                )
                left = deadline - time.monotonic()
                if len(got) >= len(digits) or left <= 0:
                    return got
                self._cond.wait(left)

    def send_dtmf(self, digits: str) -> None:
        """Send ``digits`` on the current call (RFC 4733)."""
        for digit in digits:
            self.command("sndcode", digit)

    def dial(self, uri: str) -> None:
        self.command("dial", uri)

    def answer(self) -> None:
        self.command("accept")

    def hangup(self) -> None:
        self.command("hangup")
