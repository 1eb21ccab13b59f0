"""Ladder diagrams of captured calls as a standalone SVG picture (written by hand, no library).

One section per call, stacked vertically: a title, one lifeline per endpoint, one arrow per
message with its label and the time since the call's first message.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from signaling.ladder import CallSummary

__all__ = ["ladder_svg"]

_COL = 220
_ROW = 26
_LEFT = 80
_TITLE = 44
_HEAD = 30
_GAP = 30
_COLOURS = {"1": "#2e7d32", "2": "#1565c0", "3": "#6a1b9a", "4": "#c62828", "5": "#c62828",
            "6": "#c62828"}


def _colour(label: str) -> str:
    first = label[:1]
    return _COLOURS.get(first, "#263238") if first.isdigit() else "#263238"


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def ladder_svg(calls: Sequence[CallSummary]) -> str:
    """An SVG document with the ladder of every call (an explanatory line when there is none)."""
    parts: list[str] = []
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
        title = f"{call.protocol} {call.call_id}: {call.from_uri} \u2192 {call.to_uri}"
        summary = f"final {call.final or '-'}"
        if call.setup_ms is not None:
            summary += f", set-up {call.setup_ms:.1f} ms"
        parts.append(
            f'<text x="10" y="{y + 18}" class="title">{escape(title)}</text>'
            f'<text x="10" y="{y + 36}" class="note">{escape(summary)}</text>'
        )
        top = y + _TITLE
        bottom = top + _HEAD + _ROW * (len(call.events) + 1)
        for ep, cx in x.items():
            parts.append(
                f'<text x="{cx}" y="{top + 16}" class="ep" text-anchor="middle">'
                f"{escape(ep)}</text>"
                f'<line x1="{cx}" y1="{top + _HEAD - 6}" x2="{cx}" y2="{bottom}" class="life"/>'
            )
        t0 = call.events[0].time_s if call.events else 0.0
        for i, ev in enumerate(call.events):
            row_y = top + _HEAD + _ROW * (i + 1)
            x1, x2 = x[ev.src], x[ev.dst]
            colour = _colour(ev.label)
            parts.append(
                f'<text x="10" y="{row_y + 4}" class="time">{ev.time_s - t0:.3f}</text>'
            )
            if x1 == x2:
                parts.append(
                    f'<path d="M{x1},{row_y - 8} h30 v10 h-30" class="arrow" stroke="{colour}" '
                    f'marker-end="url(#head)"/>'
                    f'<text x="{x1 + 36}" y="{row_y}" class="label" fill="{colour}">'
                    f"{escape(ev.label)}</text>"
                )
                continue
            mid = (x1 + x2) / 2
            parts.append(
                f'<line x1="{x1}" y1="{row_y}" x2="{x2}" y2="{row_y}" class="arrow" '
                f'stroke="{colour}" marker-end="url(#head)"><title>{_attr(ev.label)} '
                f"(frame {ev.frame})</title></line>"
                f'<text x="{mid}" y="{row_y - 5}" class="label" text-anchor="middle" '
                f'fill="{colour}">{escape(ev.label)}</text>'
            )
        y = bottom + _GAP
    if not calls:
        parts.append('<text x="10" y="30" class="title">no SIP or H.225 call in the capture</text>')
        y = 50
    style = (
        "text{font-family:DejaVu Sans Mono,monospace;font-size:12px}"
        ".title{font-size:14px;font-weight:bold}.note{fill:#555}.ep{font-weight:bold}"
        ".time{fill:#777}.life{stroke:#999;stroke-dasharray:4 3}"
        ".arrow{stroke-width:1.5;fill:none}"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" '
        f'viewBox="0 0 {width} {y}">'
        f"<style>{style}</style>"
        '<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="context-stroke"/></marker></defs>'
        f'<rect width="{width}" height="{y}" fill="white"/>'
        + "".join(parts)
        + "</svg>\n"
    )
