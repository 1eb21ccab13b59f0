from __future__ import annotations

import numpy as np
import pytest

from media._numba import HAVE_NUMBA
from media.mixer import Mixer, levels_dbfs

BACKENDS = [
    pytest.param(False, id="numpy"),
    pytest.param(
        True, id="numba", marks=pytest.mark.skipif(not HAVE_NUMBA, reason="Numba is not installed")
    ),
]


@pytest.fixture(params=BACKENDS)
def use_numba(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def frames_of(*rows: list[int], samples: int = 160) -> np.ndarray:
    return np.array([np.resize(np.array(r, np.int16), samples) for r in rows], np.int16)


def test_mix_minus_is_total_minus_own(use_numba: bool) -> None:
    mixer = Mixer(8000, capacity=4, use_numba=use_numba)
    x = frames_of([100, -200], [10, 20], [1, 2], [-1000, 0])
    result = mixer.mix(x)
    assert result.full[:2].tolist() == [-889, -178]
    assert result.minus[0, :2].tolist() == [-989, 22]
    assert result.minus[1, :2].tolist() == [-899, -198]
    assert result.minus[2, :2].tolist() == [-890, -180]
    assert result.minus[3, :2].tolist() == [111, -178]
    assert result.limited == 0
    assert result.minus.shape == (4, 160) and result.minus.dtype == np.int16


def test_fast_and_limited_paths_agree_with_a_float_reference(use_numba: bool) -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(-3000, 3000, (9, 960)).astype(np.int16)
    mixer = Mixer(48000, capacity=9, use_numba=use_numba)
    result = mixer.mix(x)
    total = x.astype(np.int64).sum(axis=0)
    assert np.array_equal(result.full, total)
    assert np.array_equal(result.minus, total[None, :] - x)


def test_limiter_at_full_scale_scales_instead_of_clipping(use_numba: bool) -> None:
    mixer = Mixer(16000, capacity=3, threshold_dbfs=-1.0, use_numba=use_numba)
    t = np.arange(320) / 16000
    loud = (32767 * np.sin(2 * np.pi * 400 * t)).astype(np.int16)
    x = np.stack([loud, loud, loud])
    result = mixer.mix(x)
    threshold = 32767 * 10 ** (-1 / 20)
    expected = 2.0 * loud  # what participant 0 should hear, before the limiter
    heard = result.minus[0].astype(float)
    assert np.abs(heard).max() <= threshold + 0.5
    gain = np.abs(heard).max() / np.abs(expected).max()
    assert gain == pytest.approx(threshold / np.abs(expected).max(), rel=1e-3)
    # scaled, not clipped: the waveform keeps its shape (no flat tops)
    assert np.allclose(heard, expected * gain, atol=1.0)
    assert np.abs(result.full).max() <= threshold + 0.5
    assert result.limited == 4  # three mix-minus rows and the full mix


def test_limiter_releases_smoothly(use_numba: bool) -> None:
    mixer = Mixer(8000, capacity=2, release_ms=100, use_numba=use_numba)
    loud = np.full((2, 160), 20000, np.int16)
    quiet = np.full((2, 160), 1000, np.int16)
    result = mixer.mix(loud)
    assert mixer.gains.tolist() == [1.0, 1.0]  # each hears the other: 20000, under -1 dBFS
    threshold = 32767 * 10 ** (-1 / 20)
    assert result.full.max() == round(threshold)  # 40000 limited to the threshold
    ramps, gains = [], []
    for _ in range(20):
        result = mixer.mix(quiet)
        ramps.append(result.full.copy())
        gains.append(result.full[-1] / 2000)
    assert gains == sorted(gains)  # recovers monotonically towards 1
    assert gains[0] < 0.85 and gains[-1] == pytest.approx(1.0, abs=0.01)
    first = ramps[0].astype(int)  # within a releasing frame the gain ramps up, no step
    assert np.all(np.diff(first) >= 0) and first[-1] - first[0] > 50
    assert np.array_equal(result.minus, np.full((2, 160), 1000))


def test_levels_dbfs() -> None:
    x = np.stack(
        [np.full(160, 32767, np.int16), np.zeros(160, np.int16), np.full(160, 3277, np.int16)]
    )
    levels = levels_dbfs(x)
    assert levels[0] == pytest.approx(0.0, abs=0.01)
    assert levels[1] == -np.inf
    assert levels[2] == pytest.approx(-20.0, abs=0.01)


def test_levels_of_the_last_tick_match_levels_dbfs(use_numba: bool) -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(-3000, 3000, (5, 320)).astype(np.int16)
    mixer = Mixer(16000, capacity=5, use_numba=use_numba)
    mixer.mix(x)
    assert np.allclose(mixer.levels_dbfs(), levels_dbfs(x))


def test_two_hundred_participants(use_numba: bool) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(-50, 50, (200, 960)).astype(np.int16)
    result = Mixer(48000, capacity=200, use_numba=use_numba).mix(x)
    assert np.array_equal(result.minus[199], x.astype(np.int64).sum(axis=0) - x[199])


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        (np.zeros((2, 160), np.float32), "frames: expected dtype int16, got float32"),
        (np.zeros(160, np.int16), "frames: expected 2 dimensions, got 1"),
        (
            np.zeros((2, 161), np.int16),
            "frames: expected shape (1..3, 160) for 20 ms at 8000 Hz, got (2, 161)",
        ),
        (
            np.zeros((4, 160), np.int16),
            "frames: expected shape (1..3, 160) for 20 ms at 8000 Hz, got (4, 160)",
        ),
        ([[0] * 160], "frames: expected a numpy.ndarray, got list"),
    ],
)
def test_bad_frames(frames: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        Mixer(8000, capacity=3).mix(frames)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_bad_settings() -> None:
    with pytest.raises(
        ValueError, match="sample_rate: expected one of 8000, 16000, 48000, got 44100"
    ):
        Mixer(44100)
    with pytest.raises(ValueError, match="capacity: expected a value in 1..200, got 201"):
        Mixer(48000, capacity=201)


def test_numba_and_numpy_back_ends_give_the_same_bits() -> None:
    """Attack, hold and release, varying participant counts: every output int16 and every gain."""
    if not HAVE_NUMBA:
        pytest.skip("Numba is not installed")
    rng = np.random.default_rng(5)
    compiled = Mixer(48000, capacity=40, release_ms=60, use_numba=True)
    reference = Mixer(48000, capacity=40, release_ms=60, use_numba=False)
    limited_ticks = 0
    for tick in range(60):
        n = int(rng.integers(1, 41))
        level = [300, 3000, 30000][tick // 4 % 3]  # quiet, busy, loud: the gains move both ways
        x = rng.integers(-level, level + 1, (n, 960)).astype(np.int16)
        got, want = compiled.mix(x), reference.mix(x)
        assert np.array_equal(got.full, want.full), tick
        assert np.array_equal(got.minus, want.minus), tick
        assert got.limited == want.limited, tick
        assert np.array_equal(compiled.gains, reference.gains), tick
        assert np.allclose(compiled.levels_dbfs(), reference.levels_dbfs(), atol=1e-4)
        limited_ticks += got.limited > 0
    assert 10 < limited_ticks < 60  # both paths (fast and limited) were exercised


def test_use_numba_without_numba_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import media.mixer

    monkeypatch.setattr(media.mixer, "HAVE_NUMBA", False)
    with pytest.raises(ValueError, match="use_numba: Numba is not installed"):
        Mixer(48000, use_numba=True)
