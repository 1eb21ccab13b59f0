"""Boundary checks for the media path: every message names the expected and the actual value."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["check_array", "check_range", "check_choice"]


def check_array(
    name: str,
    value: Any,
    *,
    dtype: npt.DTypeLike,
    ndim: int,
) -> npt.NDArray[Any]:
    """Return ``value`` as an ndarray after checking its type, dtype and number of dimensions."""
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{name}: expected a numpy.ndarray, got {type(value).__name__}")
    expected = np.dtype(dtype)
    if value.dtype != expected:
        raise ValueError(f"{name}: expected dtype {expected}, got {value.dtype}")
    if value.ndim != ndim:
        raise ValueError(
            f"{name}: expected {ndim} dimensions, got {value.ndim} (shape {value.shape})"
        )
    return value


def check_range(name: str, value: Any, low: int | float, high: int | float) -> Any:
    """Check that ``low <= value <= high`` for an int or float (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name}: expected a number in {low}..{high}, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name}: expected a value in {low}..{high}, got {value}")
    return value


def check_choice(name: str, value: Any, choices: tuple[Any, ...]) -> Any:
    if value not in choices:
        allowed = ", ".join(str(c) for c in choices)
        raise ValueError(f"{name}: expected one of {allowed}, got {value!r}")
    return value
