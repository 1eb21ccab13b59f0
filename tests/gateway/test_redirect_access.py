"""Who may use the redirect: trusted networks, per-source rate, digest challenge, what answers
reveal. Real loopback sockets; SIPp (Debian ``sip-tester``) floods and authenticates."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr

from gateway.dialplan import DialPlan, DialRule
from gateway.sipaccess import DigestGuard, RateLimiter, TrustedSources, parse_digest
from tests.gateway.sipclient import UdpClient, exchange, invite
from tests.gateway.test_redirect import gateway, run

SIPP = Path(__file__).resolve().parent / "sipp"
needs_sipp = pytest.mark.skipif(shutil.which("sipp") is None,
                                reason="SIPp not installed (apt-get install sip-tester)")
OUTSIDE = "127.0.0.2"  # a loopback address that the tests leave out of the trusted networks


def test_rate_limiter_refills_at_its_rate_and_forgets_the_oldest_source() -> None:
    limiter = RateLimiter(rate=2.0, burst=3, max_sources=2)
    assert [limiter.take("a", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a", 0.0) == pytest.approx(0.5)
    assert limiter.take("a", 0.5) == 0.0 and limiter.take("a", 0.5) > 0
    assert limiter.take("b", 0.5) == 0.0 and limiter.take("c", 0.5) == 0.0
    assert limiter.take("a", 0.5) == 0.0  # "a" was forgotten: a fresh bucket, table bounded
    assert RateLimiter.retry_after(0.01) == 1 and RateLimiter.retry_after(2.2) == 3


def test_trusted_sources_match_networks_hosts_and_mapped_addresses() -> None:
    trusted = TrustedSources(["127.0.0.0/8", "2001:db8::/32"])
    assert trusted.allows("127.9.9.9") and trusted.allows("2001:db8::5")
    assert trusted.allows("::ffff:127.0.0.1")
    assert not trusted.allows("192.0.2.7") and not trusted.allows("garbage")
    trusted.add("192.0.2.7")
    assert trusted.allows("192.0.2.7") and not trusted.allows("192.0.2.8")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_digest_guard_accepts_right_credentials_only() -> None:
    guard = DigestGuard("crcgw", "room", SecretStr("pw-secret"), nonce_ttl=60)
    assert "pw-secret" not in repr(guard)
    (header, challenge), _ = guard.challenges(1000.0)
    params = parse_digest(challenge)
    assert header == "WWW-Authenticate" and params is not None and params["qop"] == "auth"
    nonce = params["nonce"]

    def credentials(password: str, nonce: str = nonce, user: str = "room",
                    nc: str = "00000001") -> str:
        ha1, ha2 = _md5(f"{user}:crcgw:{password}"), _md5("INVITE:sip:1@gw")
        response = _md5(f"{ha1}:{nonce}:{nc}:abc:auth:{ha2}")
        return (f'Digest username="{user}", realm="crcgw", nonce="{nonce}", uri="sip:1@gw", '
                f'response="{response}", algorithm=MD5, qop=auth, nc={nc}, cnonce="abc"')

    assert guard.check("INVITE", [credentials("pw-secret")], 1010.0) == "ok"
    assert guard.check("INVITE", [credentials("pw-secret")], 1011.0) == "stale"  # a replay
    assert guard.check("INVITE", [credentials("pw-secret", nc="00000002")], 1012.0) == "ok"
    assert guard.check("INVITE", [credentials("guess")], 1010.0) == "wrong"
    assert guard.check("INVITE", [credentials("pw-secret", user="other")], 1010.0) == "wrong"
    assert guard.check("INVITE", [credentials("pw-secret", nonce="5.forged")], 1010.0) == "wrong"
    assert guard.check("INVITE", [credentials("pw-secret")], 1100.0) == "stale"  # expired
    assert guard.check("INVITE", [], 1010.0) == "missing"
    assert guard.check("INVITE", ["Basic cm9vbTpwdw=="], 1010.0) == "missing"
    other = DigestGuard("crcgw", "room", SecretStr("pw-secret"))  # another key: not our nonce
    assert other.check("INVITE", [credentials("pw-secret")], 1010.0) == "wrong"


@pytest.mark.parametrize("conceal", [False, True])
def test_an_untrusted_source_is_refused_alike_for_every_number_and_takes_no_port(
    tmp_path: Path, conceal: bool
) -> None:
    async def main() -> None:
        async with gateway(tmp_path, trusted=("127.0.0.1/32",), conceal=conceal) as gw:
            outsider, room = UdpClient(OUTSIDE), UdpClient()
            refused = 404 if conceal else 403
            for number in ("87654321012", "12"):  # a valid and an invalid number
                replies = await exchange(outsider, invite(number, outsider.port), gw.udp)
                assert [r.status for r in replies] == [refused]
                assert replies[0].header("Contact") is None
            assert gw.store.leases() == []
            replies = await exchange(room, invite("12", room.port), gw.udp)
            assert replies[-1].status == 404  # the room does learn that 12 is no number
            replies = await exchange(room, invite("87654321012", room.port), gw.udp)
            assert replies[-1].status == 302 and len(gw.store.leases()) == 1

    run(main)


def test_a_source_over_its_rate_gets_503_with_retry_after(tmp_path: Path) -> None:
    async def main() -> None:
        async with gateway(tmp_path, pool_size=10, rate=0.2, burst=2) as gw:
            room = UdpClient()
            statuses = []
            for _ in range(3):
                replies = await exchange(room, invite("87654321012", room.port), gw.udp)
                statuses.append(replies[-1].status)
            assert statuses == [302, 302, 503]
            assert int(replies[-1].header("Retry-After") or 0) >= 1
            assert len(gw.store.leases()) == 2

    run(main)


def test_reveal_no_secrets_keeps_the_passcode_out_and_server_header_off(tmp_path: Path) -> None:
    async def main() -> None:
        async with gateway(tmp_path, reveal="no-secrets", server="") as gw:
            room = UdpClient()
            replies = await exchange(room, invite("87654321012*4321", room.port), gw.udp)
            final = replies[-1]
            assert final.status == 302
            assert final.header("Contact") == "<sip:87654321012@zoomcrc.com>"
            assert b"4321" not in b"".join(r.raw for r in replies).split(b"\r\nTo:")[0]
            assert all(r.header("Server") is None for r in replies)

    run(main)


async def _sipp(*args: str, timeout: float = 120.0) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        "sipp", *args, "-nostdin", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, err.decode(errors="replace")


@needs_sipp
def test_an_invite_flood_from_an_untrusted_source_leaves_every_port_free(tmp_path: Path) -> None:
    async def main() -> None:
        plan = DialPlan.from_rules([DialRule(r"(?P<meeting_id>\d{9,11})")])
        async with gateway(tmp_path, pool_size=2, plan=plan, trusted=("127.0.0.1/32",)) as gw:
            host, port = gw.udp
            rc, err = await _sipp("-sf", str(SIPP / "invite_flood.xml"), "-s", "87654321012",
                                  "-i", OUTSIDE, "-p", "0", "-m", "300", "-r", "300",
                                  "-timeout", "60s", f"{host}:{port}")
            assert rc == 0, err[-500:]
            refused = gw.metrics.redirects.labels("403")._value.get()
            dropped = gw.metrics.redirects.labels("dropped")._value.get()
            assert refused + dropped == 300 and refused >= 1  # every INVITE arrived and judged
            assert gw.store.leases() == []
            room = UdpClient()
            for n in range(2):  # both ports are there for the rooms
                replies = await exchange(room, invite(f"8765432101{n}", room.port), gw.udp)
                assert replies[-1].status == 302
            assert len(gw.store.leases()) == 2

    run(main)


@needs_sipp
@pytest.mark.parametrize(("password", "redirected"), [("pw-secret", True), ("guess", False)])
def test_sipp_answers_the_digest_challenge(tmp_path: Path, password: str,
                                           redirected: bool) -> None:
    async def main() -> None:
        guard = DigestGuard("crcgw", "room", SecretStr("pw-secret"))
        async with gateway(tmp_path, auth=guard) as gw:
            host, port = gw.udp
            rc, err = await _sipp("-sf", str(SIPP / "digest_invite.xml"), "-s", "87654321012",
                                  "-au", "room", "-ap", password, "-i", "127.0.0.1", "-p", "0",
                                  "-m", "1", "-timeout", "30s", f"{host}:{port}")
            assert (rc == 0) is redirected, err[-500:]
            assert gw.metrics.redirects.labels("401")._value.get() == 1
            assert len(gw.store.leases()) == (1 if redirected else 0)
            if not redirected:
                assert "403 Forbidden" in err

    run(main)


def test_a_catastrophic_dial_plan_rule_does_not_stall_the_service(tmp_path: Path) -> None:
    """INVITEs that make a backtracking engine run for minutes (``(\\d+)+`` against 28 digits
    and no ``#``: ~10 s in Python's re, doubling per digit) while OPTIONS are answered."""

    async def main() -> None:
        plan = DialPlan.from_rules([DialRule(r"(?P<meeting_id>(\d+)+)#", name="nested")])
        async with gateway(tmp_path, plan=plan) as gw:
            attacker, monitor = UdpClient(), UdpClient()
            loop = asyncio.get_running_loop()
            rtts: list[float] = []
            for n in range(5):
                await attacker.send(invite("1" * (28 + n), attacker.port), gw.udp)
                started = loop.time()
                await monitor.send(invite("87654321012", monitor.port, method="OPTIONS"), gw.udp)
                reply = await monitor.recv(timeout=120)
                rtts.append(loop.time() - started)
                assert reply is not None and reply.status == 200
            finals = [r.status for r in await attacker.replies(quiet=0.5) if r.status >= 200]
            assert finals[:5] == [404] * 5
            # The reply arrives in well under 50 ms on an idle machine; 0.5 s leaves room for
            # a loaded one, while the backtracking engine needs seconds for the first INVITE.
            assert max(rtts) < 0.5, rtts
            print(f"OPTIONS round trips behind a catastrophic INVITE: {rtts}")

    run(main)


def test_the_rooms_registrars_are_trusted_when_the_service_starts(tmp_path: Path) -> None:
    async def main() -> None:
        async with gateway(tmp_path, trusted=("192.0.2.0/24",),
                           trusted_hosts=(f"{OUTSIDE}:5060",)) as gw:
            registrar, other = UdpClient(OUTSIDE), UdpClient()
            replies = await exchange(registrar, invite("87654321012", registrar.port), gw.udp)
            assert replies[-1].status == 302
            replies = await exchange(other, invite("87654321012", other.port), gw.udp)
            assert replies[-1].status == 403

    run(main)


def test_settings_from_the_configuration() -> None:
    from gateway.config import GatewayConfig
    from gateway.redirect import RedirectSettings

    config = GatewayConfig.model_validate({"sip": {"redirect": {
        "trust_registrars": False, "rate": 7, "conceal": True, "server_header": False,
        "auth": {"user": "rooms", "password_env": "GW_DIGEST"}}}})
    settings = RedirectSettings.from_config(config.sip, ["192.0.2.9"],
                                            environ={"GW_DIGEST": "pw-from-env"})
    assert settings.trusted_hosts == () and settings.rate == 7 and settings.conceal
    assert settings.server == "" and settings.auth is not None
    assert settings.auth.password.get_secret_value() == "pw-from-env"
    assert "pw-from-env" not in repr(settings)
