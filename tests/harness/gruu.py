"""Register a contact with a GRUU (RFC 5627) at the test Kamailio, from a given UDP port.

A far end such as Linphone registers with ``+sip.instance`` and ``Supported: gruu`` and then
puts its public GRUU (``sip:bob@domain;gr=urn:uuid:...``) as the Contact of its dialogs. SIPp
cannot register and answer calls in one scenario, so the test registers here, from the port
SIPp then listens on, and hands SIPp the GRUU Kamailio gave out.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import socket

from tests.harness._process import PeerError

__all__ = ["register_with_gruu"]

_PARAMS = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]+))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - SIP digest is MD5


def _request(
    registrar: tuple[str, int], port: int, user: str, instance: str, cseq: int, call_id: str,
    auth: str = "",
) -> bytes:
    host = registrar[0]
    lines = [
        f"REGISTER sip:{host} SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};rport;branch=z9hG4bK{secrets.token_hex(8)}",
        "Max-Forwards: 70",
        f"From: <sip:{user}@{host}>;tag={secrets.token_hex(4)}",
        f"To: <sip:{user}@{host}>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        f'Contact: <sip:{user}@127.0.0.1:{port}>;+sip.instance="<{instance}>";expires=300',
        "Supported: gruu",
        *([auth] if auth else []),
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _authorization(challenge: str, user: str, password: str, uri: str) -> str:
    params = {m[0].lower(): m[1] or m[2] for m in _PARAMS.findall(challenge)}
    realm, nonce = params["realm"], params["nonce"]
    ha1 = _md5(f"{user}:{realm}:{password}")
    ha2 = _md5(f"REGISTER:{uri}")
    parts = [f'username="{user}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"']
    if "auth" in params.get("qop", "").split(","):
        cnonce, nc = secrets.token_hex(8), "00000001"
        response = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        parts += ["qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
    else:
        response = _md5(f"{ha1}:{nonce}:{ha2}")
    parts += [f'response="{response}"', "algorithm=MD5"]
    return "Authorization: Digest " + ", ".join(parts)


def register_with_gruu(
    registrar: str, user: str, password: str, port: int, timeout: float = 5.0
) -> str:
    """REGISTER ``user`` with a Contact on ``127.0.0.1:port``; the public GRUU returned."""
    host, _, port_text = registrar.rpartition(":")
    target = (host, int(port_text))
    instance = f"urn:uuid:{secrets.token_hex(4)}-0000-4000-8000-{secrets.token_hex(6)}"
    call_id = secrets.token_hex(10)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", port))
        sock.settimeout(timeout)
        sock.sendto(_request(target, port, user, instance, 1, call_id), target)
        reply = sock.recv(65535).decode(errors="replace")
        challenge = re.search(r"^WWW-Authenticate:\s*Digest\s+(.+)$", reply, re.M | re.I)
        if challenge is None:
            raise PeerError(f"no digest challenge: {reply.splitlines()[0]}")
        auth = _authorization(challenge.group(1).strip(), user, password, f"sip:{host}")
        sock.sendto(_request(target, port, user, instance, 2, call_id, auth), target)
        reply = sock.recv(65535).decode(errors="replace")
    if not reply.startswith("SIP/2.0 200"):
        raise PeerError(f"REGISTER failed: {reply.splitlines()[0]}")
    # the 200 lists every contact of the AOR (earlier registrations too): take ours
    lines = re.findall(r"^(?:Contact|m):(.*)$", reply, re.M | re.I)
    for contact in (c for line in lines for c in re.split(r",(?=\s*<)", line)):
        gruu = re.search(r'pub-gruu="([^"]+)"', contact)
        if f"127.0.0.1:{port}>" in contact and gruu is not None:
            return gruu.group(1)
    raise PeerError("the registrar gave no public GRUU for this contact")
