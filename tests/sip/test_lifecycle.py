"""Engine life cycle: teardown on Ctrl-C and at interpreter exit, never an abort."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from signaling.pjsua import SipEngine
from signaling.sip.config import TlsSettings
from tests.harness import Baresip, Kamailio, make_self_signed_cert
from tests.sip.helpers import endpoint, engine_config, run_engine

pytestmark = pytest.mark.sip

ROOT = Path(__file__).resolve().parents[2]


def test_ctrl_c_during_a_call_hangs_up_and_exits_cleanly(kamailio: Kamailio, bob: Baresip) -> None:
    since = bob.mark()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-X",
            "faulthandler",
            "-m",
            "gateway",
            "dial",
            bob.aor,
            "--registrar",
            kamailio.address("udp"),
            "--user",
            "room165",
            "--password-env",
            "PW",
            "--duration",
            "60",
        ],
        cwd=ROOT,
        env={**os.environ, "PW": "room165pw"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert bob.wait_event("CALL_ESTABLISHED", 30, since) or bob.wait_event(
            "CALL_RTPESTAB", 1, since
        ), bob.log_tail()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)  # reaped and its pipes closed, whatever happened
    assert proc.returncode == 130, err  # interrupted, not aborted (134) or killed
    assert "Fatal Python error" not in err
    assert bob.wait_event("CALL_CLOSED", 5, since)  # the call was hung up on the way out


def test_engine_left_open_is_closed_at_exit(kamailio: Kamailio) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio
        from signaling.pjsua import SipEngine
        from tests.sip.helpers import endpoint, engine_config
        from tests.harness import Kamailio

        class K:  # the session Kamailio, seen from the child
            users = {{"room166": "room166pw"}}
            def address(self, transport, ipv6=False):
                return "{kamailio.address("udp")}"

        engine = SipEngine(engine_config())

        async def main():
            await engine.start()
            status = await engine.register(endpoint(K(), "room166", "udp"))
            print(status.state.value, flush=True)
            # no close(): the atexit hook must unregister and destroy pjsua2

        asyncio.run(main())
        """
    )
    out = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "registered"
    assert kamailio.contacts("room166") == []


def test_tls_client_certificate_is_presented(kamailio: Kamailio, tmp_path: Path) -> None:
    cert, key = make_self_signed_cert(tmp_path, "client", "room167")
    config = engine_config(
        kamailio,
        tls=TlsSettings(ca_file=str(kamailio.cert), cert_file=str(cert), key_file=str(key)),
    )

    async def scenario(engine: SipEngine) -> None:
        status = await engine.register(endpoint(kamailio, "room167", "tls"))
        assert status.ok, status.explanation

    run_engine(config, scenario)


def test_engine_can_be_started_again_after_close(kamailio: Kamailio) -> None:
    async def scenario(engine: SipEngine) -> float:
        started = time.monotonic()
        assert (await engine.register(endpoint(kamailio, "room168", "udp"))).ok
        return time.monotonic() - started

    for _ in range(3):
        assert run_engine(engine_config(kamailio), scenario) < 5
