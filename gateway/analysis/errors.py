"""Errors of capture analysis.

    CaptureError          a capture cannot be read at all (missing, not a capture, no tshark)
"""

from __future__ import annotations

__all__ = ["CaptureError"]


class CaptureError(Exception):
    """The capture cannot be analysed; the message is one line for the user."""
