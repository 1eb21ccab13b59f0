"""Codec preference: a list of names becomes pjsua's per-codec priorities."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["codec_priorities"]

TOP_PRIORITY = 254


def _name(codec_id: str) -> str:
    return codec_id.split("/", 1)[0].lower()


def codec_priorities(preferred: Sequence[str], available: Iterable[str]) -> dict[str, int]:
    """Priority for every available codec id (``"PCMU/8000/1"``): the preferred ones in order
    (highest first), all others 0, i.e. disabled.

    >>> codec_priorities(["G722", "PCMU"], ["PCMU/8000/1", "G722/16000/1", "GSM/8000/1"])
    {'PCMU/8000/1': 253, 'G722/16000/1': 254, 'GSM/8000/1': 0}
    """
    rank = {name.lower(): TOP_PRIORITY - index for index, name in enumerate(preferred)}
    return {codec_id: rank.get(_name(codec_id), 0) for codec_id in available}
