"""crcgw api_client: typed httpx + pydantic clients for Zoom CRC and PortSIP, and their emulator.

Knows nothing of SIP: never imports :mod:`signaling` or :mod:`media`.
"""
