"""Conference-room video layouts as pure geometry (no pixels).

A layout is a list of tile rectangles on a ``width`` x ``height`` canvas. Every edge is on an even
pixel so that the 4:2:0 chroma planes split exactly; ``gutter`` pixels separate neighbouring tiles.
:func:`fit` places one source inside a tile, keeping its aspect ratio (``letterbox`` shows all of it
with background bars, ``crop`` fills the tile and cuts the overflow). When the fitted scale is
within ``snap`` of an exact ``1/k`` (or ``1``), the scale snaps to it: the tile then shows an
exact ``k``:1 area average of the source, which is sharper and much cheaper to compute, at the
price of at most ``snap`` of the picture (a few pixels of crop or bar).

LAYOUT0 is automatic: it resolves to the smallest layout that holds the active participants.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "FIT_MODES",
    "SNAP_SCALES",
    "Layout",
    "Placement",
    "Rect",
    "fit",
    "resolve_layout",
    "tile_rects",
]

FIT_MODES = ("letterbox", "crop")
MAX_VISIBLE = 9


class Layout(enum.Enum):
    """The PortSIP room layouts ("number of grids"); LAYOUT0 follows the participant count."""

    LAYOUT0 = "LAYOUT0"
    LAYOUT1 = "LAYOUT1"
    LAYOUT2 = "LAYOUT2"
    LAYOUT3 = "LAYOUT3"
    LAYOUT4 = "LAYOUT4"
    LAYOUT6 = "LAYOUT6"
    LAYOUT9 = "LAYOUT9"

    @property
    def tiles(self) -> int:
        """Number of tiles (0 for the automatic LAYOUT0)."""
        return int(self.value[-1])

    @classmethod
    def parse(cls, value: Layout | str | int) -> Layout:
        """Accept ``Layout.LAYOUT4``, ``"LAYOUT4"``, ``"layout4"``, ``"4"`` or ``4``."""
        if isinstance(value, Layout):
            return value
        text = str(value).strip().upper()
        if not text.startswith("LAYOUT"):
            text = "LAYOUT" + text
        try:
            return cls(text)
        except ValueError:
            allowed = ", ".join(m.value for m in cls)
            raise ValueError(f"layout: expected one of {allowed}, got {value!r}") from None


# Cells on a (columns, rows) grid: (column, row, column span, row span), in tile order.
_GRIDS: dict[Layout, tuple[int, int, tuple[tuple[int, int, int, int], ...]]] = {
    Layout.LAYOUT1: (1, 1, ((0, 0, 1, 1),)),
    Layout.LAYOUT2: (2, 1, ((0, 0, 1, 1), (1, 0, 1, 1))),
    Layout.LAYOUT3: (4, 2, ((1, 0, 2, 1), (0, 1, 2, 1), (2, 1, 2, 1))),
    Layout.LAYOUT4: (2, 2, ((0, 0, 1, 1), (1, 0, 1, 1), (0, 1, 1, 1), (1, 1, 1, 1))),
    Layout.LAYOUT6: (
        3,
        3,
        ((0, 0, 2, 2), (2, 0, 1, 1), (2, 1, 1, 1), (0, 2, 1, 1), (1, 2, 1, 1), (2, 2, 1, 1)),
    ),
    Layout.LAYOUT9: (3, 3, tuple((c, r, 1, 1) for r in range(3) for c in range(3))),
}


@dataclass(frozen=True)
class Rect:
    """A pixel rectangle: ``x``, ``y`` of the top-left corner, ``w`` x ``h`` in size."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h

    def contains(self, other: Rect) -> bool:
        return (
            self.x <= other.x
            and self.y <= other.y
            and other.x + other.w <= self.x + self.w
            and other.y + other.h <= self.y + self.h
        )


@dataclass(frozen=True)
class Placement:
    """One source in one tile: which part of the source lands where, and at what scale."""

    tile: Rect
    """The tile on the canvas."""
    content: Rect
    """Where the scaled picture lands on the canvas (inside ``tile``)."""
    source: Rect
    """The part of the source that is scaled into ``content``."""
    scale: Fraction | None
    """The exact scale when it snapped to ``1/k`` or an integer, else ``None``."""


def _even(value: float) -> int:
    """Largest even integer <= value (value >= 0)."""
    return int(math.floor(value + 1e-9)) & ~1


def resolve_layout(layout: Layout, active: int) -> Layout:
    """The concrete layout for ``active`` visible participants (LAYOUT0 picks by count)."""
    if layout is not Layout.LAYOUT0:
        return layout
    if active < 0:
        raise ValueError(f"active: expected a count >= 0, got {active}")
    for candidate in (Layout.LAYOUT1, Layout.LAYOUT2, Layout.LAYOUT3, Layout.LAYOUT4):
        if active <= candidate.tiles:
            return candidate
    return Layout.LAYOUT6 if active <= 6 else Layout.LAYOUT9


def _check_canvas(width: int, height: int, gutter: int) -> None:
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 16 or value % 2:
            raise ValueError(f"{name}: expected an even integer >= 16, got {value!r}")
    if isinstance(gutter, bool) or not isinstance(gutter, int) or gutter < 0 or gutter % 2:
        raise ValueError(f"gutter: expected an even integer >= 0, got {gutter!r}")


def _edges(length: int, cells: int, gutter: int) -> list[tuple[int, int]]:
    """(start, end) of each grid cell along one axis, even-aligned, ``gutter`` apart."""
    pitch = (length + gutter) / cells
    spans = []
    for i in range(cells):
        start = _even(i * pitch)
        end = length if i == cells - 1 else _even((i + 1) * pitch) - gutter
        spans.append((start, end))
    return spans


