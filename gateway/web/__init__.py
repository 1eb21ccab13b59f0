"""The operator's status page served on the control API at ``/status`` (see
:mod:`gateway.web.page`): rooms, live calls and their media quality, the CRC pool now and over
the last hours, recent call records and redirects, and the API's and store's health."""

from __future__ import annotations

from gateway.web.page import StatusPage

__all__ = ["StatusPage"]
