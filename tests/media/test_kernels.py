"""The compiled fixed-ratio kernels (media.kernels) against exact rational arithmetic."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from media import kernels
from media.scaling import ScalePlan, resample_float

pytestmark = pytest.mark.skipif(not kernels.HAVE_NUMBA, reason="Numba is not installed")

# (source w, h) -> (tile w, h): the luma and chroma planes of the snapped tiles, plus small sizes
# where the clamped edges are most of the picture
CASES = [
    ("box3", (1272, 708), (424, 236)),
    ("box3", (636, 354), (212, 118)),
    ("box3", (9, 6), (3, 2)),
    ("area23", (1278, 714), (852, 476)),
    ("area23", (639, 357), (426, 238)),
    ("area23", (6, 3), (4, 2)),
    ("area34", (1272, 712), (954, 534)),
    ("area34", (636, 356), (477, 267)),
    ("area34", (4, 4), (3, 3)),
    ("up32", (1280, 720), (1920, 1080)),
    ("up32", (640, 360), (960, 540)),
    ("up32", (2, 2), (3, 3)),
]


def _exact(src: np.ndarray, dst_w: int, dst_h: int) -> np.ndarray:
    """The rounded-half-up result in exact rationals, from the float64 reference's weights."""
    ref = resample_float(src.astype(np.float64), dst_h, dst_w, "float64")
    # the reference is exact up to float error; ties (x.5) must round up
    return np.floor(ref + 0.5 + 1e-9).astype(np.uint8)


@pytest.mark.parametrize(("kernel", "src_size", "dst_size"), CASES)
@pytest.mark.parametrize("use_opencv", [True, False])
@pytest.mark.parametrize("destination", ["tile", "plane"])
def test_fixed_kernels_are_exactly_rounded(
    kernel: str,
    src_size: tuple[int, int],
    dst_size: tuple[int, int],
    use_opencv: bool,
    destination: str,
) -> None:
    """``tile``: a strided view inside a bigger frame (interleaved through scratch);
    ``plane``: a whole contiguous plane (interleaved in place)."""
    (sw, sh), (dw, dh) = src_size, dst_size
    rng = np.random.default_rng(sw * 7 + dh)
    frame = rng.integers(0, 256, (sh + 5, sw + 7), np.uint8)
    src = frame[2 : 2 + sh, 3 : 3 + sw]  # a crop: rows are strided like a real source region
    if destination == "tile":
        out = np.full((dh + 4, dw + 6), 77, np.uint8)
        dst = out[2 : 2 + dh, 3 : 3 + dw]
    else:
        out = np.full((dh * dw + 16,), 77, np.uint8)
        dst = out[8 : 8 + dh * dw].reshape(dh, dw)
        assert dst.flags.c_contiguous
    plan = ScalePlan(sw, sh, dw, dh, use_opencv=use_opencv)
    # where the CPU resamples rows in place (byte shuffles or permutes), the separable pair
    # takes the phase kernels' ratios (faster)
    widened = plan.separable and ScalePlan._direct_beats(kernel)
    assert plan._fixed == (None if widened else kernel)
    plan.apply(src, dst)
    want = _exact(src, dw, dh)
    if widened or destination == "tile" and plan.separable and kernel != "box3":
        # phase kernels leave tiles to the separable pair (faster there): within one level
        err = np.abs(dst.astype(np.int16) - want)
        assert err.max() <= 2 and np.count_nonzero(err > 1) <= max(1, err.size // 1000)
        assert not any(key[0] == "phases" for key in plan.scratch)
    else:
        assert np.array_equal(dst, want)
        assert not any(str(key[0]).startswith("sep-") for key in plan.scratch)
    dst[:] = 77
    assert (out == 77).all(), "the kernel wrote outside its tile"


def test_extremes_do_not_overflow() -> None:
    for kernel, (sw, sh), (dw, dh) in CASES[::3]:
        for value in (0, 255):
            src = np.full((sh, sw), value, np.uint8)
            dst = np.zeros((dh, dw), np.uint8)
            ScalePlan(sw, sh, dw, dh).apply(src, dst)
            assert (dst == value).all(), (kernel, value)


def test_box3_on_a_known_pattern() -> None:
    # every 3x3 block holds 0..8 shifted by its block index: the mean is 4 + index, exactly
    blocks = np.arange(6, dtype=np.uint8).reshape(2, 3) * 10
    src = np.kron(blocks, np.ones((3, 3), np.uint8)) + np.tile(
        np.arange(9, dtype=np.uint8).reshape(3, 3), (2, 3)
    )
    dst = np.zeros((2, 3), np.uint8)
    ScalePlan(9, 6, 3, 2).apply(src, dst)
    assert dst.tolist() == [[4, 14, 24], [34, 44, 54]]


def test_up32_known_values() -> None:
    # one row 0, 60: output columns sit at -1/6, 1/2, 7/6 -> 0, 30, 60 (clamped edges)
    src = np.array([[0, 60], [0, 60]], np.uint8)
    dst = np.zeros((3, 3), np.uint8)
    ScalePlan(2, 2, 3, 3).apply(src, dst)
    assert dst.tolist() == [[0, 30, 60]] * 3


def test_planes_that_do_not_fit_the_period_fall_back() -> None:
    # the plan's scale is 3/4 and has a compiled kernel, but an RGB24 tile is not a 2-D plane:
    # it must go through the OpenCV/numpy kernel and still be right
    # (without OpenCV, so that no separable kernel takes the ratio over where rows are
    # resampled in place)
    plan = ScalePlan(1272, 712, 954, 534, use_opencv=False)
    assert plan.scale == Fraction(3, 4) and plan._fixed == "area34"
    rgb = np.random.default_rng(1).integers(0, 256, (712, 1272, 3), np.uint8)
    out = np.zeros((534, 954, 3), np.uint8)
    plan.apply(rgb, out)  # RGB24: not a 2-D plane, so the OpenCV/numpy path
    ref = resample_float(rgb.astype(np.float64), 534, 954, "float64")
    assert np.abs(out - ref).max() <= 2.0


def test_numba_can_be_turned_off() -> None:
    plan = ScalePlan(1272, 708, 424, 236, use_numba=False)
    assert plan._fixed is None and plan.kernel == "box"


def test_phase_kernels_leave_tiles_and_their_prefetch_to_the_separable_kernels() -> None:
    plan = ScalePlan(1278, 714, 852, 476)
    whole = np.zeros((476, 852), np.uint8)
    tile = np.zeros((480, 860), np.uint8)[2:478, 4:856]
    if plan.separable and ScalePlan._direct_beats("area23"):
        # rows resampled in place: the separable kernels take whole planes too, and stream
        # the source themselves
        assert plan._fixed is None and not plan.prefetch_into(whole)
    else:
        assert plan._fixed == "area23" and plan.prefetch
        if plan.separable:
            assert plan.prefetch_into(whole) and not plan.prefetch_into(tile)
    box = ScalePlan(1272, 708, 424, 236)  # 1/3 has no phases: it keeps tiles and prefetch
    assert box.prefetch_into(np.zeros((240, 430), np.uint8)[2:238, 3:427])
