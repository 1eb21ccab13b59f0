"""Q.931 messages as H.225.0 uses them, sans I/O: :meth:`Q931Message.parse` and ``bytes()``.

Header: protocol discriminator ``0x08``, call-reference length (2 in H.225.0), the call reference
with its flag bit (set by the side that did not originate the call) and the message type. Then the
information elements in ascending order; all are ``id, length, contents`` except the user-user IE
(``0x7E``), whose length has two bytes in H.225.0, and single-octet IEs (``id >= 0x80``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from signaling.h323.errors import Q931Error

__all__ = [
    "BearerCapability",
    "Cause",
    "IE",
    "MessageType",
    "PartyNumber",
    "Q931Message",
    "UU_PROTOCOL_X208",
]

PROTOCOL_DISCRIMINATOR = 0x08
UU_PROTOCOL_X208 = 0x05  # user-user protocol discriminator: X.208/X.209 coded user information


class MessageType(IntEnum):
    ALERTING = 0x01
    CALL_PROCEEDING = 0x02
    PROGRESS = 0x03
    SETUP = 0x05
    CONNECT = 0x07
    SETUP_ACKNOWLEDGE = 0x0D
    RELEASE_COMPLETE = 0x5A
    FACILITY = 0x62
    NOTIFY = 0x6E
    STATUS_ENQUIRY = 0x75
    INFORMATION = 0x7B
    STATUS = 0x7D

    @property
    def title(self) -> str:
        """``'Release Complete'``: the name as people write it."""
        return self.name.replace("_", " ").title()


class IE(IntEnum):
    BEARER_CAPABILITY = 0x04
    CAUSE = 0x08
    CALL_STATE = 0x14
    PROGRESS_INDICATOR = 0x1E
    DISPLAY = 0x28
    CALLING_PARTY_NUMBER = 0x6C
    CALLED_PARTY_NUMBER = 0x70
    USER_USER = 0x7E


def message_name(message_type: int) -> str:
    """``'Setup'``, or ``'unknown (0x42)'`` for a type this module does not name."""
    try:
        return MessageType(message_type).title
    except ValueError:
        return f"unknown (0x{message_type:02x})"


@dataclass(frozen=True, slots=True)
class BearerCapability:
    """Octets 3-5 of the bearer capability IE; defaults are H.323's 64 kbit/s H.221 call."""

    transfer_capability: int = 0x08  # unrestricted digital information
    transfer_rate: int = 0x10  # 64 kbit/s (0x18 = multirate)
    layer1_protocol: int | None = 0x05  # Recommendation H.221 and H.242
    rate_multiplier: int | None = None  # only with transfer_rate 0x18
    coding_standard: int = 0

    def encode(self) -> bytes:
        out = bytearray((0x80 | (self.coding_standard & 3) << 5 | self.transfer_capability & 0x1F,))
        out.append(0x80 | self.transfer_rate & 0x1F)
        if self.transfer_rate == 0x18:
            out.append(0x80 | (self.rate_multiplier or 1) & 0x7F)
        if self.layer1_protocol is not None:
            out.append(0x80 | 0x20 | self.layer1_protocol & 0x1F)
        return bytes(out)

    @classmethod
    def decode(cls, data: bytes) -> BearerCapability:
        if len(data) < 2:
            raise Q931Error(f"bearer capability IE has {len(data)} bytes, needs at least 2")
        rate = data[1] & 0x1F
        index = 2
        multiplier = None
        if rate == 0x18:
            if len(data) < 3:
                raise Q931Error("bearer capability IE: multirate without its rate multiplier")
            multiplier = data[2] & 0x7F
            index = 3
        layer1 = None
        if len(data) > index and (data[index] >> 5) & 3 == 1:
            layer1 = data[index] & 0x1F
        return cls(data[0] & 0x1F, rate, layer1, multiplier, (data[0] >> 5) & 3)


