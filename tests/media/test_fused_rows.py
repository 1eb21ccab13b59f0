"""Both passes row by row (media.fused_rows): the bits of the whole-plane passes."""

from __future__ import annotations

import numpy as np
import pytest

from media import fused_rows, permute_rows, separable, vertical_pass
from media.scaling import HAVE_OPENCV, ScalePlan

pytestmark = pytest.mark.skipif(
    not (permute_rows.HAVE_PERMUTE and HAVE_OPENCV),
    reason="needs Numba on x86-64 with AVX-512 VBMI, and OpenCV",
)

# (source, destination) plane sizes: enlargements of room sources (1.5x, 2x, 3x, 3.75x with a
# short output row), shrinks of every footprint width (2/3, 0.62, 0.41, 0.22) and a plane
# shorter than one chunk of rows
PLANES = [
    ((1280, 720), (1920, 1080)),
    ((640, 360), (1280, 720)),
    ((640, 360), (1920, 1080)),
    ((176, 144), (660, 540)),
    ((1920, 1080), (1280, 720)),
    ((1024, 576), (636, 358)),
    ((1024, 576), (424, 238)),
    ((1920, 1080), (424, 238)),
    ((960, 540), (200, 10)),
]


def _whole_plane_passes(src: np.ndarray, dw: int, dh: int) -> np.ndarray:
    """Rows pass, then the permutes over every row: the order of the unfused passes."""
    ty = separable.axis_taps(src.shape[0], dh)
    steps = permute_rows.step_tables(src.shape[1], dw)
    assert steps is not None
    acc = np.empty(4 * max(src.shape), np.uint16)
    if dh > src.shape[0]:
        wide = np.empty((src.shape[0], dw), np.uint8)
        permute_rows.resample_rows(src, *steps, wide)
        out = np.empty((dh, dw), np.uint8)
        vertical_pass.vertical(wide, *ty, out, acc, False)
        return out
    mid = np.empty((dh, src.shape[1]), np.uint8)
    vertical_pass.vertical(src, *ty, mid, acc, False)
    out = np.empty((dh, dw), np.uint8)
    permute_rows.resample_rows(mid, *steps, out)
    return out


@pytest.mark.parametrize(("src_size", "dst_size"), PLANES)
def test_row_by_row_gives_the_whole_plane_passes_bits(
    src_size: tuple[int, int], dst_size: tuple[int, int]
) -> None:
    (sw, sh), (dw, dh) = src_size, dst_size
    rng = np.random.default_rng(sw + dh)
    frame = rng.integers(0, 256, (sh + 4, sw + 6), np.uint8)
    src = frame[2 : 2 + sh, 3 : 3 + sw]  # a crop: strided rows
    canvas = np.full((dh + 4, dw + 8), 77, np.uint8)
    dst = canvas[2 : 2 + dh, 4 : 4 + dw]
    plan = ScalePlan(sw, sh, dw, dh)
    plan.apply(src, dst)
    assert np.array_equal(dst, _whole_plane_passes(np.ascontiguousarray(src), dw, dh))
    dst[...] = 77
    assert (canvas == 77).all(), "the kernels wrote outside their tile"
    scratch = {key[0] for key in plan.scratch}
    assert "sep-ring" in scratch or "sep-chunk" in scratch, scratch  # no whole scratch plane


def test_widen_then_blend_with_whole_pixel_rows() -> None:
    """Enlarging 3x: a third of the output rows are one source row at weight 256."""
    src = np.random.default_rng(2).integers(0, 256, (36, 128), np.uint8)
    first, weights, _, _ = separable.axis_taps(36, 108)
    assert (weights == 256).any()
    steps = permute_rows.step_tables(128, 384)
    assert steps is not None
    out = np.empty((108, 384), np.uint8)
    ring = np.empty((2, 384), np.uint8)
    fused_rows.widen_then_blend(src, *steps, first, weights, ring, out)
    assert np.array_equal(out, _whole_plane_passes(src, 384, 108))
