"""SIP Connected Audio: ``PATCH /accounts/{accountId}/sip_trunk/settings`` (204 on success).

The seed sends it as ``multipart/form-data`` with four text fields; Zoom also takes JSON. Without
``enable`` the sub account's configuration is left alone.
"""

from __future__ import annotations

from typing import Literal

from api_client.models._base import RequestModel

__all__ = ["SipTrunkSettings"]

ShowMode = Literal[0, 1, 2]


class SipTrunkSettings(RequestModel):
    """``enable``: assign (true) or delete (false) the master account's SIP trunk configuration.

    ``show_zoom_provided_callout_countries`` and ``show_zoom_provided_numbers``: 0 show,
    1 hide (numbers: show but do not use), 2 delete Zoom's and use only the carrier partners'.
    """

    enable: bool | None = None
    show_callout_internal_number: bool | None = None
    show_zoom_provided_callout_countries: ShowMode | None = None
    show_zoom_provided_numbers: ShowMode | None = None

    def to_form(self) -> dict[str, str]:
        """The multipart text fields, in the seed's order (booleans as ``true``/``false``)."""
        form: dict[str, str] = {}
        for key, value in self.to_wire().items():
            form[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return form
