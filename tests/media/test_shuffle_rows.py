"""Rows widened by byte shuffles (media.shuffle_rows): the same bits as the transposing path."""

from __future__ import annotations

import numpy as np
import pytest

from media import separable, shuffle_rows, vertical_pass
from media.scaling import HAVE_OPENCV, resample_float

pytestmark = pytest.mark.skipif(
    not (shuffle_rows.HAVE_SHUFFLE and HAVE_OPENCV),
    reason="needs Numba on x86-64 with SSSE3, and OpenCV",
)

# (input, output) row lengths: the awkward ratios of the issue (352->638), room sizes (1.5x,
# 2x, 3x, 4/3, 5/4), rows shorter than a block, and every length near the block edges
WIDTHS = [
    (352, 638),
    (1280, 1920),
    (640, 1280),
    (640, 1920),
    (960, 1280),
    (1024, 1280),
    (176, 318),
    (2, 5),
    (15, 16),
    (16, 17),
    (17, 33),
    (31, 47),
    (100, 100),
]


def _by_transposes(src: np.ndarray, n_out: int) -> np.ndarray:
    """The columns pass as :mod:`media.separable` runs it without shuffles."""
    out_t = np.empty((n_out, src.shape[0]), np.uint8)
    acc = np.empty(4 * max(n_out, src.shape[1], src.shape[0]), np.uint16)
    first, weights, count, flat = separable.axis_taps(src.shape[1], n_out)
    vertical_pass.vertical(np.ascontiguousarray(src.T), first, weights, count, flat, out_t, acc, False)
    return np.ascontiguousarray(out_t.T)


@pytest.mark.parametrize(("n_in", "n_out"), WIDTHS)
def test_rows_equal_the_transposing_columns_pass(n_in: int, n_out: int) -> None:
    rng = np.random.default_rng(n_in * 7 + n_out)
    frame = rng.integers(0, 256, (9, n_in + 7), np.uint8)
    src = frame[1:8, 3 : 3 + n_in]  # strided rows, like a crop of a decoded frame
    canvas = np.full((11, n_out + 5), 77, np.uint8)
    out = canvas[2:9, 2 : 2 + n_out]
    shuffle_rows.enlarge_rows(src, *shuffle_rows.row_tables(n_in, n_out), out)
    assert np.array_equal(out, _by_transposes(np.ascontiguousarray(src), n_out))
    out[...] = 77
    assert (canvas == 77).all(), "the kernel wrote outside its rows"


@pytest.mark.parametrize(("n_in", "n_out"), [(352, 638), (288, 718), (1280, 1920)])
def test_rows_are_within_one_level_of_the_float64_reference(n_in: int, n_out: int) -> None:
    rng = np.random.default_rng(n_in)
    src = rng.integers(0, 256, (5, n_in), np.uint8)
    out = np.empty((5, n_out), np.uint8)
    shuffle_rows.enlarge_rows(src, *shuffle_rows.row_tables(n_in, n_out), out)
    ref = np.floor(resample_float(src.astype(np.float64), 5, n_out, "float64") + 0.5 + 1e-9)
    # the weights are exact to 1/512 of a pixel: at most one level from the rounded reference
    assert np.abs(out.astype(np.float64) - ref).max() <= 1


def test_most_of_a_wide_row_goes_through_the_shuffles() -> None:
    base, local, _, _, blocks, first = shuffle_rows.row_tables(1280, 1920)
    assert blocks == 119  # 1904 of 1920 outputs; the last block would read past the row
    assert int(local.max()) <= 15 and int(base[-1]) + shuffle_rows.BLOCK < 1280
    assert np.array_equal(base, first[: blocks * shuffle_rows.BLOCK : shuffle_rows.BLOCK])


def test_narrowing_is_refused() -> None:
    with pytest.raises(ValueError, match="n_in <= n_out"):
        shuffle_rows.row_tables(640, 320)
