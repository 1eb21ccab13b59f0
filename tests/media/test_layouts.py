from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from media.layouts import Layout, Rect, fit, resolve_layout, tile_rects


def test_layout4_rectangles_at_720p() -> None:
    assert tile_rects("LAYOUT4", 1280, 720) == (
        Rect(0, 0, 638, 358),
        Rect(642, 0, 638, 358),
        Rect(0, 362, 638, 358),
        Rect(642, 362, 638, 358),
    )


def test_layout6_has_one_large_and_five_small_tiles() -> None:
    rects = tile_rects(Layout.LAYOUT6, 1920, 1080)
    assert rects[0] == Rect(0, 0, 1278, 718)
    assert rects[1:] == (
        Rect(1282, 0, 638, 356),
        Rect(1282, 360, 638, 358),
        Rect(0, 722, 636, 358),
        Rect(640, 722, 638, 358),
        Rect(1282, 722, 638, 358),
    )


def test_layout9_without_gutter_tiles_the_canvas() -> None:
    rects = tile_rects(9, 1920, 1080, gutter=0)
    assert [r.w for r in rects[:3]] == [640, 640, 640]
    assert sum(r.area for r in rects) == 1920 * 1080


def test_layouts_1_2_3() -> None:
    assert tile_rects("1", 640, 360) == (Rect(0, 0, 640, 360),)
    assert tile_rects("layout2", 640, 360) == (Rect(0, 0, 318, 360), Rect(322, 0, 318, 360))
    assert tile_rects("LAYOUT3", 640, 360) == (
        Rect(160, 0, 318, 178),
        Rect(0, 182, 318, 178),
        Rect(322, 182, 318, 178),
    )


@pytest.mark.parametrize(
    ("active", "expected"),
    [
        (0, "LAYOUT1"),
        (1, "LAYOUT1"),
        (2, "LAYOUT2"),
        (3, "LAYOUT3"),
        (4, "LAYOUT4"),
        (5, "LAYOUT6"),
        (6, "LAYOUT6"),
        (7, "LAYOUT9"),
        (9, "LAYOUT9"),
        (150, "LAYOUT9"),
    ],
)
def test_layout0_follows_the_participant_count(active: int, expected: str) -> None:
    assert resolve_layout(Layout.LAYOUT0, active) is Layout(expected)
    assert len(tile_rects("LAYOUT0", 1280, 720, active=active)) == min(
        9, max(1, Layout(expected).tiles)
    )


@settings(max_examples=60, deadline=None)
@given(
    layout=st.sampled_from([m for m in Layout if m is not Layout.LAYOUT0]),
    width=st.integers(8, 960).map(lambda v: 2 * v),
    height=st.integers(8, 960).map(lambda v: 2 * v),
    gutter=st.sampled_from([0, 2, 4, 8]),
)
def test_tiles_are_even_inside_and_disjoint(
    layout: Layout, width: int, height: int, gutter: int
) -> None:
    rects = tile_rects(layout, width, height, gutter=gutter)
    canvas = Rect(0, 0, width, height)
    for r in rects:
        assert canvas.contains(r)
        assert r.x % 2 == r.y % 2 == r.w % 2 == r.h % 2 == 0
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            overlap_x = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
            overlap_y = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
            assert overlap_x <= 0 or overlap_y <= 0


def test_fit_snaps_to_exact_half_with_a_small_crop() -> None:
    p = fit(1280, 720, Rect(642, 362, 638, 358))
    assert p.scale == Fraction(1, 2)
    assert p.content == Rect(642, 362, 638, 358)
    assert p.source == Rect(2, 2, 1276, 716)


def test_fit_snaps_to_three_quarters_and_two_thirds() -> None:
    quarter = fit(1280, 720, Rect(0, 0, 958, 538))
    assert (quarter.scale, quarter.content.w, quarter.content.h) == (Fraction(3, 4), 954, 534)
    assert (quarter.source.w, quarter.source.h) == (1272, 712)
    two_thirds = fit(1280, 720, Rect(0, 0, 852, 478))
    assert two_thirds.scale == Fraction(2, 3)
    assert (two_thirds.source.w * 2, two_thirds.source.h * 2) == (
        two_thirds.content.w * 3,
        two_thirds.content.h * 3,
    )


