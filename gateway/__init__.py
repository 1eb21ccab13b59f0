"""crcgw gateway: composes the dial-string engine, the SIP core and the API client.

This is the only package allowed to import all of :mod:`signaling`, :mod:`media` and
:mod:`api_client`. It holds the daemon, its configuration and the ``crcgw`` command line.
"""

__version__ = "0.1.0"
