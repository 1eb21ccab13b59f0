"""The CRC pool over the last hours: a bounded in-memory history sampled periodically, and its
rendering as inline SVG (a gauge for now, a stacked-area chart for the past) built server-side.

Nothing here does I/O: :class:`PoolHistory` takes samples with explicit times, the renderers
take data and return SVG text (escaped, no script, no inline style: the page's CSP allows
neither).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["PoolHistory", "PoolSample", "chart_svg", "gauge_svg", "span_text"]


@dataclass(frozen=True)
class PoolSample:
    """The pool at time ``at`` (seconds since the epoch); ``refusals`` counts the calls refused
    for want of a port since the previous sample."""

    at: float
    size: int | None
    leased: int
    used_elsewhere: int
    free: int
    refusals: int = 0


class PoolHistory:
    """The last ``span_s`` seconds of pool samples, at most one per ``interval_s``.

    Memory is bounded by ``span_s / interval_s`` samples whatever the caller does: samples
    closer together than half an interval replace the previous one (keeping refusals).
    """

    def __init__(self, interval_s: float = 10.0, span_s: float = 6 * 3600.0) -> None:
        if interval_s <= 0 or span_s < interval_s:
            raise ValueError("need 0 < interval_s <= span_s")
        self.interval_s = interval_s
        self.span_s = span_s
        self.samples: deque[PoolSample] = deque(maxlen=math.ceil(span_s / interval_s) + 1)
        self._refusals_total: float | None = None

    def add(self, at: float, size: int | None, leased: int, used_elsewhere: int, free: int,
            refusals_total: float) -> PoolSample:
        """Record the pool at ``at``; ``refusals_total`` is the running refusal counter (its
        increase since the last sample is stored; a counter that went back counts from 0)."""
        previous_total = self._refusals_total
        self._refusals_total = refusals_total
        if previous_total is None or refusals_total < previous_total:
            refused = 0
        else:
            refused = int(refusals_total - previous_total)
        if self.samples and at - self.samples[-1].at < self.interval_s / 2:
            refused += self.samples.pop().refusals
        sample = PoolSample(at, size, leased, used_elsewhere, free, refused)
        self.samples.append(sample)
        while self.samples and self.samples[0].at < at - self.span_s:
            self.samples.popleft()
        return sample

    def shown_span(self, now: float) -> float:
        """The span worth drawing: the smallest of 15 min, 1 h, 3 h and the whole span that
        covers every sample (a gateway up for minutes shows minutes, not hours of nothing)."""
        age = now - self.samples[0].at if self.samples else 0.0
        for span in (900.0, 3600.0, 3 * 3600.0):
            if age <= span < self.span_s:
                return span
        return self.span_s

    def window(self, now: float, span_s: float | None = None) -> list[PoolSample]:
        """Samples of the last ``span_s`` seconds (default: the whole span) before ``now``."""
        start = now - (self.span_s if span_s is None else span_s)
        return [s for s in self.samples if start <= s.at <= now]


def _arc_point(cx: float, cy: float, r: float, fraction: float) -> tuple[float, float]:
    angle = math.pi * (1 - fraction)
    return cx + r * math.cos(angle), cy - r * math.sin(angle)


def gauge_svg(leased: int, used_elsewhere: int, size: int | None) -> str:
    """A half-circle gauge: leased (this fleet), then used elsewhere, over the pool size."""
    width, height, cx, cy, r = 220, 130, 110, 115, 90
    label = (f"CRC ports: {leased} leased, {used_elsewhere} used elsewhere, "
             f"{'unknown' if size is None else size} in the pool")
    parts = [
        f'<svg class="gauge" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="gauge-title"><title id="gauge-title">{escape(label)}</title>',
        f'<path class="g-track" d="M {cx - r} {cy} A {r} {r} 0 0 1 {cx + r} {cy}" '
        'fill="none" stroke-width="22"/>',
    ]
    if size:
        start = 0.0
        for value, css in ((leased, "g-leased"), (used_elsewhere, "g-elsewhere")):
            fraction = min(1.0, start + value / size)
            if fraction > start:
                x0, y0 = _arc_point(cx, cy, r, start)
                x1, y1 = _arc_point(cx, cy, r, fraction)
                parts.append(f'<path class="{css}" d="M {x0:.1f} {y0:.1f} A {r} {r} 0 0 1 '
                             f'{x1:.1f} {y1:.1f}" fill="none" stroke-width="22"/>')
            start = fraction
    busy = leased + used_elsewhere
    figure = f"{busy}/{size}" if size is not None else f"{busy}/?"
    parts.append(f'<text class="g-figure" x="{cx}" y="{cy - 12}" text-anchor="middle">'
                 f'{escape(figure)}</text>')
    parts.append(f'<text class="g-caption" x="{cx}" y="{cy + 10}" text-anchor="middle">'
                 'ports busy</text></svg>')
    return "".join(parts)


def span_text(span_s: float) -> str:
    """``Last 15 minutes``, ``Last hour``, ``Last 3 hours``..."""
    if span_s < 3600:
        return f"Last {span_s / 60:g} minutes"
    return "Last hour" if span_s == 3600 else f"Last {span_s / 3600:g} hours"


def _clock(at: float) -> str:
    seconds = int(at) % 86400
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}"


def chart_svg(samples: Sequence[PoolSample], now: float, span_s: float) -> str:
    """Stacked areas (leased, used elsewhere, free) over ``span_s`` seconds up to ``now``,
    refusals as marks along the top; times on the axis in UTC."""
    width, height = 640, 200
    left, right, top, bottom = 34, 8, 14, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    shown = [s for s in samples if now - span_s <= s.at <= now]
    peak = max([1] + [max(s.size or 0, s.leased + s.used_elsewhere + s.free) for s in shown])
    refused = sum(s.refusals for s in shown)
    summary = (f"CRC pool, {span_text(span_s).lower()}: {len(shown)} samples, "
               f"at most {max([0] + [s.leased for s in shown])} leased, "
               f"{refused} calls refused for want of a port")

    def x(at: float) -> float:
        return left + plot_w * (at - (now - span_s)) / span_s

    def y(value: float) -> float:
        return top + plot_h * (1 - value / peak)

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="chart-title"><title id="chart-title">{escape(summary)}</title>',
        f'<rect class="c-frame" x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" '
        'fill="none"/>',
    ]
    for tick in sorted({0, peak // 2, peak}):
        parts.append(f'<text class="c-axis" x="{left - 4}" y="{y(tick) + 4:.1f}" '
                     f'text-anchor="end">{tick}</text>')
    step = (3600.0 if span_s > 3 * 3600 else 1800.0 if span_s > 3600
            else 600.0 if span_s > 900 else 300.0)
    tick_at = math.ceil((now - span_s) / step) * step
    while tick_at <= now:
        parts.append(f'<line class="c-grid" x1="{x(tick_at):.1f}" y1="{top}" '
                     f'x2="{x(tick_at):.1f}" y2="{top + plot_h}"/>')
        parts.append(f'<text class="c-axis" x="{x(tick_at):.1f}" y="{height - 6}" '
                     f'text-anchor="middle">{_clock(tick_at)}</text>')
        tick_at += step
    if shown:
        points = shown if len(shown) > 1 else [shown[0], PoolSample(now, *_tail(shown[0]))]
        bounds = [(0, s.leased, s.leased + s.used_elsewhere,
                   s.leased + s.used_elsewhere + s.free) for s in points]
        for layer, css in enumerate(("c-leased", "c-elsewhere", "c-free")):
            upper = " ".join(f"{x(s.at):.1f},{y(b[layer + 1]):.1f}"
                             for s, b in zip(points, bounds, strict=True))
            lower = " ".join(f"{x(s.at):.1f},{y(b[layer]):.1f}"
                             for s, b in zip(reversed(points), reversed(bounds), strict=True))
            parts.append(f'<polygon class="{css}" points="{upper} {lower}"/>')
        for s in shown:
            if s.refusals:
                parts.append(f'<line class="c-refusal" x1="{x(s.at):.1f}" y1="{top}" '
                             f'x2="{x(s.at):.1f}" y2="{top + 10}" stroke-width="3">'
                             f'<title>{s.refusals} refused at {_clock(s.at)} UTC</title></line>')
    else:
        parts.append(f'<text class="c-axis" x="{left + plot_w / 2}" y="{top + plot_h / 2}" '
                     'text-anchor="middle">no samples yet</text>')
    parts.append("</svg>")
    return "".join(parts)


def _tail(sample: PoolSample) -> tuple[int | None, int, int, int, int]:
    return sample.size, sample.leased, sample.used_elsewhere, sample.free, 0