@dataclass(frozen=True, slots=True)
class PartyNumber:
    """Called or calling party number: type of number, numbering plan and IA5 digits."""

    digits: str
    type_of_number: int = 0  # unknown
    numbering_plan: int = 1  # ISDN/telephony (E.164)
    presentation: int | None = None  # octet 3a, calling party only

    def encode(self) -> bytes:
        try:
            digits = self.digits.encode("ascii")
        except UnicodeEncodeError as exc:
            raise Q931Error(f"party number digits must be ASCII: {exc.reason}") from exc
        first = (self.type_of_number & 7) << 4 | self.numbering_plan & 0x0F
        if self.presentation is None:
            return bytes((0x80 | first,)) + digits
        return bytes((first, 0x80 | self.presentation & 0x7F)) + digits

    @classmethod
    def decode(cls, data: bytes) -> PartyNumber:
        if not data:
            raise Q931Error("party number IE is empty")
        presentation = None
        index = 1
        if not data[0] & 0x80:
            if len(data) < 2:
                raise Q931Error("party number IE: octet 3a announced but missing")
            presentation = data[1] & 0x7F
            index = 2
        digits = data[index:].decode("ascii", errors="replace")
        return cls(digits, (data[0] >> 4) & 7, data[0] & 0x0F, presentation)


@dataclass(frozen=True, slots=True)
class Cause:
    """The cause IE: a Q.850 value, where it was generated, and optional diagnostics."""

    value: int
    location: int = 0  # user
    coding_standard: int = 0
    diagnostics: bytes = b""

    def encode(self) -> bytes:
        first = 0x80 | (self.coding_standard & 3) << 5 | self.location & 0x0F
        return bytes((first, 0x80 | self.value & 0x7F)) + self.diagnostics

    @classmethod
    def decode(cls, data: bytes) -> Cause:
        index = 1
        if len(data) >= 1 and not data[0] & 0x80:
            index = 2  # octet 3a: recommendation
        if len(data) < index + 1:
            raise Q931Error(f"cause IE has {len(data)} bytes, too short for a cause value")
        return cls(data[index] & 0x7F, data[0] & 0x0F, (data[0] >> 5) & 3, data[index + 1 :])


