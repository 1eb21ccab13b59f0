"""The rows pass by byte-pair multiply-adds (media.madd_rows): the bits of the 16-bit path."""

from __future__ import annotations

import numpy as np
import pytest

from media import madd_rows, separable, vertical_pass

pytestmark = pytest.mark.skipif(
    not madd_rows.HAVE_MADD, reason="needs Numba on x86-64 with SSSE3"
)

LANES = madd_rows.LANES
# (input rows, output rows): 2-tap enlargements (with weights of 256 at the edges and at
# whole-pixel phases: 3x), 3- and 4-tap shrinks, one tap (copy-like rows)
ROWS = [(720, 1080), (360, 1080), (288, 718), (1080, 720), (576, 358), (1024, 958), (9, 9)]
# row lengths: narrower than a step, exactly one, one more, and a last step that overlaps
WIDTHS = [LANES - 1, LANES, LANES + 1, 3 * LANES - 5, 1920]


def _planes(n_in: int, width: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = rng.integers(0, 256, (n_in + 3, width + 9), np.uint8)
    return frame, frame[1 : 1 + n_in, 5 : 5 + width]  # strided rows, like a crop


@pytest.mark.parametrize(("n_in", "n_out"), ROWS)
@pytest.mark.parametrize("width", WIDTHS)
def test_multiply_adds_give_the_16_bit_path_s_bits(n_in: int, n_out: int, width: int) -> None:
    first, weights, _, _ = separable.axis_taps(n_in, n_out)
    assert weights.shape[1] <= 4
    _, src = _planes(n_in, width, n_in * 13 + width)
    acc = np.empty(4 * width, np.uint16)
    want = np.empty((n_out, width), np.uint8)
    vertical_pass._uniform(src, first, weights, want, acc, False)
    canvas = np.full((n_out + 2, width + 6), 77, np.uint8)
    got = canvas[1 : 1 + n_out, 3 : 3 + width]
    vertical_pass._uniform_madd(src, first, weights, got, acc, False)
    assert np.array_equal(got, want)
    got[...] = 77
    assert (canvas == 77).all(), "the kernel wrote outside its rows"


def test_extremes_and_whole_weights() -> None:
    """All 0 and all 255 (the ends of the signed offset), and rows of one tap (256)."""
    first, weights, _, _ = separable.axis_taps(360, 1080)  # 3x: every third row is whole
    assert (weights == 256).any()
    acc = np.empty(4096, np.uint16)
    for value in (0, 255):
        src = np.full((360, 200), value, np.uint8)
        got = np.empty((1080, 200), np.uint8)
        vertical_pass._uniform_madd(src, first, weights, got, acc, False)
        assert (got == value).all()


def test_vertical_gives_the_16_bit_path_s_bits() -> None:
    """``separable.vertical`` (footprints of up to four rows go to the multiply-adds here)."""
    first, weights, count, flat = separable.axis_taps(100, 150)
    src = np.random.default_rng(1).integers(0, 256, (100, 2 * LANES), np.uint8)
    got = np.empty((150, 2 * LANES), np.uint8)
    want = np.empty_like(got)
    acc = np.empty(4096, np.uint16)
    vertical_pass.vertical(src, first, weights, count, flat, got, acc, False)
    vertical_pass._uniform(src, first, weights, want, acc, False)
    assert np.array_equal(got, want)


# wide footprints: 5 to 16 rows (shrinking 4x to 15x), odd and even tap counts
WIDE_ROWS = [(1920, 238), (1080, 238), (1280, 238), (1920, 132), (720, 100), (640, 43)]


@pytest.mark.parametrize(("n_in", "n_out"), WIDE_ROWS)
@pytest.mark.parametrize("width", [LANES, LANES + 3, 1080])
def test_wide_footprints_give_the_16_bit_path_s_bits(n_in: int, n_out: int, width: int) -> None:
    first, weights, count, flat = separable.axis_taps(n_in, n_out)
    assert weights.shape[1] > 4
    _, src = _planes(n_in, width, n_in + width)
    acc = np.empty(4 * width, np.uint16)
    want = np.empty((n_out, width), np.uint8)
    vertical_pass._general(src, first, weights, count, flat, want, acc, False)
    canvas = np.full((n_out + 2, width + 6), 77, np.uint8)
    got = canvas[1 : 1 + n_out, 3 : 3 + width]
    vertical_pass._general_madd(src, first, weights, count, got, True)
    assert np.array_equal(got, want)
    for value in (0, 255):
        vertical_pass._general_madd(np.full_like(src, value), first, weights, count, got, False)
        assert (got == value).all()
    got[...] = 77
    assert (canvas == 77).all(), "the kernel wrote outside its rows"
