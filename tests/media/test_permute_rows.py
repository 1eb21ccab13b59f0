"""Rows resampled by byte permutes (media.permute_rows): the same bits as the transposing path."""

from __future__ import annotations

import numpy as np
import pytest

from media import permute_rows, separable, vertical_pass
from media.scaling import HAVE_OPENCV, ScalePlan

pytestmark = pytest.mark.skipif(
    not (permute_rows.HAVE_PERMUTE and HAVE_OPENCV),
    reason="needs Numba on x86-64 with AVX-512 VBMI, and OpenCV",
)

# (input, output) row lengths of room tiles, by step kind: two taps, 64 outputs a step (2/3:
# 1920->1280, widening 1.5x, 3x, 352->638), up to four (0.62: 1024->636, 0.44: 960->424, 0.82, 0.99) and
# up to eight (1920->424, 720->134, 1080->202), up to 16 (1080->134, 540->67, 1920->140);
# and the shortest rows a step takes
WIDTHS = [
    (1920, 1280, permute_rows.PAIRS1_WIDE),
    (1280, 1920, permute_rows.PAIRS1_WIDE),
    (640, 1920, permute_rows.PAIRS1_WIDE),
    (352, 638, permute_rows.PAIRS1_WIDE),
    (1024, 636, permute_rows.PAIRS2),
    (960, 424, permute_rows.PAIRS2),
    (352, 290, permute_rows.PAIRS2),
    (130, 129, permute_rows.PAIRS1_WIDE),
    (128, 32, permute_rows.PAIRS2),
    (1920, 424, permute_rows.QUADS2),
    (720, 134, permute_rows.QUADS2),
    (1080, 202, permute_rows.QUADS2),
    (128, 16, permute_rows.QUADS2),
    (1080, 134, permute_rows.OCTETS2),
    (540, 67, permute_rows.OCTETS2),
    (1920, 140, permute_rows.OCTETS2),
    (128, 8, permute_rows.OCTETS2),
]


def _by_transposes(src: np.ndarray, n_out: int) -> np.ndarray:
    out_t = np.empty((n_out, src.shape[0]), np.uint8)
    acc = np.empty(4 * max(n_out, src.shape[1], src.shape[0]), np.uint16)
    first, weights, count, flat = separable.axis_taps(src.shape[1], n_out)
    transposed = np.ascontiguousarray(src.T)
    if weights.shape[1] <= 4:  # the 16-bit paths, not the multiply-adds
        vertical_pass._uniform(transposed, first, weights, out_t, acc, False)
    else:
        vertical_pass._general(transposed, first, weights, count, flat, out_t, acc, False)
    return np.ascontiguousarray(out_t.T)


@pytest.mark.parametrize(("n_in", "n_out", "kind"), WIDTHS)
def test_rows_equal_the_transposing_columns_pass(n_in: int, n_out: int, kind: int) -> None:
    tables = permute_rows.step_tables(n_in, n_out)
    assert tables is not None and tables[3] == kind
    rng = np.random.default_rng(n_in * 3 + n_out)
    frame = rng.integers(0, 256, (21, n_in + 7), np.uint8)
    src = frame[1:20, 3 : 3 + n_in]  # strided rows, like a crop of a decoded frame
    canvas = np.full((23, n_out + 5), 77, np.uint8)
    out = canvas[2:21, 2 : 2 + n_out]
    permute_rows.resample_rows(src, *tables, out)
    assert np.array_equal(out, _by_transposes(np.ascontiguousarray(src), n_out))
    for value in (0, 255):  # the ends of the signed offset
        permute_rows.resample_rows(np.full_like(src, value), *tables, out)
        assert (out == value).all()
    out[...] = 77
    assert (canvas == 77).all(), "the kernel wrote outside its rows"


@pytest.mark.parametrize(
    ("n_in", "n_out", "why"),
    [
        (1920, 100, "footprints of 20 inputs"),
        (100, 60, "a row shorter than the window"),
        (640, 20, "fewer outputs than a step of pairs"),
        (1920, 15, "fewer outputs than a step of quads"),
    ],
)
def test_rows_it_cannot_take_are_left_to_the_transposes(n_in: int, n_out: int, why: str) -> None:
    assert permute_rows.step_tables(n_in, n_out) is None, why


def test_a_shrinking_plan_narrows_tiles_without_transposing() -> None:
    """1024x576 into a 636x358 tile: the plan's only scratch is the rows pass's few rows."""
    rng = np.random.default_rng(5)
    src = rng.integers(0, 256, (576, 1024), np.uint8)
    canvas = np.zeros((362, 640), np.uint8)
    dst = canvas[2:360, 2:638]
    plan = ScalePlan(1024, 576, 636, 358)
    plan.apply(src, dst)
    assert [key[0] for key in plan.scratch if key[0] != "sep-acc"] == ["sep-chunk"]
    first, weights, count, flat = separable.axis_taps(576, 358)
    mid = np.empty((358, 1024), np.uint8)
    vertical_pass.vertical(src, first, weights, count, flat, mid, np.empty(4096, np.uint16), False)
    assert np.array_equal(dst, _by_transposes(mid, 636))


@pytest.mark.parametrize(("n_in", "n_out"), [(1920, 1280), (640, 1920), (130, 129)])
def test_two_taps_also_run_32_outputs_a_step(n_in: int, n_out: int) -> None:
    """The step of 32 outputs, which two-tap rows take where 64 outputs do not fit a window."""
    first, weights, count, _ = separable.axis_taps(n_in, n_out)
    rows = [permute_rows._taps(int(first[o]), weights[o], int(count[o])) for o in range(n_out)]
    tables = permute_rows._tables(rows, first, n_in, n_out, permute_rows.PAIRS1)
    assert tables is not None and tables[3] == permute_rows.PAIRS1
    src = np.random.default_rng(n_out).integers(0, 256, (5, n_in), np.uint8)
    out = np.empty((5, n_out), np.uint8)
    permute_rows.resample_rows(src, *tables, out)
    assert np.array_equal(out, _by_transposes(src, n_out))