def tile_rects(
    layout: Layout | str | int,
    width: int,
    height: int,
    *,
    active: int | None = None,
    gutter: int = 4,
) -> tuple[Rect, ...]:
    """Tile rectangles of ``layout`` on a ``width`` x ``height`` canvas, in tile order.

    ``active`` (the number of visible participants) is needed only for LAYOUT0.
    """
    layout = Layout.parse(layout)
    _check_canvas(width, height, gutter)
    if layout is Layout.LAYOUT0:
        if active is None:
            raise ValueError("active: LAYOUT0 needs the number of active participants, got None")
        layout = resolve_layout(layout, min(active, MAX_VISIBLE))
    columns, rows, cells = _GRIDS[layout]
    xs = _edges(width, columns, gutter)
    ys = _edges(height, rows, gutter)
    rects = []
    for col, row, cspan, rspan in cells:
        x0, x1 = xs[col][0], xs[col + cspan - 1][1]
        y0, y1 = ys[row][0], ys[row + rspan - 1][1]
        rects.append(Rect(x0, y0, x1 - x0, y1 - y0))
    return tuple(rects)


# Scales with a cheap exact kernel: k:1 area averages, 3:2 and 4:3 area averages, 1:1 and m:1.
SNAP_SCALES = tuple(
    sorted(
        {Fraction(1, k) for k in range(1, 17)}
        | {Fraction(2, 3), Fraction(3, 4)}
        | {Fraction(m, 1) for m in range(2, 5)}
    )
)


def _snapped_scale(wanted: float, snap: float) -> Fraction | None:
    """The scale of :data:`SNAP_SCALES` nearest to ``wanted``, if within ``snap`` (relative)."""
    best = min(SNAP_SCALES, key=lambda s: abs(float(s) - wanted))
    if abs(float(best) - wanted) <= snap * wanted:
        return best
    return None


def fit(
    source_width: int,
    source_height: int,
    tile: Rect,
    *,
    mode: str = "letterbox",
    snap: float = 0.03,
    max_crop: float = 0.01,
) -> Placement:
    """Place a ``source_width`` x ``source_height`` picture in ``tile``, aspect ratio kept.

    ``snap``: the relative distance from an exact scale (:data:`SNAP_SCALES`) within which the
    scale snaps to it; ``max_crop``: a snap is taken only if what it cuts off the picture at each
    edge (left, right, top, bottom; beyond what ``mode`` cuts anyway) is under this share of that
    side's length (0.01: under 1 % at every edge).
    """
    if mode not in FIT_MODES:
        raise ValueError(f"mode: expected one of {', '.join(FIT_MODES)}, got {mode!r}")
    if not 0 <= snap < 0.5:
        raise ValueError(f"snap: expected a fraction in 0..0.5, got {snap}")
    if not 0 <= max_crop < 0.5:
        raise ValueError(f"max_crop: expected a fraction in 0..0.5, got {max_crop}")
    sw, sh = source_width, source_height
    if sw < 2 or sh < 2 or sw % 2 or sh % 2:
        raise ValueError(f"source size: expected even dimensions >= 2, got {sw}x{sh}")
    pick = min if mode == "letterbox" else max
    wanted = pick(tile.w / sw, tile.h / sh)
    cw = min(tile.w, max(2, _even(sw * wanted)))
    ch = min(tile.h, max(2, _even(sh * wanted)))
    if mode == "letterbox":  # all of the source (sub-pixel aspect error from even sizes)
        scw, sch = sw, sh
    else:
        scw = min(sw, max(2, _even(cw / wanted + 1)))
        sch = min(sh, max(2, _even(ch / wanted + 1)))
    base = _placement(sw, sh, tile, cw, ch, scw, sch, None)
    exact = _snapped_scale(wanted, snap)
    if exact is None:
        return base
    # content in whole periods of p output pixels, on both planes of 4:2:0
    p, q = exact.numerator, exact.denominator
    unit = 2 * p
    cw = min(tile.w, sw * p // q) // unit * unit
    ch = min(tile.h, sh * p // q) // unit * unit
    snapped = _placement(sw, sh, tile, cw, ch, cw * q // p, ch * q // p, exact)
    return snapped if _crop_within(base.source, snapped.source, sw, sh, max_crop) else base


def _placement(
    sw: int, sh: int, tile: Rect, cw: int, ch: int, scw: int, sch: int, exact: Fraction | None
) -> Placement:
    """The centred placement of an ``scw`` x ``sch`` source region as ``cw`` x ``ch`` content."""
    source = Rect(_even((sw - scw) / 2), _even((sh - sch) / 2), scw, sch)
    content = Rect(tile.x + _even((tile.w - cw) / 2), tile.y + _even((tile.h - ch) / 2), cw, ch)
    return Placement(tile=tile, content=content, source=source, scale=exact)


def _crop_within(base: Rect, snapped: Rect, sw: int, sh: int, limit: float) -> bool:
    """Whether ``snapped`` cuts off under ``limit`` of each side beyond ``base``, edge by edge."""
    edges = (
        (snapped.x - base.x, sw),
        (base.x + base.w - snapped.x - snapped.w, sw),
        (snapped.y - base.y, sh),
        (base.y + base.h - snapped.y - snapped.h, sh),
    )
    return all(cut <= 0 or cut < limit * side for cut, side in edges)
