"""Failures in words a room engineer understands, naming the endpoint and the transport."""

from __future__ import annotations

from collections.abc import Sequence

from signaling.sip.types import CauseOrigin, Transport

__all__ = ["TLS_PROBLEMS", "explain_call_end", "explain_registration_failure"]

# name (as the adapter reports pjsip's certificate verification flags) -> words
TLS_PROBLEMS = {
    "untrusted": "the certificate is not signed by a trusted CA (check --ca)",
    "issuer_not_found": "the certificate's issuer is not in the CA list (check --ca)",
    "identity_mismatch": "the certificate does not name the host dialled",
    "expired": "the certificate is expired or not yet valid",
    "revoked": "the certificate was revoked",
    "weak_signature": "the certificate uses a weak signature",
    "invalid_format": "the certificate could not be read",
    "invalid_purpose": "the certificate is not meant for a TLS server",
    "chain_too_long": "the certificate chain is too long",
    "unknown": "the certificate failed verification",
}


def _is_tls_failure(reason: str) -> bool:
    text = reason.lower()
    return "ssl" in text or "tls" in text or "certificate" in text


def _is_dns_failure(reason: str) -> bool:
    text = reason.lower()
    return any(
        key in text for key in ("resolve", "dns", "gethostbyname", "getaddrinfo", "name or service")
    )


def explain_registration_failure(
    endpoint: str,
    transport: Transport,
    registrar: str,
    code: int | None,
    reason: str,
    tls_problems: Sequence[str] = (),
    timeout_s: float | None = None,
) -> str:
    """One sentence: what failed, for whom, over what, and what to check.

    >>> text = explain_registration_failure("room1", Transport.TCP, "10.0.0.5:5060", 403, "No")
    >>> text.split(": check")[0]
    'room1: registrar 10.0.0.5:5060 over TCP refused the credentials (403 No)'
    """
    where = f"registrar {registrar} over {transport.value.upper()}"
    said = f"{code} {reason}".strip() if code else reason
    if tls_problems or (code in (502, 503, 171) and _is_tls_failure(reason)):
        checks = "; ".join(TLS_PROBLEMS.get(p, p) for p in tls_problems) or TLS_PROBLEMS["unknown"]
        return (
            f"{endpoint}: the TLS connection to registrar {registrar} failed certificate "
            f"verification: {checks} ({said})"
        )
    if _is_dns_failure(reason):
        return f"{endpoint}: cannot resolve the address of {where}: check the name and DNS ({said})"
    if code in (401, 407):
        return (
            f"{endpoint}: {where} rejected the credentials ({said}): "
            "check the user name, authorization name and password"
        )
    if code == 403:
        return (
            f"{endpoint}: {where} refused the credentials ({said}): "
            "check the user name and password"
        )
    if code == 404:
        return f"{endpoint}: {where} does not know this user or domain ({said})"
    if code == 408:
        waited = f" within {timeout_s:g} s" if timeout_s else ""
        return (
            f"{endpoint}: no answer from {where}{waited} ({said}): "
            "is it running and reachable, is a firewall dropping SIP?"
        )
    if code == 423:
        return f"{endpoint}: {where} wants a longer registration expiry ({said})"
    if code == 503 and "refused" in reason.lower():
        return (
            f"{endpoint}: {where} refused the connection ({said}): "
            "nothing listens on that address and port"
        )
    if code is not None and code >= 500:
        return f"{endpoint}: {where} is unavailable ({said})"
    return f"{endpoint}: registration at {where} failed ({said})"


def explain_call_end(
    code: int | None, reason: str, connected: bool, origin: CauseOrigin | None = None
) -> str | None:
    """Why a call ended, when it ended abnormally (``None`` for a normal hang-up). With
    ``origin`` the text says whether the code came from the far end or was made locally."""
    if connected and (code is None or code < 300):
        return None
    said = f"{code} {reason}".strip() if code else reason
    if origin is CauseOrigin.RECEIVED:
        said += ", received from the far end"
    elif origin is CauseOrigin.LOCAL:
        said += ", made locally"
    local = origin is CauseOrigin.LOCAL
    if local and code in (415, 488):
        return f"no codec in common with the far end ({said})"
    if local and code == 406:
        return f"the far end answered without SDP or an unusable one ({said})"
    if code in (401, 407, 403):
        return f"the proxy refused the caller's credentials ({said})"
    if code == 404:
        return f"the number or meeting does not exist there ({said})"
    if code == 408:
        return f"no answer in time ({said})"
    if code == 480:
        return f"the callee is not available right now ({said})"
    if code == 486 or code == 600:
        return f"the callee is busy ({said})"
    if code == 487:
        return f"the call was cancelled before it was answered ({said})"
    if code == 488:
        return f"no common codec or media security setting ({said})"
    if code == 603:
        return f"the callee declined the call ({said})"
    if code is not None and code >= 500:
        return f"the far end or a proxy failed ({said})"
    return f"the call ended ({said})"
