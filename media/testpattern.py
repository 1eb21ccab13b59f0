"""Deterministic synthetic pictures for tests, drawings and benchmarks (numpy only).

Not flat colour bars: smooth gradients, anti-aliased discs and bars, fine stripes and a little
sensor noise, so that scaling quality (PSNR) is measured on something close to camera content.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from media.colour import rgb_to_i420

__all__ = ["pattern_i420", "pattern_rgb"]

U8 = npt.NDArray[np.uint8]


def _smoothstep(edge: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    t = np.clip(edge, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def pattern_rgb(width: int, height: int, seed: int = 0) -> U8:
    """An RGB24 test picture ``(height, width, 3)``; ``seed`` varies hue and shapes."""
    if width < 2 or height < 2:
        raise ValueError(f"size: expected at least 2x2, got {width}x{height}")
    rng = np.random.default_rng(seed)
    yy = np.arange(height, dtype=np.float32)[:, None]
    xx = np.arange(width, dtype=np.float32)[None, :]
    u, v = xx / width, yy / height
    hue = rng.uniform(0, 2 * np.pi, 3).astype(np.float32)
    img = np.empty((height, width, 3), np.float32)
    for c in range(3):  # sin(a + b) = sin a cos b + cos a sin b: outer products, no 2-D trig
        a, b = 2.1 * u + hue[c], 1.3 * v
        img[..., c] = 110 + 70 * (np.sin(a) * np.cos(b) + np.cos(a) * np.sin(b))
        img[..., c] += 30 * np.cos(3.0 * v - hue[c])
    scale = min(width, height)
    for _ in range(6):  # anti-aliased discs, drawn in their bounding boxes
        cx, cy = rng.uniform(0.1, 0.9) * width, rng.uniform(0.1, 0.9) * height
        radius = rng.uniform(0.05, 0.2) * scale
        x0, x1 = max(0, int(cx - radius - 2)), min(width, int(cx + radius + 3))
        y0, y1 = max(0, int(cy - radius - 2)), min(height, int(cy + radius + 3))
        box = np.s_[y0:y1, x0:x1]
        inside = _smoothstep(radius - np.hypot(xx[:, x0:x1] - cx, yy[y0:y1] - cy) + 0.5)
        colour = rng.uniform(20, 235, 3).astype(np.float32)
        img[box] += inside[..., None] * (colour - img[box])
    for _ in range(3):  # sharp-edged bars
        x0 = int(rng.uniform(0, 0.8) * width)
        y0 = int(rng.uniform(0, 0.8) * height)
        bw, bh = int(rng.uniform(0.05, 0.2) * width) + 1, int(rng.uniform(0.02, 0.1) * height) + 1
        img[y0 : y0 + bh, x0 : x0 + bw] = rng.uniform(20, 235, 3).astype(np.float32)
    stripes = 12 * np.sin(2 * np.pi * xx / 9.0) * (v > 0.85)  # fine detail near the bottom
    img += stripes[..., None]
    img += 1.5 * rng.standard_normal(img.shape, dtype=np.float32)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def pattern_i420(width: int, height: int, seed: int = 0) -> U8:
    """The same picture as :func:`pattern_rgb`, as an I420 array ``(h * 3 // 2, w)``."""
    return rgb_to_i420(pattern_rgb(width, height, seed))
