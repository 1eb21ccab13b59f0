"""Pictures a video stream sends, as I420 arrays ``(h * 3 // 2, w)``.

:class:`TestPatternSource`: the project's test picture (``media.testpattern``) with a running
clock (call time, ``mm:ss.cc``), the frame number and a block that crosses the picture once a
second, drawn as seven-segment figures: a receiver (or an engineer) can read freshness and
smoothness off a snapshot.

:class:`ComposedSource`: synthetic participants composed by ``media.compositor`` in the layout a
Zoom dial string's layout field asks for (names mapped by :func:`layout_for`).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from media.compositor import Compositor
from media.layouts import Layout
from media.testpattern import pattern_i420

__all__ = ["ComposedSource", "FrameSource", "TestPatternSource", "draw_text", "layout_for"]

U8 = npt.NDArray[np.uint8]

# Segments a..g of a seven-segment figure: (x0, y0, x1, y1) in a 4 x 7 cell.
_SEG = {
    "a": (0, 0, 4, 1), "b": (3, 0, 4, 4), "c": (3, 3, 4, 7), "d": (0, 6, 4, 7),
    "e": (0, 3, 1, 7), "f": (0, 0, 1, 4), "g": (0, 3, 4, 4),
}  # fmt: skip
_GLYPHS = {
    "0": "abcdef", "1": "bc", "2": "abdeg", "3": "abcdg", "4": "bcfg", "5": "acdfg",
    "6": "acdefg", "7": "abc", "8": "abcdefg", "9": "abcdfg", "-": "g", " ": "",
}  # fmt: skip


class FrameSource(Protocol):
    width: int
    height: int

    def frame(self, index: int, t: float) -> U8:
        """The I420 picture number ``index`` at ``t`` seconds into the call."""
        ...


def draw_text(y_plane: U8, text: str, x: int, y: int, scale: int, value: int = 235) -> int:
    """Seven-segment ``text`` (digits, ``-``, ``:``, ``.``, space) on a luma plane; returns the
    x after it. Clipped at the plane's edges."""
    h, w = y_plane.shape
    for ch in text:
        if ch in ":.":
            dots = ((1, 2), (1, 5)) if ch == ":" else ((1, 6),)
            for dx, dy in dots:
                x0, y0 = x + dx * scale, y + dy * scale
                y_plane[max(0, y0) : min(h, y0 + scale), max(0, x0) : min(w, x0 + scale)] = value
            x += 3 * scale
            continue
        for seg in _GLYPHS.get(ch, ""):
            sx0, sy0, sx1, sy1 = _SEG[seg]
            y_plane[
                max(0, y + sy0 * scale) : min(h, y + sy1 * scale),
                max(0, x + sx0 * scale) : min(w, x + sx1 * scale),
            ] = value
        x += 6 * scale
    return x


def _clock(t: float) -> str:
    centis = int(t * 100)
    return f"{centis // 6000 % 100:02d}:{centis // 100 % 60:02d}.{centis % 100:02d}"


class TestPatternSource:
    """The test picture with a running clock, a frame counter and a moving block."""

    __test__ = False  # not a pytest class

    def __init__(self, width: int, height: int, seed: int = 0) -> None:
        if width < 32 or height < 32 or width % 2 or height % 2:
            raise ValueError(f"size: expected even sizes >= 32, got {width}x{height}")
        self.width, self.height = width, height
        self._base = pattern_i420(width, height, seed)
        self._out = self._base.copy()

    def frame(self, index: int, t: float) -> U8:
        out = self._out
        np.copyto(out, self._base)
        w, h = self.width, self.height
        luma = out[:h]
        scale = max(2, h // 60)
        box_h = 9 * scale
        luma[: box_h + scale, : min(w, 62 * scale)] = 16  # black band behind the figures
        end = draw_text(luma, _clock(t), scale, scale, scale)
        draw_text(luma, f"{index % 100000:5d}", end + 3 * scale, scale, scale)
        side = max(8, (h // 12) & ~1)
        x = int((t % 1.0) * (w - side)) & ~1
        y0 = h - side - 2 * scale
        luma[y0 : y0 + side, x : x + side] = 235
        return out


def layout_for(name: str, participants: int) -> Layout:
    """Map a layout name (or Zoom dial-string layout code) to a compositor layout.

    ``gallery`` (also ``608``, ``505``, empty): LAYOUT0, the grid follows the participant count.
    ``speaker``/``active`` (also ``11``): LAYOUT6, the speaker large and five others.
    ``full``: LAYOUT1, the speaker alone. ``dual-screen`` (also ``308``: Zoom shows the speaker
    on one screen and the gallery on the other, which needs a second, H.239/BFCP, stream this
    package does not carry): LAYOUT2, speaker and gallery neighbour side by side in one stream.
    ``LAYOUTn`` names pass through.
    """
    key = name.strip().lower().replace("_", "-")
    if key.startswith("layout"):
        return Layout.parse(key)
    table = {
        "": Layout.LAYOUT0, "gallery": Layout.LAYOUT0, "608": Layout.LAYOUT0,
        "505": Layout.LAYOUT0, "speaker": Layout.LAYOUT6, "active": Layout.LAYOUT6,
        "active-speaker": Layout.LAYOUT6, "11": Layout.LAYOUT6, "full": Layout.LAYOUT1,
        "full-screen": Layout.LAYOUT1, "dual-screen": Layout.LAYOUT2, "dual": Layout.LAYOUT2,
        "308": Layout.LAYOUT2,
    }  # fmt: skip
    if key not in table:
        names = "gallery, speaker, full, dual-screen, LAYOUT0..LAYOUT9 or 11/308/505/608"
        raise ValueError(f"layout: expected {names}, got {name!r}")
    return table[key]


class ComposedSource:
    """Synthetic participants (test pictures with a name number and a moving block), composed in
    ``layout``; the speaker changes every ``speaker_period_s`` seconds."""

    def __init__(
        self,
        layout: str,
        participants: int,
        width: int,
        height: int,
        *,
        speaker_period_s: float = 5.0,
        tile_size: tuple[int, int] = (320, 180),
    ) -> None:
        if not 1 <= participants <= 200:
            raise ValueError(f"participants: expected 1..200, got {participants!r}")
        self.layout = layout_for(layout, participants)
        self.width, self.height = width, height
        self.participants = participants
        self.speaker_period_s = speaker_period_s
        limit = self.layout.tiles or 9
        self._shown = min(participants, limit)
        self._comp = Compositor(self.layout, width, height, "yuv420p", gutter=4)
        tw, th = tile_size
        self._tiles = [TestPatternSource(tw, th, seed=i + 1) for i in range(self._shown)]

    def frame(self, index: int, t: float) -> U8:
        speaker = int(t // self.speaker_period_s) % self._shown if self.speaker_period_s else 0
        frames = []
        for i, tile in enumerate(self._tiles):
            pic = tile.frame(index, t + i * 0.1)
            draw_text(pic[: tile.height], str(i + 1), tile.width - 10 * 3, tile.height // 2, 3)
            frames.append(pic)
        return self._comp.compose(frames, speaker=speaker)
