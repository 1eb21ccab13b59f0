"""Ladder diagrams of captured calls as a picture: SVG written by hand, or PNG drawn with Pillow.

One section per call, stacked vertically: a title, one lifeline per endpoint, one arrow per
message with its label and the time since the call's first message. :func:`layout` places
everything once; the two writers only draw what it placed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from signaling.ladder import CallSummary

__all__ = ["Layout", "ladder_png", "ladder_svg", "layout"]

_COL = 220
_ROW = 26
_LEFT = 80
_TITLE = 44
_HEAD = 30
_GAP = 30
_INK = "#263238"
_COLOURS = {"1": "#2e7d32", "2": "#1565c0", "3": "#6a1b9a", "4": "#c62828", "5": "#c62828",
            "6": "#c62828"}


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    colour: str = _INK
    size: int = 12
    bold: bool = False
    centred: bool = False
    tooltip: str = ""


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    colour: str = _INK
    dashed: bool = False
    arrow: bool = False


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    items: tuple[Text | Line, ...]


def _colour(label: str) -> str:
    first = label[:1]
    return _COLOURS.get(first, _INK) if first.isdigit() else _INK


def layout(calls: Sequence[CallSummary]) -> Layout:
    """Place the ladder of every call (an explanatory line when there is none)."""
    items: list[Text | Line] = []
    y = 10
    width = 400
    for call in calls:
        endpoints: list[str] = []
        for ev in call.events:
            for addr in (ev.src, ev.dst):
                if addr not in endpoints:
                    endpoints.append(addr)
        x = {ep: _LEFT + _COL // 2 + i * _COL for i, ep in enumerate(endpoints)}
        width = max(width, _LEFT + _COL * len(endpoints) + 20)
        summary = f"final {call.final or '-'}"
        if call.setup_ms is not None:
            summary += f", set-up {call.setup_ms:.1f} ms"
        items.append(Text(10, y + 18, f"{call.protocol} {call.call_id}: {call.from_uri} -> "
                          f"{call.to_uri}", size=14, bold=True))
        items.append(Text(10, y + 36, summary, colour="#555555"))
        top = y + _TITLE
        bottom = top + _HEAD + _ROW * (len(call.events) + 1)
        for ep, cx in x.items():
            items.append(Text(cx, top + 16, ep, bold=True, centred=True))
            items.append(Line(cx, top + _HEAD - 6, cx, bottom, "#999999", dashed=True))
        t0 = call.events[0].time_s if call.events else 0.0
        for i, ev in enumerate(call.events):
            row_y = top + _HEAD + _ROW * (i + 1)
            x1, x2 = x[ev.src], x[ev.dst]
            colour = _colour(ev.label)
            items.append(Text(10, row_y + 4, f"{ev.time_s - t0:.3f}", colour="#777777"))
            if x1 == x2:
                items += [
                    Line(x1, row_y - 8, x1 + 30, row_y - 8, colour),
                    Line(x1 + 30, row_y - 8, x1 + 30, row_y + 2, colour),
                    Line(x1 + 30, row_y + 2, x1, row_y + 2, colour, arrow=True),
                    Text(x1 + 36, row_y, ev.label, colour),
                ]
                continue
            items.append(Line(x1, row_y, x2, row_y, colour, arrow=True))
            items.append(Text((x1 + x2) / 2, row_y - 5, ev.label, colour, centred=True,
                              tooltip=f"{ev.label} (frame {ev.frame})"))
        y = bottom + _GAP
    if not calls:
        items.append(Text(10, 30, "no SIP or H.225 call in the capture", size=14, bold=True))
        y = 50
    return Layout(width, y, tuple(items))


def _svg_item(item: Text | Line) -> str:
    if isinstance(item, Line):
        dash = ' stroke-dasharray="4 3"' if item.dashed else ""
        head = ' marker-end="url(#head)"' if item.arrow else ""
        width = 1.5 if not item.dashed else 1
        return (f'<line x1="{item.x1}" y1="{item.y1}" x2="{item.x2}" y2="{item.y2}" '
                f'stroke="{item.colour}" stroke-width="{width}"{dash}{head}/>')
    anchor = ' text-anchor="middle"' if item.centred else ""
    weight = ' font-weight="bold"' if item.bold else ""
    tip = f"<title>{escape(item.tooltip)}</title>" if item.tooltip else ""
    return (f'<text x="{item.x}" y="{item.y}" font-size="{item.size}" fill="{item.colour}"'
            f"{anchor}{weight}>{escape(item.text)}{tip}</text>")


def ladder_svg(calls: Sequence[CallSummary]) -> str:
    """A standalone SVG document with the ladder of every call."""
    placed = layout(calls)
    w, h = placed.width, placed.height
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" font-family="DejaVu Sans Mono,monospace">'
        '<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="context-stroke"/></marker></defs>'
        f'<rect width="{w}" height="{h}" fill="white"/>'
        + "".join(_svg_item(item) for item in placed.items)
        + "</svg>\n"
    )


def ladder_png(calls: Sequence[CallSummary]) -> bytes:
    """The same ladders as a PNG image (Pillow, its built-in font)."""
    from PIL import Image, ImageDraw, ImageFont

    placed = layout(calls)
    image = Image.new("RGB", (placed.width, placed.height), "white")
    draw = ImageDraw.Draw(image)
    fonts = {size: ImageFont.load_default(size=size) for size in (12, 14)}
    for item in placed.items:
        if isinstance(item, Line):
            if item.dashed:
                y = item.y1
                while y < item.y2:
                    draw.line([(item.x1, y), (item.x2, min(y + 4, item.y2))], fill=item.colour)
                    y += 7
                continue
            draw.line([(item.x1, item.y1), (item.x2, item.y2)], fill=item.colour, width=2)
            if item.arrow:
                step = 8 if item.x2 >= item.x1 else -8
                tip = (item.x2, item.y2)
                draw.polygon([tip, (item.x2 - step, item.y2 - 4), (item.x2 - step, item.y2 + 4)],
                             fill=item.colour)
            continue
        font = fonts[item.size]
        anchor = "ms" if item.centred else "ls"  # middle/left of the baseline, as in the SVG
        draw.text((item.x, item.y), item.text, fill=item.colour, font=font, anchor=anchor,
                  stroke_width=1 if item.bold else 0, stroke_fill=item.colour)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
