"""Drawings of the layouts (PNG), made by the compositor itself so they cannot drift from it.

Each participant is a flat colour with its tile number; the first tile carries the speaker
border. LAYOUT0 is drawn as a sheet of the layouts it picks for 1 to 9 participants.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

from media.compositor import Compositor
from media.layouts import MAX_VISIBLE, Layout, resolve_layout

__all__ = ["draw_layout", "draw_layouts"]

PALETTE = (
    (66, 133, 244),
    (219, 68, 55),
    (244, 180, 0),
    (15, 157, 88),
    (171, 71, 188),
    (0, 172, 193),
    (255, 112, 67),
    (124, 179, 66),
    (92, 107, 192),
)


def _participant(index: int, width: int, height: int) -> npt.NDArray[np.uint8]:
    """A flat-colour 16:9 participant picture with a lighter centre square (shows the fit)."""
    img = np.empty((height, width, 3), np.uint8)
    img[:] = PALETTE[index % len(PALETTE)]
    h3, w3 = height // 3, width // 3
    img[h3 : 2 * h3, w3 : 2 * w3] = np.minimum(255, img[h3, w3].astype(int) + 70)
    return img


def draw_layout(
    layout: Layout | str, width: int = 640, height: int = 360, participants: int | None = None
) -> Image.Image:
    """One layout with ``participants`` (default: all tiles) as a PIL image."""
    layout = Layout.parse(layout)
    count = participants if participants is not None else (layout.tiles or MAX_VISIBLE)
    comp = Compositor(layout, width, height, "rgb24", background=(32, 32, 32), gutter=4)
    frames = [_participant(i, 320, 180) for i in range(count)]
    image = Image.fromarray(comp.compose(frames, speaker=0 if count else None).copy())
    pen = ImageDraw.Draw(image)
    for i, tile in enumerate(comp.tile_rects(count)[:count]):
        pen.text((tile.x + 8, tile.y + 6), str(i + 1), fill=(255, 255, 255))
    shown = resolve_layout(layout, count)
    title = layout.value if shown is layout else f"{layout.value} ({count}) -> {shown.value}"
    pen.text((6, height - 16), f"{title}  {width}x{height}", fill=(255, 255, 255))
    return image


def draw_layouts(directory: Path, width: int = 640, height: int = 360) -> list[Path]:
    """Write ``<LAYOUT>.png`` for every layout (LAYOUT0 as a 3x3 sheet) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for layout in Layout:
        if layout is Layout.LAYOUT0:
            gap = 12
            sheet = Image.new("RGB", (width * 3 + 2 * gap, height * 3 + 2 * gap), (255, 255, 255))
            for n in range(1, MAX_VISIBLE + 1):
                panel = draw_layout(layout, width, height, participants=n)
                col, row = (n - 1) % 3, (n - 1) // 3
                sheet.paste(panel, (col * (width + gap), row * (height + gap)))
            image = sheet
        else:
            image = draw_layout(layout, width, height)
        path = directory / f"{layout.value}.png"
        image.save(path, optimize=True)
        written.append(path)
    return written
