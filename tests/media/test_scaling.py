from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from media.scaling import ScalePlan, axis_weights, choose_kernel, phase_taps, resample_float
from media.testpattern import pattern_rgb


@pytest.mark.parametrize(
    ("sizes", "kernel"),
    [
        ((640, 360, 640, 360), "copy"),
        ((1276, 716, 638, 358), "area2"),
        ((1272, 708, 424, 236), "box"),
        ((1272, 712, 954, 534), "rational"),
        ((1278, 714, 852, 476), "rational"),
        ((1280, 720, 1920, 1080), "linear"),
        ((1280, 720, 956, 538), "linear"),
        ((1280, 720, 300, 200), "area"),
    ],
)
def test_kernel_choice(sizes: tuple[int, int, int, int], kernel: str) -> None:
    assert choose_kernel(*sizes)[0] == kernel


def test_phase_taps_are_exact_area_weights() -> None:
    assert phase_taps(3, 4) == (
        ((0, 0.75), (1, 0.25)),
        ((1, 0.5), (2, 0.5)),
        ((2, 0.25), (3, 0.75)),
    )
    assert phase_taps(2, 3) == (((0, 2 / 3), (1, 1 / 3)), ((1, 1 / 3), (2, 2 / 3)))
    assert phase_taps(1, 3) == (((0, 1 / 3), (1, 1 / 3), (2, 1 / 3)),)


def test_axis_weights_area_and_bilinear() -> None:
    idx, w = axis_weights(4, 3, "float64")
    dense = np.zeros((3, 4))
    for t in range(idx.shape[1]):
        np.add.at(dense, (np.arange(3), idx[:, t]), w[:, t])
    assert np.allclose(dense, [[0.75, 0.25, 0, 0], [0, 0.5, 0.5, 0], [0, 0, 0.25, 0.75]])
    idx, w = axis_weights(2, 3, "float64")  # bilinear 1.5x, half-pixel centres, clamped edge
    dense = np.zeros((3, 2))
    for t in range(idx.shape[1]):
        np.add.at(dense, (np.arange(3), idx[:, t]), w[:, t])
    assert np.allclose(dense, [[1, 0], [0.5, 0.5], [0, 1]])


def test_box_kernel_exact_block_means() -> None:
    # 3x3 blocks whose mean is an integer: every output pixel must be exactly that mean
    blocks = np.arange(12 * 20, dtype=np.int64).reshape(12, 20) % 200
    src = np.kron(blocks, np.ones((3, 3), np.int64))
    src = (src + np.tile(np.array([[-1, 0, 1], [1, 0, -1], [0, 0, 0]]), (12, 20)) + 20).astype(
        np.uint8
    )
    for use_opencv in (True, False):
        plan = ScalePlan(60, 36, 20, 12, use_opencv=use_opencv)
        out = np.zeros((12, 20), np.uint8)
        plan.apply(src, out)
        assert np.array_equal(out, (blocks + 20).astype(np.uint8)), use_opencv


@pytest.mark.parametrize(
    ("src_size", "dst_size"),
    [
        ((1272, 708), (424, 236)),
        ((1272, 712), (954, 534)),
        ((1278, 714), (852, 476)),
        ((1276, 716), (638, 358)),
        ((1280, 720), (1920, 1080)),
        ((1280, 720), (956, 538)),
        ((1280, 720), (300, 200)),
    ],
)
def test_kernels_against_the_float64_reference(
    src_size: tuple[int, int], dst_size: tuple[int, int]
) -> None:
    src = pattern_rgb(*src_size, seed=5)
    ref = resample_float(src.astype(np.float64), dst_size[1], dst_size[0], "float64")
    for use_opencv in (True, False):
        plan = ScalePlan(*src_size, *dst_size, use_opencv=use_opencv)
        out = np.zeros((dst_size[1], dst_size[0], 3), np.uint8)
        plan.apply(src, out)
        mse = float(np.mean((out - ref) ** 2))
        psnr = 10 * np.log10(255**2 / mse)
        exact = plan.kernel in ("box", "rational", "area2", "area") or not use_opencv
        assert psnr >= (50 if exact else 40), (plan.kernel, use_opencv, psnr)
        if exact:
            assert np.abs(out - ref).max() <= 2.0


def test_scale_plan_records_its_exact_scale() -> None:
    assert ScalePlan(1272, 712, 954, 534).scale == Fraction(3, 4)
    assert ScalePlan(1280, 720, 956, 538).scale == 0
