"""Zoom's Cloud Room Connector H.323 addresses, by region.

The 17 addresses that current Zoom invitations list under "Join by H.323" (an account prints the
data centres it has enabled; this is not an API constant). Labels are as invitations print them;
``aliases`` hold older labels ("EMEA", "India", "Australia", "Canada", "Japan", "China") so that
text from older invitations resolves too. Source: the project's reference facts, section 1.5.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from signaling.dialstring._errors import DialStringError

__all__ = ["CRC_REGIONS", "CrcRegion", "find_region", "region_for_address"]


@dataclass(frozen=True, slots=True)
class CrcRegion:
    """One CRC data centre: ``name`` is the slug used on the command line."""

    name: str
    label: str
    address: str
    aliases: tuple[str, ...] = ()


CRC_REGIONS: tuple[CrcRegion, ...] = (
    CrcRegion("us-west", "US West", "162.255.37.11"),
    CrcRegion("us-east", "US East", "162.255.36.11"),
    CrcRegion("china", "Mainland China", "221.122.88.195", ("China",)),
    CrcRegion("india-mumbai", "India Mumbai", "115.114.131.7", ("India",)),
    CrcRegion("india-hyderabad", "India Hyderabad", "115.114.115.7"),
    CrcRegion("amsterdam", "Amsterdam Netherlands", "213.19.144.110", ("EMEA", "Netherlands")),
    CrcRegion("germany", "Germany", "213.244.140.110"),
    CrcRegion("australia-sydney", "Australia Sydney", "103.122.166.55", ("Australia",)),
    CrcRegion("australia-melbourne", "Australia Melbourne", "103.122.167.55"),
    CrcRegion("hong-kong", "Hong Kong SAR", "209.9.211.110", ("Hong Kong",)),
    CrcRegion("singapore", "Singapore", "149.137.40.110"),
    CrcRegion("brazil", "Brazil", "64.211.144.160"),
    CrcRegion("mexico", "Mexico", "149.137.68.253"),
    CrcRegion("canada-toronto", "Canada Toronto", "69.174.57.160", ("Canada",)),
    CrcRegion("canada-vancouver", "Canada Vancouver", "65.39.152.160"),
    CrcRegion("japan-tokyo", "Japan Tokyo", "207.226.132.110", ("Japan",)),
    CrcRegion("japan-osaka", "Japan Osaka", "149.137.24.110"),
)


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


_BY_KEY: dict[str, CrcRegion] = {}
for _region in CRC_REGIONS:
    for _name in (_region.name, _region.label, *_region.aliases):
        _BY_KEY.setdefault(_key(_name), _region)
_BY_ADDRESS = {region.address: region for region in CRC_REGIONS}


def find_region(name: str) -> CrcRegion:
    """Look a region up by slug, label or older label, ignoring case and punctuation."""
    region = _BY_KEY.get(_key(name))
    if region is None:
        names = ", ".join(r.name for r in CRC_REGIONS)
        raise DialStringError("region", f"is not a known CRC region; one of: {names}", name)
    return region


def region_for_address(address: str) -> CrcRegion | None:
    """The region of a CRC address, or None for an address not in the table."""
    return _BY_ADDRESS.get(address)
