"""Per-tile scaling kernels: area-average downscale, bilinear upscale, into output slices.

A :class:`ScalePlan` is computed once per (source crop size, destination size) and cached by the
compositor; ``apply`` then only runs the kernel, writing straight into the destination view.

Kernel choice (``src`` and ``dst``: crop and content sizes of a :class:`~media.layouts.Placement`):

- ``copy``: equal sizes;
- ``area2``: exact 2:1 area average (OpenCV's SIMD ``INTER_AREA`` fast path);
- ``box``: exact k:1 area average for k >= 3 (a k x k box filter sampled at block centres: the
  box mean at a block's centre pixel *is* the block's area average);
- ``linear``: 2-tap bilinear for upscaling and for downscaling ratios above 1/2, where the area
  footprint of an output pixel spans at most two or three source pixels (PSNR against exact area
  averaging is measured by ``crcgw media bench``);
- ``area``: generic area average for other ratios below 1/2 (OpenCV ``INTER_AREA``).

Before an OpenCV kernel runs, one streaming read (``cv2.sumElems``) pulls the source crop into the
cache: ``cv2.resize`` keeps too few memory reads in flight to stream a frame that is not cached, and
this prefetch makes the whole tile 2-3x faster on frames fresh from a decoder.

Without OpenCV (or with ``use_opencv=False``) a pure-numpy kernel gives the same geometry: exact
area averaging for every downscale and bilinear for upscales, as separable gathers with
precomputed index and weight tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

cv2: Any
try:  # OpenCV is the fast kernel; the numpy path below is the fallback.
    import cv2
except ImportError:  # pragma: no cover - exercised by forcing use_opencv=False
    cv2 = None

__all__ = ["HAVE_OPENCV", "ScalePlan", "axis_weights", "choose_kernel", "resize_numpy"]

HAVE_OPENCV = cv2 is not None
U8 = npt.NDArray[np.uint8]


def choose_kernel(src_w: int, src_h: int, dst_w: int, dst_h: int) -> tuple[str, int]:
    """The kernel name and integer factor for scaling ``src`` to ``dst``."""
    if (src_w, src_h) == (dst_w, dst_h):
        return "copy", 1
    if src_w % dst_w == 0 and src_h % dst_h == 0 and src_w // dst_w == src_h // dst_h:
        k = src_w // dst_w
        return ("area2", 2) if k == 2 else ("box", k)
    if dst_w * 2 >= src_w and dst_h * 2 >= src_h:
        return "linear", 1
    return "area", 1


@lru_cache(maxsize=256)
def axis_weights(n_in: int, n_out: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """Index and weight tables ``(n_out, taps)`` for one axis.

    Downscale: exact area (box) integral over each output pixel's footprint. Upscale: bilinear with
    half-pixel centres and clamped edges (OpenCV's convention).
    """
    if n_out <= n_in:
        step = n_in / n_out
        taps = int(math.ceil(step)) + 1
        starts = np.arange(n_out) * step
        first = np.floor(starts).astype(np.intp)
        idx = first[:, None] + np.arange(taps)[None, :]
        lo = np.maximum(idx, starts[:, None])
        hi = np.minimum(idx + 1, starts[:, None] + step)
        weights = np.clip(hi - lo, 0.0, None) / step
    else:
        pos = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
        pos = np.clip(pos, 0, n_in - 1)
        first = (
            np.minimum(np.floor(pos).astype(np.intp), n_in - 2)
            if n_in > 1
            else np.zeros(n_out, np.intp)
        )
        frac = pos - first
        idx = first[:, None] + np.arange(2)[None, :]
        weights = np.stack([1 - frac, frac], axis=1)
    idx = np.clip(idx, 0, n_in - 1)
    return idx, weights.astype(np.float32)


def resize_numpy(src: npt.NDArray[Any], dst: npt.NDArray[Any]) -> None:
    """Resize ``src`` (h, w[, c]) into ``dst`` with the numpy kernel (area down, bilinear up)."""
    h_in, w_in = src.shape[:2]
    h_out, w_out = dst.shape[:2]
    if (h_in, w_in) == (h_out, w_out):
        np.copyto(dst, src)
        return
    yi, yw = axis_weights(h_in, h_out)
    xi, xw = axis_weights(w_in, w_out)
    extra = (None,) * (src.ndim - 2)
    rows = np.zeros((h_out, w_in) + src.shape[2:], np.float32)
    for t in range(yi.shape[1]):
        rows += yw[(slice(None), t, None) + extra] * src[yi[:, t]]
    acc = np.zeros((h_out, w_out) + src.shape[2:], np.float32)
    for t in range(xi.shape[1]):
        acc += xw[(None, slice(None), t) + extra] * rows[:, xi[:, t]]
    acc += 0.5
    np.floor(acc, out=acc)
    np.clip(acc, 0, 255, out=acc)
    np.copyto(dst, acc, casting="unsafe")


@dataclass
class ScalePlan:
    """Scale one source crop (``src_w`` x ``src_h``) to ``dst_w`` x ``dst_h``, per plane."""

    src_w: int
    src_h: int
    dst_w: int
    dst_h: int
    use_opencv: bool = HAVE_OPENCV
    kernel: str = field(init=False)
    factor: int = field(init=False)
    _scratch: dict[tuple[int, ...], U8] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.use_opencv and cv2 is None:
            raise ValueError("use_opencv: expected False (OpenCV is not installed), got True")
        self.kernel, self.factor = choose_kernel(self.src_w, self.src_h, self.dst_w, self.dst_h)

    def apply(self, src: U8, dst: U8) -> None:
        """Scale the plane ``src`` into the view ``dst`` (shapes are this plan's, maybe halved)."""
        if self.kernel == "copy":
            np.copyto(dst, src)
        elif not self.use_opencv:
            resize_numpy(src, dst)
            return
        # OpenCV's resize keeps few reads in flight and crawls on a source that is not cached;
        # one fast streaming read first pulls the crop into L2 (2-3x faster for uncached sources).
        cv2.sumElems(src)
        if self.kernel == "box":
            scratch = self._scratch.get(src.shape)
            if scratch is None:
                scratch = self._scratch[src.shape] = np.empty(src.shape, np.uint8)
            k = self.factor
            cv2.blur(src, (k, k), dst=scratch)
            size = (dst.shape[1], dst.shape[0])
            cv2.resize(scratch, size, dst=dst, interpolation=cv2.INTER_NEAREST_EXACT)
        else:
            mode = cv2.INTER_LINEAR if self.kernel == "linear" else cv2.INTER_AREA
            cv2.resize(src, (dst.shape[1], dst.shape[0]), dst=dst, interpolation=mode)