def test_a_snap_that_would_cut_one_percent_at_an_edge_is_not_taken() -> None:
    # 1280x720 in 1246x700: 2.7 % from 1:1, which would cut 17 columns (1.3 %) at each side
    tile = Rect(0, 0, 1246, 700)
    loose = fit(1280, 720, tile, max_crop=0.02)
    assert loose.scale == 1 and loose.source == Rect(16, 10, 1246, 700)
    strict = fit(1280, 720, tile)
    assert strict.scale is None and strict.source == Rect(0, 0, 1280, 720)
    assert strict.content.w <= tile.w and strict.content.h <= tile.h
    assert fit(1280, 720, tile, max_crop=0.0).scale is None


@pytest.mark.parametrize("mode", ["letterbox", "crop"])
def test_every_snap_cuts_under_one_percent_at_each_edge(mode: str) -> None:
    sources = [(352, 288), (640, 360), (848, 480), (960, 540), (1024, 576), (1280, 720)]
    sources += [(1920, 1080), (720, 1280), (1080, 1920), (1276, 716), (1300, 740)]
    snapped = 0
    for layout in ("LAYOUT1", "LAYOUT2", "LAYOUT3", "LAYOUT4", "LAYOUT6", "LAYOUT9"):
        for width, height in ((1280, 720), (1920, 1080), (960, 540), (640, 360)):
            for tile in tile_rects(layout, width, height):
                for sw, sh in sources:
                    p = fit(sw, sh, tile, mode=mode)
                    base = fit(sw, sh, tile, mode=mode, snap=0.0)
                    cuts_x = (p.source.x - base.source.x, base.source.w - p.source.w)
                    cuts_y = (p.source.y - base.source.y, base.source.h - p.source.h)
                    assert max(cuts_x[0], cuts_x[1] - cuts_x[0]) < 0.01 * sw, (sw, sh, tile)
                    assert max(cuts_y[0], cuts_y[1] - cuts_y[0]) < 0.01 * sh, (sw, sh, tile)
                    snapped += p.scale is not None
    assert snapped > 100  # the rule still leaves most exact ratios in place


def test_letterbox_and_crop_without_snapping() -> None:
    tile = Rect(100, 50, 400, 400)
    box = fit(1280, 720, tile, mode="letterbox", snap=0.0)
    assert box.scale is None
    assert box.content == Rect(100, 138, 400, 224)
    assert box.source == Rect(0, 0, 1280, 720)
    crop = fit(1280, 720, tile, mode="crop", snap=0.0)
    assert crop.content == tile
    assert crop.source == Rect(280, 0, 720, 720)


def test_upscale_snaps_to_one_to_one_copy() -> None:
    p = fit(1280, 720, Rect(0, 0, 1278, 718))
    assert p.scale == 1 and p.content.w == p.source.w == 1278


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: tile_rects("LAYOUT5", 640, 360), "layout: expected one of LAYOUT0, LAYOUT1"),
        (lambda: tile_rects("LAYOUT4", 641, 360), "width: expected an even integer >= 16, got 641"),
        (
            lambda: tile_rects("LAYOUT4", 640, 360, gutter=3),
            "gutter: expected an even integer >= 0, got 3",
        ),
        (lambda: tile_rects("LAYOUT0", 640, 360), "active: LAYOUT0 needs the number"),
        (
            lambda: fit(1280, 720, Rect(0, 0, 64, 64), mode="stretch"),
            "mode: expected one of letterbox, crop",
        ),
        (
            lambda: fit(1280, 720, Rect(0, 0, 64, 64), max_crop=0.5),
            "max_crop: expected a fraction in 0..0.5, got 0.5",
        ),
        (
            lambda: fit(1281, 720, Rect(0, 0, 64, 64)),
            "source size: expected even dimensions >= 2, got 1281x720",
        ),
    ],
)
def test_bad_geometry_input(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        call()  # type: ignore[operator]
