"""The Zoom CRC dial-string engine: every SIP and H.323 form, built, parsed and explained.

>>> from signaling.dialstring import DialTarget, parse
>>> t = parse("sip:12345678901.4321..876543@zoomcrc.com;transport=tls")
>>> t.meeting_id, t.passcode, t.layout, t.host_key, t.params
('12345678901', '4321', None, '876543', ';transport=tls')
>>> DialTarget.h323("123 456 789", host="162.255.37.11", layout=308).dial_string()
'162.255.37.11##123456789##308'

Modules: :mod:`~signaling.dialstring.regions` (the CRC H.323 addresses), :mod:`~.ivr` (DTMF
after answer), :mod:`~.invitation` (invitation text), :mod:`~.api_answers` (API answers).
"""

from signaling.dialstring._errors import DialStringError
from signaling.dialstring._parse import parse, split_host_port
from signaling.dialstring._target import DEFAULT_SIP_HOST, DialTarget, Protocol, Scheme
from signaling.dialstring.api_answers import from_seed_sip_dialing, from_zoom_sip_dialing
from signaling.dialstring.invitation import DialInfo, parse_invitation
from signaling.dialstring.ivr import IvrStep, ivr_steps, split_for_ivr
from signaling.dialstring.regions import CRC_REGIONS, CrcRegion, find_region, region_for_address

__all__ = [
    "CRC_REGIONS",
    "DEFAULT_SIP_HOST",
    "CrcRegion",
    "DialInfo",
    "DialStringError",
    "DialTarget",
    "IvrStep",
    "Protocol",
    "Scheme",
    "find_region",
    "from_seed_sip_dialing",
    "from_zoom_sip_dialing",
    "ivr_steps",
    "parse",
    "parse_invitation",
    "region_for_address",
    "split_for_ivr",
    "split_host_port",
]
