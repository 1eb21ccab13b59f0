"""The video compositor: up to 9 visible participants into one I420 or RGB24 frame.

>>> comp = Compositor("LAYOUT4", 1280, 720)
>>> out = comp.compose([frame_a, None, frame_c])   # uint8 (1080, 1280), PyAV yuv420p layout

``frames`` lists the visible participants in tile order, ``None`` for an empty tile; an I420
frame is one ``(h * 3 // 2, w)`` array or a ``(y, u, v)`` tuple of plane views (PyAV frame
planes need no copy that way). The returned array is the compositor's own preallocated buffer
(copy it if you keep it past the next call), or, with ``zero_copy`` (the default), a single
participant frame that is exactly the whole output (LAYOUT1, same size, no border), returned as
is.
Tiles are repainted with the background only when what they show changes (a participant joins or
leaves, the source size changes, the speaker border moves); gutters are painted once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from media._checks import check_array, check_choice
from media.colour import i420_planes, rgb_to_yuv
from media.layouts import FIT_MODES, MAX_VISIBLE, Layout, Placement, Rect, fit, resolve_layout
from media.layouts import tile_rects as layout_tile_rects
from media.scaling import HAVE_OPENCV, ScalePlan, cv2

__all__ = ["PIXEL_FORMATS", "Compositor"]

PIXEL_FORMATS = ("yuv420p", "rgb24")
U8 = npt.NDArray[np.uint8]
RGB = tuple[int, int, int]


def _check_rgb(name: str, colour: Any) -> RGB:
    if (
        not isinstance(colour, tuple | list)
        or len(colour) != 3
        or not all(isinstance(c, int) and 0 <= c <= 255 for c in colour)
    ):
        raise ValueError(f"{name}: expected an (r, g, b) tuple of 0..255 integers, got {colour!r}")
    return (int(colour[0]), int(colour[1]), int(colour[2]))


def _plane_tuple(frame: tuple[Any, ...], name: str) -> tuple[U8, U8, U8]:
    """A ``(y, u, v)`` frame: three 2-D uint8 planes, chroma half the luma size (rounded down:
    the geometry uses even sizes), rows possibly padded (e.g. views of a PyAV frame's planes)."""
    if len(frame) != 3:
        raise ValueError(f"{name}: expected a (y, u, v) tuple of 3 planes, got {len(frame)} items")
    y, u, v = frame
    for plane_name, plane in (("y", y), ("u", u), ("v", v)):
        check_array(f"{name}.{plane_name}", plane, dtype=np.uint8, ndim=2)
    h, w = y.shape[0] & ~1, y.shape[1] & ~1
    if h < 2 or w < 2 or min(u.shape) < 1 or u.shape[0] < h // 2 or u.shape[1] < w // 2:
        raise ValueError(f"{name}: expected I420 planes, got shapes {y.shape}, {u.shape}")
    if v.shape != u.shape:
        raise ValueError(f"{name}: expected u and v of one shape, got {u.shape} and {v.shape}")
    return y[:h, :w], u[: h // 2, : w // 2], v[: h // 2, : w // 2]


@dataclass(frozen=True)
class _TilePlan:
    """Everything about one (source size, tile) pair that does not change between frames."""

    placement: Placement
    scaler: ScalePlan
    crops: tuple[tuple[slice, slice], ...]
    views: tuple[U8, ...]
    prefetch: bool


class Compositor:
    """Compose participant frames into a preallocated ``width`` x ``height`` frame."""

    def __init__(
        self,
        layout: Layout | str | int,
        width: int,
        height: int,
        pixel_format: str = "yuv420p",
        *,
        gutter: int = 4,
        fit_mode: str = "letterbox",
        snap: float = 0.03,
        max_crop: float = 0.01,
        background: RGB = (16, 16, 16),
        border: int = 4,
        border_colour: RGB = (255, 196, 0),
        speaker_in_large_tile: bool = True,
        zero_copy: bool = True,
        use_opencv: bool | None = None,
    ) -> None:
        self.layout = Layout.parse(layout)
        self.pixel_format = check_choice("pixel_format", pixel_format, PIXEL_FORMATS)
        check_choice("fit_mode", fit_mode, FIT_MODES)
        if isinstance(border, bool) or not isinstance(border, int) or border < 0 or border % 2:
            raise ValueError(f"border: expected an even integer >= 0, got {border!r}")
        layout_tile_rects(Layout.LAYOUT1, width, height, gutter=gutter)  # validates the canvas
        if use_opencv is None:
            use_opencv = HAVE_OPENCV
        elif use_opencv and not HAVE_OPENCV:
            raise ValueError(
                "use_opencv: expected False or None (OpenCV is not installed), got True"
            )
        self.width, self.height = width, height
        self.gutter, self.fit_mode, self.snap = gutter, fit_mode, snap
        self.max_crop = max_crop
        fit(2, 2, Rect(0, 0, 2, 2), snap=snap, max_crop=max_crop)  # validates both
        self.border = border
        self.speaker_in_large_tile = speaker_in_large_tile
        self.zero_copy = zero_copy
        self.use_opencv = use_opencv
        self._bg = self._colour(_check_rgb("background", background))
        self._border_colour = self._colour(_check_rgb("border_colour", border_colour))
        if pixel_format == "yuv420p":
            self.buffer: U8 = np.empty((height * 3 // 2, width), np.uint8)
            self._planes: tuple[U8, ...] = i420_planes(self.buffer, "buffer")
        else:
            self.buffer = np.empty((height, width, 3), np.uint8)
            self._planes = (self.buffer,)
        self._plans: dict[tuple[int, int, Rect], _TilePlan] = {}
        self._scratch: dict[tuple[object, ...], npt.NDArray[Any]] = {}  # shared by all plans
        self._tiles_by_count: dict[int, tuple[Rect, ...]] = {}
        self._shown: tuple[Rect, ...] = ()
        self._tile_state: list[object] = []
        self._fill(self._planes, (0, 0, width, height), self._bg)
        whole = Rect(0, 0, width, height)
        single = zero_copy and self.layout.tiles == 1 and self.tile_rects(1) == (whole,)
        self._whole_tile = whole if single else None  # LAYOUT1 without gutter: maybe no copy

    # -- colours and painting ------------------------------------------------------------------

    def _colour(self, rgb: RGB) -> tuple[Any, ...]:
        if self.pixel_format == "rgb24":
            return (np.array(rgb, np.uint8),)
        return tuple(np.uint8(c) for c in rgb_to_yuv(rgb))

    def _fill(
        self, planes: tuple[U8, ...], box: tuple[int, int, int, int], colour: tuple[Any, ...]
    ) -> None:
        x, y, w, h = box
        for index, (plane, value) in enumerate(zip(planes, colour, strict=True)):
            d = 2 if index else 1  # chroma planes are half size in both directions
            if self.pixel_format == "rgb24":
                d = 1
            plane[y // d : (y + h) // d, x // d : (x + w) // d] = value

    def _draw_border(self, rect: Rect) -> None:
        b, c = self.border, self._border_colour
        x, y, w, h = rect.x, rect.y, rect.w, rect.h
        b = min(b, w // 2 & ~1, h // 2 & ~1)
        for box in ((x, y, w, b), (x, y + h - b, w, b), (x, y, b, h), (x + w - b, y, b, h)):
            self._fill(self._planes, box, c)

    # -- geometry ------------------------------------------------------------------------------

    def tile_rects(self, active: int | None = None) -> tuple[Rect, ...]:
        """The tile rectangles used for ``active`` visible participants."""
        count = self.layout.tiles or min(MAX_VISIBLE, active or 0)
        rects = self._tiles_by_count.get(count)
        if rects is None:
            rects = layout_tile_rects(
                resolve_layout(self.layout, count), self.width, self.height, gutter=self.gutter
            )
            self._tiles_by_count[count] = rects
        return rects

    def plan(self, source_width: int, source_height: int, tile: Rect) -> Placement:
        """The (cached) placement of a source of this size in ``tile``."""
        return self._plan(source_width, source_height, tile).placement

    def _plan(self, sw: int, sh: int, tile: Rect) -> _TilePlan:
        key = (sw, sh, tile)
        cached = self._plans.get(key)
        if cached is None:
            placement = fit(
                sw, sh, tile, mode=self.fit_mode, snap=self.snap, max_crop=self.max_crop
            )
            scaler = ScalePlan(
                placement.source.w,
                placement.source.h,
                placement.content.w,
                placement.content.h,
                use_opencv=self.use_opencv,
                scratch=self._scratch,
            )
            s, c = placement.source, placement.content
            crops, views = [], []
            for index, plane in enumerate(self._planes):
                d = 2 if index and self.pixel_format == "yuv420p" else 1
                crops.append(np.s_[s.y // d : (s.y + s.h) // d, s.x // d : (s.x + s.w) // d])
                views.append(plane[c.y // d : (c.y + c.h) // d, c.x // d : (c.x + c.w) // d])
            prefetch = self.use_opencv and scaler.prefetch_into(views[0])
            cached = self._plans[key] = _TilePlan(
                placement, scaler, tuple(crops), tuple(views), prefetch
            )
        return cached

    # -- composing -----------------------------------------------------------------------------

    def _source_planes(self, index: int, frame: Any) -> tuple[tuple[U8, ...], int, int]:
        name = f"frames[{index}]"
        if self.pixel_format == "yuv420p":
            planes = _plane_tuple(frame, name) if isinstance(frame, tuple) else None
            if planes is None:
                planes = i420_planes(frame, name)
            return planes, planes[0].shape[1], planes[0].shape[0]
        check_array(name, frame, dtype=np.uint8, ndim=3)
        h, w, channels = frame.shape
        if channels != 3 or h < 2 or w < 2:
            raise ValueError(f"{name}: expected rgb24 shape (h >= 2, w >= 2, 3), got {frame.shape}")
        if h % 2 or w % 2:  # the geometry works on even sizes: drop an odd last row or column
            h, w = h & ~1, w & ~1
            frame = frame[:h, :w]
        return (frame,), w, h

    def compose(self, frames: Sequence[Any], speaker: int | None = None) -> U8:
        """Compose ``frames`` (tile order, ``None`` = empty tile) and return the output buffer.

        ``speaker`` is the index in ``frames`` of the active speaker: its tile gets a border, and
        in LAYOUT6 (when ``speaker_in_large_tile``) it moves to the large tile.
        """
        if self._whole_tile is not None and speaker is None and type(frames) in (list, tuple):
            if len(frames) == 1 and frames[0] is not None:
                whole = self._passthrough(frames[0], self._whole_tile)
                if whole is not None:
                    return whole
        if not isinstance(frames, list | tuple):
            raise ValueError(
                f"frames: expected a list of frames (None = empty), got {type(frames).__name__}"
            )
        order = list(range(len(frames)))
        if self.layout is Layout.LAYOUT0:
            order = [i for i in order if frames[i] is not None]
        limit = self.layout.tiles or MAX_VISIBLE
        if len(order) > limit:
            raise ValueError(
                f"frames: expected at most {limit} visible frames for {self.layout.value}, "
                f"got {len(order)}"
            )
        if speaker is not None and not (0 <= speaker < len(frames)):
            raise ValueError(f"speaker: expected an index in 0..{len(frames) - 1}, got {speaker}")
        tiles = self.tile_rects(len(order))
        if (
            speaker is not None
            and speaker in order
            and self.speaker_in_large_tile
            and resolve_layout(self.layout, len(order)) is Layout.LAYOUT6
        ):
            order.remove(speaker)
            order.insert(0, speaker)
        if self.zero_copy and len(tiles) == 1 and order and speaker is None:
            whole = self._passthrough(frames[order[0]], tiles[0])
            if whole is not None:
                return whole
        if tiles != self._shown:
            self._fill(self._planes, (0, 0, self.width, self.height), self._bg)
            self._shown = tiles
            self._tile_state = [None] * len(tiles)
        for slot, tile in enumerate(tiles):
            index = order[slot] if slot < len(order) else None
            frame = None if index is None else frames[index]
            bordered = index is not None and index == speaker and self.border > 0
            if frame is None:
                state: object = "empty"
                if self._tile_state[slot] != state:
                    self._fill(self._planes, (tile.x, tile.y, tile.w, tile.h), self._bg)
                self._tile_state[slot] = state
                if bordered:
                    self._draw_border(tile)
                    self._tile_state[slot] = "empty+border"
                continue
            src_planes, sw, sh = self._source_planes(index, frame)  # type: ignore[arg-type]
            plan = self._plan(sw, sh, tile)
            placement = plan.placement
            state = (sw, sh, bordered)
            if self._tile_state[slot] != state and placement.content != tile:
                self._fill(self._planes, (tile.x, tile.y, tile.w, tile.h), self._bg)
            self._tile_state[slot] = state
            apply = plan.scaler.apply
            for src, crop, view in zip(src_planes, plan.crops, plan.views, strict=True):
                region = src[crop]
                if plan.prefetch:
                    # the kernels keep few reads in flight and crawl on a plane that is not
                    # cached; one streaming read first pulls it into L2 (a plane at a time: the
                    # whole frame does not fit)
                    cv2.sumElems(region)
                apply(region, view)
            if bordered:
                self._draw_border(tile)
        return self.buffer

    def _passthrough(self, frame: Any, tile: Rect) -> U8 | None:
        """The frame itself when it is exactly the whole output (one tile, same size)."""
        if not isinstance(frame, np.ndarray) or frame.shape != self.buffer.shape:
            return None
        if frame.dtype != np.uint8 or not frame.flags.c_contiguous:
            return None
        if (tile.x, tile.y, tile.w, tile.h) != (0, 0, self.width, self.height):
            return None
        self._shown = ()  # the buffer was not updated: repaint everything next time
        return frame
