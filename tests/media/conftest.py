"""Fixtures of the media tests: flat-colour and pattern frames."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest

from media.colour import rgb_to_i420

U8 = npt.NDArray[np.uint8]


def solid_i420(width: int, height: int, rgb: tuple[int, int, int]) -> U8:
    img = np.empty((height, width, 3), np.uint8)
    img[:] = rgb
    return rgb_to_i420(img)


@pytest.fixture
def solid() -> Callable[[int, int, tuple[int, int, int]], U8]:
    return solid_i420
