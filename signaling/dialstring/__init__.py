"""The Zoom CRC dial-string engine: every SIP and H.323 form, built, parsed and explained.

>>> from signaling.dialstring import parse
>>> t = parse("sip:12345678901.4321..876543@zoomcrc.com;transport=tls")
>>> t.meeting_id, t.passcode, t.layout, t.host_key, t.params
('12345678901', '4321', None, '876543', ';transport=tls')
>>> parse("162.255.37.11##123456789##308").dial_string()
'162.255.37.11##123456789##308'
"""

from signaling.dialstring._errors import DialStringError
from signaling.dialstring._parse import parse
from signaling.dialstring._target import DEFAULT_SIP_HOST, DialTarget, Protocol, Scheme

__all__ = ["DEFAULT_SIP_HOST", "DialStringError", "DialTarget", "Protocol", "Scheme", "parse"]
