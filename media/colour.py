"""Colour conversions: RGB <-> I420 (yuv420p, BT.601 limited range), numpy only.

I420 frames are laid out as PyAV's ``to_ndarray(format="yuv420p")``: one ``uint8`` array of shape
``(height * 3 // 2, width)`` holding the Y plane, then the U plane, then the V plane.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from media._checks import check_array

__all__ = ["i420_planes", "i420_to_rgb", "rgb_to_i420", "rgb_to_yuv"]

U8 = npt.NDArray[np.uint8]

_TO_YUV = (
    np.array([[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]])
    / 255.0
)
_OFFSET = np.array([16.0, 128.0, 128.0])


def rgb_to_yuv(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """One RGB colour (0..255 each) as BT.601 limited-range (Y, U, V)."""
    values = _TO_YUV @ np.asarray(rgb, dtype=np.float64) + _OFFSET
    y, u, v = (int(c) for c in np.clip(np.rint(values), 0, 255))
    return y, u, v


def i420_planes(frame: U8, name: str = "frame") -> tuple[U8, U8, U8]:
    """Views of the Y, U and V planes of an I420 array ``(h * 3 // 2, w)``."""
    check_array(name, frame, dtype=np.uint8, ndim=2)
    rows, width = frame.shape
    height = rows * 2 // 3
    if rows % 3 or height % 2 or width % 2 or height < 2:
        raise ValueError(
            f"{name}: expected yuv420p shape (height * 3 // 2, width) with even height and width, "
            f"got {frame.shape}"
        )
    flat = frame.reshape(-1) if frame.flags.c_contiguous else np.ascontiguousarray(frame).ravel()
    luma = height * width
    chroma = luma // 4
    y = flat[:luma].reshape(height, width)
    u = flat[luma : luma + chroma].reshape(height // 2, width // 2)
    v = flat[luma + chroma : luma + 2 * chroma].reshape(height // 2, width // 2)
    return y, u, v


def rgb_to_i420(rgb: U8) -> U8:
    """Convert an RGB24 image ``(h, w, 3)`` (even h, w) to an I420 array ``(h * 3 // 2, w)``."""
    check_array("rgb", rgb, dtype=np.uint8, ndim=3)
    height, width, channels = rgb.shape
    if channels != 3 or height % 2 or width % 2:
        raise ValueError(f"rgb: expected shape (even h, even w, 3), got {rgb.shape}")
    as_float = rgb.astype(np.float32)
    out = np.empty((height * 3 // 2, width), np.uint8)
    y, u, v = i420_planes(out)
    coeffs = _TO_YUV.astype(np.float32)
    np.copyto(y, np.clip(np.rint(as_float @ coeffs[0] + 16), 0, 255), casting="unsafe")
    pooled = as_float.reshape(height // 2, 2, width // 2, 2, 3).mean(axis=(1, 3))
    np.copyto(u, np.clip(np.rint(pooled @ coeffs[1] + 128), 0, 255), casting="unsafe")
    np.copyto(v, np.clip(np.rint(pooled @ coeffs[2] + 128), 0, 255), casting="unsafe")
    return out


def i420_to_rgb(frame: U8) -> U8:
    """Convert an I420 array to RGB24 ``(h, w, 3)`` (nearest chroma upsampling)."""
    y, u, v = i420_planes(frame)
    yf = y.astype(np.float32) - 16.0
    uf = np.repeat(np.repeat(u.astype(np.float32) - 128.0, 2, axis=0), 2, axis=1)
    vf = np.repeat(np.repeat(v.astype(np.float32) - 128.0, 2, axis=0), 2, axis=1)
    inverse = np.linalg.inv(_TO_YUV).astype(np.float32)
    stacked: Any = np.stack([yf, uf, vf], axis=-1) @ inverse.T
    result: U8 = np.clip(np.rint(stacked), 0, 255).astype(np.uint8)
    return result
