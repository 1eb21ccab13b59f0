"""The one answer to "is this real Zoom?" (as opposed to the embedded emulator, the stand-in
meeting, a test server or a proxy in front of any of them).

Real Zoom is the API whose host is ``api.zoom.us`` (any scheme, port, path or letter case, a
trailing dot allowed). Everything else is treated as the seed's API, which the emulator
serves: the seed's paths and the live CRC port figures exist there and not at Zoom, and Zoom's
OAuth token endpoint and rate limits apply only at Zoom. A host that merely contains
``zoom.us`` (``api.zoom.us.example.net``, ``notzoom.us``) is not Zoom.

>>> is_zoom_base("https://API.zoom.us/v2/")
True
>>> is_zoom_base("http://127.0.0.1:8080/v2")
False
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["ZOOM_API_HOST", "ZOOM_API_URL", "ZOOM_TOKEN_URL", "is_zoom_base"]

ZOOM_API_HOST = "api.zoom.us"
ZOOM_API_URL = "https://api.zoom.us/v2"
ZOOM_TOKEN_URL = "https://zoom.us/oauth/token"


def is_zoom_base(url: str) -> bool:
    """Whether ``url`` (an API base URL) is Zoom's own API."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:  # an unreadable URL (a bad IPv6 literal, say) is not Zoom
        return False
    return host is not None and host.rstrip(".") == ZOOM_API_HOST