@dataclass(frozen=True, slots=True)
class Q931Message:
    """One Q.931 message; the H.225.0 information elements have typed fields.

    ``user_user`` holds the PER-encoded H323-UserInformation (the IE's contents after its
    protocol discriminator). IEs without a field here are kept in ``other_ies`` as
    ``(id, contents)`` pairs and written back in order.
    """

    message_type: int
    call_reference: int
    from_destination: bool = False
    bearer_capability: BearerCapability | None = None
    cause: Cause | None = None
    display: str | None = None
    calling_number: PartyNumber | None = None
    called_number: PartyNumber | None = None
    user_user: bytes | None = None
    other_ies: tuple[tuple[int, bytes], ...] = field(default=())

    @property
    def name(self) -> str:
        return message_name(self.message_type)

    def __bytes__(self) -> bytes:
        if not 0 <= self.call_reference < 0x8000:
            raise Q931Error(f"call reference {self.call_reference} outside 0..32767")
        if not 0 <= self.message_type < 0x80:
            raise Q931Error(f"message type 0x{self.message_type:x} outside 0..0x7f")
        crv = self.call_reference | (0x8000 if self.from_destination else 0)
        out = bytearray((PROTOCOL_DISCRIMINATOR, 2))
        out += crv.to_bytes(2, "big")
        out.append(self.message_type)
        ies: list[tuple[int, bytes]] = list(self.other_ies)
        if self.bearer_capability is not None:
            ies.append((IE.BEARER_CAPABILITY, self.bearer_capability.encode()))
        if self.cause is not None:
            ies.append((IE.CAUSE, self.cause.encode()))
        if self.display is not None:
            ies.append((IE.DISPLAY, self.display.encode("latin-1", errors="replace")))
        if self.calling_number is not None:
            ies.append((IE.CALLING_PARTY_NUMBER, self.calling_number.encode()))
        if self.called_number is not None:
            ies.append((IE.CALLED_PARTY_NUMBER, self.called_number.encode()))
        if self.user_user is not None:
            ies.append((IE.USER_USER, bytes((UU_PROTOCOL_X208,)) + self.user_user))
        for ie, contents in sorted(ies, key=lambda item: item[0]):
            if ie >= 0x80:
                out.append(ie)
            elif ie == IE.USER_USER:
                if len(contents) > 0xFFFF:
                    raise Q931Error(f"user-user IE of {len(contents)} bytes exceeds 65535")
                out.append(ie)
                out += len(contents).to_bytes(2, "big") + contents
            else:
                if len(contents) > 0xFF:
                    raise Q931Error(f"IE 0x{ie:02x} of {len(contents)} bytes exceeds 255")
                out += bytes((ie, len(contents))) + contents
        return bytes(out)

    @classmethod
    def parse(cls, data: bytes) -> Q931Message:
        """Decode one message; raises :class:`Q931Error` naming what is wrong and where."""
        if len(data) < 3:
            raise Q931Error(f"Q.931 message of {len(data)} bytes is shorter than its header")
        if data[0] != PROTOCOL_DISCRIMINATOR:
            raise Q931Error(f"not Q.931: protocol discriminator 0x{data[0]:02x} (expected 0x08)")
        crv_len = data[1] & 0x0F
        if crv_len > 2:
            raise Q931Error(f"call reference length {crv_len} (H.225.0 allows at most 2)")
        if len(data) < 3 + crv_len:
            raise Q931Error("Q.931 message ends inside its header")
        crv_bytes = data[2 : 2 + crv_len]
        crv = int.from_bytes(crv_bytes, "big") if crv_bytes else 0
        flag_bit = 0x80 << (8 * (crv_len - 1)) if crv_len else 0
        message_type = data[2 + crv_len]
        if message_type & 0x80:
            raise Q931Error(f"message type 0x{message_type:02x} has its top bit set")
        fields: dict[str, object] = {}
        others: list[tuple[int, bytes]] = []
        pos = 3 + crv_len
        while pos < len(data):
            ie = data[pos]
            if ie & 0x80:  # single-octet information element
                others.append((ie, b""))
                pos += 1
                continue
            size_len = 2 if ie == IE.USER_USER else 1
            if pos + 1 + size_len > len(data):
                raise Q931Error(f"IE 0x{ie:02x} at offset {pos} has no length")
            size = int.from_bytes(data[pos + 1 : pos + 1 + size_len], "big")
            start = pos + 1 + size_len
            if start + size > len(data):
                raise Q931Error(
                    f"IE 0x{ie:02x} at offset {pos} says {size} bytes, "
                    f"only {len(data) - start} remain"
                )
            contents = data[start : start + size]
            pos = start + size
            cls._store_ie(ie, contents, fields, others)
        return cls(
            message_type,
            crv & ~flag_bit if crv_len else 0,
            bool(crv & flag_bit),
            other_ies=tuple(others),
            **fields,  # type: ignore[arg-type]
        )

    @staticmethod
    def _store_ie(
        ie: int, contents: bytes, fields: dict[str, object], others: list[tuple[int, bytes]]
    ) -> None:
        if ie == IE.BEARER_CAPABILITY:
            fields["bearer_capability"] = BearerCapability.decode(contents)
        elif ie == IE.CAUSE:
            fields["cause"] = Cause.decode(contents)
        elif ie == IE.DISPLAY:
            fields["display"] = contents.rstrip(b"\0").decode("latin-1")
        elif ie == IE.CALLING_PARTY_NUMBER:
            fields["calling_number"] = PartyNumber.decode(contents)
        elif ie == IE.CALLED_PARTY_NUMBER:
            fields["called_number"] = PartyNumber.decode(contents)
        elif ie == IE.USER_USER:
            if not contents:
                raise Q931Error("user-user IE is empty")
            if contents[0] != UU_PROTOCOL_X208:
                raise Q931Error(
                    f"user-user protocol discriminator 0x{contents[0]:02x} (expected 0x05)"
                )
            fields["user_user"] = contents[1:]
        else:
            others.append((ie, contents))
