"""crcgw signaling: Zoom dial strings, the pjsua2 SIP core and H.323.

Never imports :mod:`gateway` or :mod:`api_client` (``tests/test_layering.py`` enforces it).
"""
