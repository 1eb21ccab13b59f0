from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest

import media.scaling
from media.colour import i420_planes, rgb_to_yuv
from media.compositor import Compositor
from media.layouts import Rect
from media.testpattern import pattern_i420, pattern_rgb

U8 = npt.NDArray[np.uint8]
Solid = Callable[[int, int, tuple[int, int, int]], U8]
RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)
BG = (16, 16, 16)


def region(frame: U8, rect: Rect) -> tuple[U8, U8, U8]:
    y, u, v = i420_planes(frame)
    return (
        y[rect.y : rect.y + rect.h, rect.x : rect.x + rect.w],
        u[rect.y // 2 : (rect.y + rect.h) // 2, rect.x // 2 : (rect.x + rect.w) // 2],
        v[rect.y // 2 : (rect.y + rect.h) // 2, rect.x // 2 : (rect.x + rect.w) // 2],
    )


def assert_colour(frame: U8, rect: Rect, rgb: tuple[int, int, int]) -> None:
    for plane, expected in zip(region(frame, rect), rgb_to_yuv(rgb), strict=True):
        assert plane.size and np.all(plane == expected), (rect, rgb, np.unique(plane))


def test_layout4_tiles_show_each_colour_and_gutters_the_background(solid: Solid) -> None:
    comp = Compositor("LAYOUT4", 640, 360)
    colours = [RED, GREEN, BLUE, WHITE]
    out = comp.compose([solid(640, 360, c) for c in colours])
    assert out.shape == (540, 640) and out.dtype == np.uint8
    for tile, colour in zip(comp.tile_rects(4), colours, strict=True):
        assert_colour(out, tile, colour)
    assert_colour(out, Rect(318, 0, 4, 360), BG)  # vertical gutter
    assert_colour(out, Rect(0, 178, 640, 4), BG)  # horizontal gutter


def test_empty_tiles_and_participants_leaving(solid: Solid) -> None:
    comp = Compositor("LAYOUT4", 640, 360)
    tiles = comp.tile_rects(4)
    out = comp.compose([solid(640, 360, RED), None, solid(640, 360, BLUE)])
    assert_colour(out, tiles[1], BG)
    assert_colour(out, tiles[3], BG)
    assert_colour(out, tiles[2], BLUE)
    out = comp.compose([solid(640, 360, RED), solid(640, 360, GREEN), None, None])
    assert_colour(out, tiles[1], GREEN)  # joined
    assert_colour(out, tiles[2], BG)  # left


def test_exact_area_average_of_a_checkerboard() -> None:
    # 1/2 area average of a 0/255 pixel checkerboard is 127.5 everywhere, rounded to 128
    src = np.zeros((108, 128), np.uint8)
    y, u, v = i420_planes(src)
    y[:] = (np.indices(y.shape).sum(axis=0) % 2) * 255
    u[:] = 100
    v[:] = 200
    for use_opencv in (True, False):
        comp = Compositor("LAYOUT1", 64, 36, use_opencv=use_opencv)
        out_y, out_u, out_v = i420_planes(comp.compose([src]))
        assert np.all(out_y == 128) and np.all(out_u == 100) and np.all(out_v == 200)


def test_speaker_border_moves_and_is_erased(solid: Solid) -> None:
    comp = Compositor("LAYOUT4", 640, 360, border=4, border_colour=WHITE)
    frames = [solid(640, 360, c) for c in (RED, GREEN, BLUE, RED)]
    tiles = comp.tile_rects(4)
    out = comp.compose(frames, speaker=1)
    t = tiles[1]
    assert_colour(out, Rect(t.x, t.y, t.w, 4), WHITE)
    assert_colour(out, Rect(t.x, t.y + 4, 4, t.h - 8), WHITE)
    assert_colour(out, Rect(t.x + 4, t.y + 4, t.w - 8, t.h - 8), GREEN)
    out = comp.compose(frames, speaker=2)
    assert_colour(out, tiles[1], GREEN)
    assert_colour(out, Rect(tiles[2].x, tiles[2].y, tiles[2].w, 4), WHITE)


def test_letterbox_bars_are_repainted_when_the_border_leaves(solid: Solid) -> None:
    comp = Compositor("LAYOUT2", 640, 360, border=4, border_colour=WHITE)
    frames = [solid(640, 360, RED), solid(640, 360, GREEN)]
    tile = comp.tile_rects(2)[0]
    comp.compose(frames, speaker=0)
    out = comp.compose(frames, speaker=None)
    assert_colour(out, Rect(tile.x, tile.y, tile.w, 4), BG)  # top bar back to background
    content = comp.plan(640, 360, tile).content
    assert_colour(out, content, RED)


def test_layout6_puts_the_speaker_in_the_large_tile(solid: Solid) -> None:
    colours = [RED, GREEN, BLUE, WHITE, GREEN, BLUE]
    comp = Compositor("LAYOUT6", 960, 540, border=0)
    out = comp.compose([solid(640, 360, c) for c in colours], speaker=3)
    tiles = comp.tile_rects(6)
    # the small tiles are 2.2 % from 1/2: snapping would cut 4 rows (1.1 %) at the top and
    # bottom, over max_crop, so they are letterboxed (bars above and below the content)
    assert comp.plan(640, 360, tiles[1]).scale is None
    for tile, colour in zip(tiles, (WHITE, RED, GREEN, BLUE), strict=False):
        assert_colour(out, comp.plan(640, 360, tile).content, colour)


def test_layout0_follows_the_number_of_frames(solid: Solid) -> None:
    comp = Compositor("LAYOUT0", 640, 360)
    out = comp.compose([solid(320, 180, RED), None, solid(320, 180, BLUE)])
    left, right = comp.tile_rects(2)
    assert_colour(out, comp.plan(320, 180, left).content, RED)
    assert_colour(out, comp.plan(320, 180, right).content, BLUE)
    out = comp.compose([solid(320, 180, GREEN)])
    assert_colour(out, Rect(0, 0, 640, 360), GREEN)


def test_rgb24_output() -> None:
    comp = Compositor("LAYOUT9", 384, 216, "rgb24", gutter=0)
    frames = [np.full((72, 128, 3), 10 * i, np.uint8) for i in range(9)]
    out = comp.compose(frames)
    assert out.shape == (216, 384, 3)
    for i, tile in enumerate(comp.tile_rects(9)):
        assert np.all(out[tile.y : tile.y + tile.h, tile.x : tile.x + tile.w] == 10 * i)


def test_non_contiguous_source_frames() -> None:
    frame = np.asfortranarray(pattern_i420(640, 360, 1))
    comp = Compositor("LAYOUT4", 640, 360)
    out = comp.compose([frame, frame[:, :]])
    again = Compositor("LAYOUT4", 640, 360).compose([np.ascontiguousarray(frame)] * 2)
    assert np.array_equal(out, again)


def test_rgb24_sources_of_odd_size() -> None:
    comp = Compositor("LAYOUT1", 64, 36, "rgb24")
    out = comp.compose([np.full((73, 129, 3), 77, np.uint8)])
    assert np.all(out[comp.plan(128, 72, comp.tile_rects(1)[0]).content.y :] == 77)
    with pytest.raises(
        ValueError, match=r"frames\[0\]: expected rgb24 shape \(h >= 2, w >= 2, 3\)"
    ):
        comp.compose([np.zeros((36, 64, 4), np.uint8)])


def test_single_full_size_participant_is_returned_without_a_copy() -> None:
    frame = pattern_i420(320, 180)
    comp = Compositor("LAYOUT1", 320, 180)
    assert comp.compose([frame]) is frame
    bordered = comp.compose([frame], speaker=0)
    assert bordered is comp.buffer
    assert Compositor("LAYOUT1", 320, 180, zero_copy=False).compose([frame]) is not frame


def test_scaling_plans_are_cached_per_source_size_and_tile() -> None:
    comp = Compositor("LAYOUT4", 640, 360)
    frames = [pattern_i420(640, 360, i) for i in range(4)]
    comp.compose(frames)
    tile = comp.tile_rects(4)[0]
    first = comp.plan(640, 360, tile)
    comp.compose(frames)
    assert comp.plan(640, 360, tile) is first
    assert comp.plan(320, 180, tile) is not first


@pytest.mark.parametrize("layout", ["LAYOUT1", "LAYOUT4", "LAYOUT6", "LAYOUT9"])
@pytest.mark.parametrize("size", [(640, 360), (960, 540)])
def test_numpy_fallback_gives_the_same_picture(layout: str, size: tuple[int, int]) -> None:
    frames = [pattern_i420(640, 360, i) for i in range(9)]
    n = int(layout[-1])
    fast = Compositor(layout, *size, zero_copy=False).compose(frames[:n]).astype(int)
    slow = (
        Compositor(layout, *size, use_opencv=False, zero_copy=False).compose(frames[:n]).astype(int)
    )
    assert np.abs(fast - slow).max() <= 3
    assert np.mean(np.abs(fast - slow)) < 0.5


def test_compositor_without_opencv(monkeypatch: pytest.MonkeyPatch, solid: Solid) -> None:
    monkeypatch.setattr(media.scaling, "cv2", None)
    monkeypatch.setattr(media.scaling, "HAVE_OPENCV", False)
    monkeypatch.setattr("media.compositor.HAVE_OPENCV", False)
    comp = Compositor("LAYOUT4", 640, 360)
    assert comp.use_opencv is False
    out = comp.compose([solid(640, 360, RED)])
    assert_colour(out, comp.tile_rects(4)[0], RED)
    with pytest.raises(ValueError, match="use_opencv: expected False or None"):
        Compositor("LAYOUT4", 640, 360, use_opencv=True)


def test_rgb_pattern_through_every_kernel_stays_close_to_the_source_mean() -> None:
    src = pattern_rgb(1280, 720, 3)
    for layout, size in (
        ("LAYOUT9", (1280, 720)),
        ("LAYOUT4", (1920, 1080)),
        ("LAYOUT1", (1920, 1080)),
    ):
        comp = Compositor(layout, *size, "rgb24")
        out = comp.compose([src] * int(layout[-1]))
        tile = comp.plan(1280, 720, comp.tile_rects(int(layout[-1]))[0]).content
        shown = out[tile.y : tile.y + tile.h, tile.x : tile.x + tile.w]
        assert abs(float(shown.mean()) - float(src.mean())) < 1.5


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        ([np.zeros((540, 640), np.float32)], "frames[0]: expected dtype uint8, got float32"),
        ([np.zeros((360, 640, 3), np.uint8)], "frames[0]: expected 2 dimensions, got 3"),
        (
            [np.zeros((541, 640), np.uint8)],
            "frames[0]: expected yuv420p shape (height * 3 // 2, width)",
        ),
        ([None] * 5, "frames: expected at most 4 visible frames for LAYOUT4, got 5"),
        (
            np.zeros((540, 640), np.uint8),
            "frames: expected a list of frames (None = empty), got ndarray",
        ),
    ],
)
def test_bad_frames_are_refused_with_expected_and_actual(frames: object, message: str) -> None:
    comp = Compositor("LAYOUT4", 640, 360)
    with pytest.raises(ValueError) as info:
        comp.compose(frames)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_bad_construction() -> None:
    with pytest.raises(
        ValueError, match="pixel_format: expected one of yuv420p, rgb24, got 'nv12'"
    ):
        Compositor("LAYOUT4", 640, 360, "nv12")
    with pytest.raises(ValueError, match="border: expected an even integer >= 0, got 3"):
        Compositor("LAYOUT4", 640, 360, border=3)
    with pytest.raises(ValueError, match=r"background: expected an \(r, g, b\) tuple"):
        Compositor("LAYOUT4", 640, 360, background=(0, 0, 300))
    with pytest.raises(ValueError, match="speaker: expected an index in 0..0, got 4"):
        Compositor("LAYOUT4", 640, 360).compose([None], speaker=4)
    with pytest.raises(ValueError, match="max_crop: expected a fraction in 0..0.5, got -0.1"):
        Compositor("LAYOUT4", 640, 360, max_crop=-0.1)
    with pytest.raises(ValueError, match="snap: expected a fraction in 0..0.5, got 0.7"):
        Compositor("LAYOUT4", 640, 360, snap=0.7)


def test_max_crop_reaches_the_tile_geometry(solid: Solid) -> None:
    # 1280x720 into LAYOUT9 at 720p: 1/3 cuts 6 rows at the top and bottom (0.83 % per edge)
    loose, strict = (
        Compositor("LAYOUT9", 1280, 720),
        Compositor("LAYOUT9", 1280, 720, max_crop=0.005),
    )
    tile = loose.tile_rects(9)[0]
    assert loose.plan(1280, 720, tile).source == Rect(4, 6, 1272, 708)
    assert strict.plan(1280, 720, tile).source == Rect(0, 0, 1280, 720)
    out = strict.compose([solid(1280, 720, RED)] * 9)
    assert_colour(out, strict.plan(1280, 720, tile).content, RED)
