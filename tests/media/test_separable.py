"""The any-ratio separable kernels (media.separable) against the float64 reference."""

from __future__ import annotations

import numpy as np
import pytest

from media import separable, vertical_pass
from media.scaling import HAVE_OPENCV, ScalePlan, resample_float

pytestmark = pytest.mark.skipif(
    not (separable.HAVE_NUMBA and HAVE_OPENCV), reason="Numba or OpenCV is not installed"
)

# awkward ratios on each axis: 1920->636, 720->424, 1024->958, 352->638, 288->718 (shrinking,
# enlarging and one of each), given as luma sizes; the chroma plane is half of both
CASES = [
    ((1920, 720), (636, 424)),
    ((1024, 288), (958, 718)),
    ((352, 288), (638, 718)),
    ((720, 1024), (424, 958)),
    ((1080, 1920), (132, 236)),
]


def _reference(src: np.ndarray, dst_w: int, dst_h: int) -> np.ndarray:
    ref = resample_float(src.astype(np.float64), dst_h, dst_w, "float64")
    return np.floor(ref + 0.5 + 1e-9)


def _check(got: np.ndarray, src: np.ndarray) -> None:
    """At most one level from the rounded reference, two for at most 1 pixel in 10**3."""
    ref = _reference(src, got.shape[1], got.shape[0])
    err = np.abs(got.astype(np.float64) - ref)
    assert err.max() <= 2, err.max()
    assert np.count_nonzero(err > 1) <= max(1, got.size // 10**3), np.count_nonzero(err > 1)


@pytest.mark.parametrize(("src_size", "dst_size"), CASES)
@pytest.mark.parametrize("plane", ["luma", "chroma", "rgb24"])
@pytest.mark.parametrize("destination", ["tile", "plane"])
def test_awkward_ratios_match_the_reference(
    src_size: tuple[int, int], dst_size: tuple[int, int], plane: str, destination: str
) -> None:
    (sw, sh), (dw, dh) = src_size, dst_size
    if plane == "chroma":
        sw, sh, dw, dh = sw // 2, sh // 2, dw // 2, dh // 2
    tail = (3,) if plane == "rgb24" else ()
    rng = np.random.default_rng(sw * 31 + dh)
    frame = rng.integers(0, 256, (sh + 6, sw + 8, *tail), np.uint8)
    src = frame[2 : 2 + sh, 4 : 4 + sw]  # a crop: strided rows, like a real source region
    if destination == "tile":
        out = np.full((dh + 4, dw + 6, *tail), 77, np.uint8)
        dst = out[2 : 2 + dh, 3 : 3 + dw]
        assert not dst.flags.c_contiguous
    else:
        out = np.full((dh * dw * (3 if tail else 1) + 16,), 77, np.uint8)
        dst = out[8:-8].reshape(dh, dw, *tail)
        assert dst.flags.c_contiguous
    plan = ScalePlan(sw, sh, dw, dh)
    assert plan.separable and plan._fixed is None
    plan.apply(src, dst)
    _check(dst, src)
    dst[...] = 77
    assert (out == 77).all(), "the kernel wrote outside its tile"


@pytest.mark.parametrize(("src_size", "dst_size"), CASES)
def test_smooth_pictures_are_within_one_level(
    src_size: tuple[int, int], dst_size: tuple[int, int]
) -> None:
    (sw, sh), (dw, dh) = src_size, dst_size
    y, x = np.mgrid[0:sh, 0:sw]
    src = (127.5 + 120 * np.sin(x / 37.0) * np.cos(y / 23.0)).astype(np.uint8)
    dst = np.zeros((dh, dw), np.uint8)
    ScalePlan(sw, sh, dw, dh).apply(src, dst)
    ref = _reference(src, dw, dh)
    assert np.abs(dst - ref).max() <= 1


@pytest.mark.parametrize(("src_size", "dst_size"), CASES)
@pytest.mark.parametrize("value", [0, 1, 128, 254, 255])
def test_flat_planes_stay_exact(
    src_size: tuple[int, int], dst_size: tuple[int, int], value: int
) -> None:
    (sw, sh), (dw, dh) = src_size, dst_size
    dst = np.zeros((dh, dw), np.uint8)
    ScalePlan(sw, sh, dw, dh).apply(np.full((sh, sw), value, np.uint8), dst)
    assert (dst == value).all()


def test_axis_taps_area_and_bilinear_weights() -> None:
    first, weights, count, flat = separable.axis_taps(4, 3)  # 3/4 area: (3, 1), (2, 2), (1, 3) / 4
    assert first.tolist() == [0, 1, 2] and count.tolist() == [2, 2, 2]
    assert weights.tolist() == [[192, 64], [128, 128], [64, 192]] and not flat.any()
    first, weights, count, flat = separable.axis_taps(2, 3)  # bilinear 3/2, clamped edges
    assert first.tolist() == [0, 0, 1] and count.tolist() == [1, 2, 1]
    assert weights.tolist() == [[256, 0], [128, 128], [256, 0]]
    first, weights, count, flat = separable.axis_taps(1920, 424)  # 4.53 inputs per output
    assert (weights.sum(axis=1) == separable.UNIT).all()
    assert count.max() == 6 and (first + count <= 1920).all()
    # whole interior inputs share one weight (256 / 4.53 = 56.5 -> 56 or 57 for every row)
    assert flat.all()
    for o in range(424):
        inner = weights[o, 1 : count[o] - 1]
        assert (inner == inner[0]).all() and inner[0] in (56, 57)
    with pytest.raises(ValueError, match="axis lengths"):
        separable.axis_taps(0, 3)


def test_known_values() -> None:
    # 5 -> 3 area: footprints of 5/3 inputs, weights (0.6, 0.4), (0.2, 0.6, 0.2), (0.4, 0.6)
    src = np.array([[0, 100, 200, 50, 250]] * 5, np.uint8)
    dst = np.zeros((3, 3), np.uint8)
    plan = ScalePlan(5, 5, 3, 3)
    assert plan.separable
    plan.apply(src, dst)
    assert dst.tolist() == [[40, 150, 170]] * 3


@pytest.mark.parametrize(("n_in", "n_out"), [(176, 144), (288, 718), (1024, 958), (576, 236)])
def test_uniform_path_gives_the_general_path_s_bits(n_in: int, n_out: int) -> None:
    # footprints of at most four rows take one uniform path (zero-weight taps, rows clamped
    # inside the picture); the general per-row path must give exactly the same bytes
    first, weights, count, flat = separable.axis_taps(n_in, n_out)
    assert weights.shape[1] <= 4 and (count < weights.shape[1]).any()
    src = np.random.default_rng(n_in + n_out).integers(0, 256, (n_in, 70), np.uint8)
    acc = np.empty(256, np.uint16)
    got = np.zeros((n_out, 70), np.uint8)
    want = np.zeros((n_out, 70), np.uint8)
    vertical_pass.vertical(src, first, weights, count, flat, got, acc, True)
    vertical_pass._general(src, first, weights, count, flat, want, acc, False)
    np.testing.assert_array_equal(got, want)
    _check(got, src)


def test_a_plan_reuses_its_prepared_run_frame_after_frame() -> None:
    rng = np.random.default_rng(5)
    plan = ScalePlan(1080, 1920, 132, 236)
    dst = np.zeros((236, 132), np.uint8)
    for _ in range(3):
        src = rng.integers(0, 256, (1920, 1080), np.uint8)
        plan.apply(src, dst)
        fresh = np.zeros_like(dst)
        separable.resize(
            src, fresh, lambda tag, shape: np.empty(shape, np.uint16 if tag == "acc" else np.uint8)
        )
        np.testing.assert_array_equal(dst, fresh)
        _check(dst, src)
    assert len(plan._runners) == 1


# planes of every kind of footprint, widening and narrowing, taller and shorter
WAYS_CASES = [
    ((1280, 720), (1920, 1080)),
    ((352, 288), (638, 718)),
    ((1024, 576), (636, 358)),
    ((1920, 1080), (424, 238)),
    ((1080, 1920), (132, 236)),
    ((720, 1024), (424, 958)),
    ((288, 352), (718, 200)),
]


@pytest.mark.parametrize(("src_size", "dst_size"), WAYS_CASES)
def test_every_way_of_the_columns_pass_gives_the_same_bits(
    src_size: tuple[int, int], dst_size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Byte permutes (row by row), byte shuffles and transposes, each forced where the CPU has
    the instructions: the same planes, bit for bit."""
    (sw, sh), (dw, dh) = src_size, dst_size
    rng = np.random.default_rng(sw * 3 + dh)
    frame = rng.integers(0, 256, (sh + 4, sw + 6), np.uint8)
    src = frame[2 : 2 + sh, 3 : 3 + sw]

    def run() -> np.ndarray:
        canvas = np.full((dh + 4, dw + 6), 77, np.uint8)
        dst = canvas[2 : 2 + dh, 3 : 3 + dw]
        scratch: dict[tuple[object, ...], np.ndarray] = {}

        def buffer(tag: str, shape: tuple[int, ...]) -> np.ndarray:
            key = (tag, shape)
            if key not in scratch:
                scratch[key] = np.empty(shape, np.uint16 if tag == "acc" else np.uint8)
            return scratch[key]

        separable.prepare(src.shape, dst.shape, buffer)(src, dst)
        out = dst.copy()
        dst[...] = 77
        assert (canvas == 77).all(), "the kernels wrote outside their tile"
        return out

    results = {"default": run()}
    monkeypatch.setattr(separable, "HAVE_PERMUTE", False)
    results["shuffles"] = run()
    monkeypatch.setattr(separable, "HAVE_SHUFFLE", False)
    results["transposes"] = run()
    for way, got in results.items():
        assert np.array_equal(got, results["transposes"]), way
    _check(results["default"], np.ascontiguousarray(src))
