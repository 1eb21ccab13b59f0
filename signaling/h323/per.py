"""Aligned PER through pycrate's compiled ITU-T modules (H.225.0 2009-12, H.245 2011-05).

Values use pycrate's Python shapes: SEQUENCE ``dict``, CHOICE ``(name, value)``, OBJECT IDENTIFIER
``tuple[int, ...]``, OCTET STRING ``bytes``, NULL ``0``. pycrate's type objects keep state between
calls, so these functions are for one thread (the asyncio loop) at a time; every failure becomes a
:class:`~signaling.h323.errors.PerError` that names the type.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from pycrate_asn1dir import H225, H245
from pycrate_asn1rt import asnobj_construct
from pycrate_asn1rt.codecs import ASN1CodecPER

from signaling.h323.errors import PerError

__all__ = [
    "decode_h245",
    "decode_open_logical_channel",
    "decode_ras",
    "decode_user_information",
    "encode_h245",
    "encode_open_logical_channel",
    "encode_ras",
    "encode_user_information",
]

_USER_INFORMATION = H225.H323_MESSAGES.H323_UserInformation
_RAS_MESSAGE = H225.H323_MESSAGES.RasMessage
_H245_MESSAGE = H245.MULTIMEDIA_SYSTEM_CONTROL.MultimediaSystemControlMessage
_OPEN_LOGICAL_CHANNEL = H245.MULTIMEDIA_SYSTEM_CONTROL.OpenLogicalChannel
_lock = threading.Lock()  # pycrate objects are shared; the peer may run in a thread in tests


def _patch_extension_padding() -> None:
    """Fix pycrate 0.8's aligned-PER padding of SEQUENCE extension additions.

    ``_CONSTRUCT._to_per`` encodes the extension additions (open types) *before* it writes the
    extension bitmap, so each open type's length determinant is aligned from the offset in front
    of the bitmap. When that offset is not a byte boundary, bogus padding bits land in the output
    (e.g. a ReleaseComplete-UUIE with ``reason`` plus ``callIdentifier`` no longer decodes). After
    the bitmap the encoder pads to a byte boundary and every open type is whole bytes, so these
    length determinants never need padding: drop it when called from that method only.
    """
    construct = getattr(asnobj_construct, "_CONSTRUCT", None)
    if construct is None or getattr(ASN1CodecPER, "_crcgw_patched", False):
        return  # another pycrate layout: tests/h323 would show whether it needs the fix
    construct_code = construct._to_per.__code__

    def unpadded(original: Any) -> Any:
        def encode(cla: Any, arg: Any) -> Any:
            if cla.ALIGNED and sys._getframe(1).f_code is construct_code:
                saved = cla._off[-1]
                cla._off[-1] = 0  # aligned here: suppress the pad, keep the count modulo 8
                try:
                    return original(arg)
                finally:
                    cla._off[-1] += saved
            return original(arg)

        return classmethod(encode)

    ASN1CodecPER.encode_unconst_open = unpadded(ASN1CodecPER.encode_unconst_open)
    ASN1CodecPER.encode_unconst_buf = unpadded(ASN1CodecPER.encode_unconst_buf)
    ASN1CodecPER._crcgw_patched = True


_patch_extension_padding()


def _decode(asn: Any, what: str, data: bytes) -> Any:
    if not data:
        raise PerError(f"undecodable {what}: no bytes")
    with _lock:
        try:
            asn.from_aper(data)
            return asn.get_val()
        except Exception as exc:  # pycrate raises several unrelated types for bad input
            raise PerError(f"undecodable {what} ({len(data)} bytes): {_short(exc)}") from exc


def _encode(asn: Any, what: str, value: Any) -> bytes:
    with _lock:
        try:
            asn.set_val(value)
            data: bytes = asn.to_aper()
        except Exception as exc:
            raise PerError(f"cannot encode {what}: {_short(exc)}") from exc
    return data


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first if len(first) <= 160 else first[:157] + "..."


def decode_user_information(data: bytes) -> dict[str, Any]:
    """The H323-UserInformation carried in a Q.931 user-user IE."""
    value: dict[str, Any] = _decode(_USER_INFORMATION, "H323-UserInformation", data)
    return value


def encode_user_information(value: dict[str, Any]) -> bytes:
    return _encode(_USER_INFORMATION, "H323-UserInformation", value)


def decode_ras(data: bytes) -> tuple[str, dict[str, Any]]:
    """A RAS datagram: ``('registrationRequest', {...})``."""
    value: tuple[str, dict[str, Any]] = _decode(_RAS_MESSAGE, "RasMessage", data)
    return value


def encode_ras(name: str, body: dict[str, Any]) -> bytes:
    return _encode(_RAS_MESSAGE, "RasMessage", (name, body))


def decode_h245(data: bytes) -> tuple[str, tuple[str, Any]]:
    """An H.245 message: ``('request', ('terminalCapabilitySet', {...}))``."""
    value: tuple[str, tuple[str, Any]] = _decode(
        _H245_MESSAGE, "MultimediaSystemControlMessage", data
    )
    return value


def encode_h245(value: tuple[str, tuple[str, Any]]) -> bytes:
    return _encode(_H245_MESSAGE, "MultimediaSystemControlMessage", value)


def decode_open_logical_channel(data: bytes) -> dict[str, Any]:
    """One fastStart element (an H.245 OpenLogicalChannel)."""
    value: dict[str, Any] = _decode(_OPEN_LOGICAL_CHANNEL, "OpenLogicalChannel", data)
    return value


def encode_open_logical_channel(value: dict[str, Any]) -> bytes:
    return _encode(_OPEN_LOGICAL_CHANNEL, "OpenLogicalChannel", value)
