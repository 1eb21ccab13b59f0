"""The status page's pure parts: pool history and its SVG, the MOS estimate, sessions."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from pydantic import SecretStr

from gateway.web.auth import Sessions
from gateway.web.history import PoolHistory, chart_svg, gauge_svg, span_text
from gateway.web.quality import estimate_mos, media_quality
from signaling.sip.events import CallStats


def test_history_is_bounded_and_counts_refusals_per_sample() -> None:
    history = PoolHistory(interval_s=10, span_s=600)
    for n in range(1000):
        history.add(1000.0 + 10 * n, 10, n % 4, 1, 9 - n % 4, refusals_total=n // 100)
    assert len(history.samples) <= 61
    assert history.samples[-1].at - history.samples[0].at <= 600
    assert sum(s.refusals for s in history.samples) == 9 - 9 + (999 // 100 - 940 // 100)
    # a restarted counter counts from zero, not negative
    history.add(20000.0, 10, 0, 0, 10, refusals_total=0)
    assert history.samples[-1].refusals == 0
    # samples closer than half an interval replace the last one and keep its refusals
    history.add(20010.0, 10, 0, 0, 10, refusals_total=2)
    history.add(20012.0, 10, 1, 0, 9, refusals_total=3)
    assert history.samples[-1].leased == 1 and history.samples[-1].refusals == 3
    with pytest.raises(ValueError):
        PoolHistory(interval_s=0)


def test_shown_span_grows_with_the_history() -> None:
    history = PoolHistory(interval_s=10, span_s=6 * 3600)
    assert history.shown_span(0.0) == 900
    history.add(0.0, 10, 0, 0, 10, 0)
    assert history.shown_span(100.0) == 900
    assert history.shown_span(2000.0) == 3600
    assert history.shown_span(4 * 3600.0) == 6 * 3600
    assert span_text(900) == "Last 15 minutes" and span_text(3600) == "Last hour"
    assert span_text(6 * 3600) == "Last 6 hours"


def test_chart_is_valid_svg_with_areas_and_refusal_marks() -> None:
    history = PoolHistory(interval_s=10, span_s=3600)
    for n in range(30):
        history.add(1000.0 + 10 * n, 8, min(n, 5), 2, 8 - 2 - min(n, 5), refusals_total=n // 10)
    now = 1300.0
    svg = chart_svg(history.window(now), now, 900)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag in ("svg", f"{ns}svg")
    polygons = [e for e in root.iter() if e.tag.endswith("polygon")]
    assert sorted(p.get("class") or "" for p in polygons) == ["c-elsewhere", "c-free", "c-leased"]
    marks = [e for e in root.iter() if e.tag.endswith("line") and e.get("class") == "c-refusal"]
    assert len(marks) == 2
    assert "2 calls refused" in svg
    # every point lies inside the drawing
    for polygon in polygons:
        for x, y in re.findall(r"([\d.]+),([\d.]+)", polygon.get("points") or ""):
            assert 0 <= float(x) <= 640 and 0 <= float(y) <= 200
    assert "no samples yet" in chart_svg([], now, 900)
    assert "<script" not in svg and "style=" not in svg


def test_gauge_shows_busy_over_size() -> None:
    svg = gauge_svg(3, 2, 10)
    ET.fromstring(svg)
    assert "5/10" in svg and 'class="g-leased"' in svg and 'class="g-elsewhere"' in svg
    assert "5/?" in gauge_svg(3, 2, None)
    assert 'class="g-leased"' not in gauge_svg(0, 0, 10)


def test_mos_estimate_falls_with_loss_and_jitter() -> None:
    # by hand from G.107: delay 42 ms -> Id 1.01; 2 % loss, Bpl 25.1 -> Ie,eff 7.01
    clean = estimate_mos(0.0, 1.0)
    assert clean == pytest.approx(4.39, abs=0.01)  # R 92.2
    assert estimate_mos(0.02, 1.0) == pytest.approx(4.20, abs=0.01)  # R 85.2
    assert estimate_mos(0.10, 1.0) < estimate_mos(0.02, 1.0) < clean
    assert estimate_mos(0.0, 200.0) < estimate_mos(0.0, 20.0)
    assert estimate_mos(1.0, 500.0) == 1.0


def test_media_quality_from_call_stats() -> None:
    def stats(codec: str | None, received: int, lost: int, jitter: float | None) -> CallStats:
        return CallStats("c", None, None, 80.0, codec, 8000, received, received, lost, jitter,
                         jitter, 3.0)

    good = media_quality(stats("PCMU", 990, 10, 2.0))
    assert good is not None and good.loss_pct == 1.0 and good.mos is not None
    assert good.grade == "fair" if good.mos < 4.0 else good.grade == "good"
    lossy = media_quality(stats("G722", 900, 100, 30.0))
    assert lossy is not None and lossy.grade == "poor"
    opus = media_quality(stats("opus", 100, 0, 1.0))
    assert opus is not None and opus.mos is None and opus.grade == "good"
    assert media_quality(None) is None
    empty = media_quality(stats("PCMU", 0, 0, None))
    assert empty is not None and empty.grade == "unknown"


def test_sessions_roles_expiry_and_throttle() -> None:
    now = [0.0]
    sessions = Sessions(SecretStr("change-me"), SecretStr("read-me"), lifetime_s=100,
                        max_sessions=3, max_failures=3, clock=lambda: now[0])
    assert not sessions.open
    opened = sessions.login("change-me")
    assert opened is not None and opened[1].role == "change"
    reader = sessions.login(" read-me ")
    assert reader is not None and reader[1].role == "read"
    assert sessions.get(reader[0]) is reader[1]
    assert not sessions.csrf_ok(reader[1], None)
    assert not sessions.csrf_ok(reader[1], reader[1].csrf + "x")
    assert sessions.csrf_ok(reader[1], reader[1].csrf)
    now[0] = 101.0
    assert sessions.get(reader[0]) is None  # expired
    for _ in range(3):
        assert sessions.login("nope") is None
    assert sessions.throttled()
    now[0] = 200.0
    assert not sessions.throttled()
    ids = [sessions.login("read-me") for _ in range(5)]
    assert sessions.get(ids[0][0] if ids[0] else None) is None  # oldest evicted
    assert sessions.get(ids[-1][0] if ids[-1] else None) is not None
    assert Sessions(None, None).open and not Sessions(None, None).is_change_token("")


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_text_colours_meet_wcag_aa_contrast() -> None:
    from pathlib import Path

    import gateway.web

    css = (Path(gateway.web.__file__).parent / "static" / "status.css").read_text()
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", css))
    pairs = [("ink", "paper"), ("muted", "paper"), ("muted", "back"), ("ok", "ok-bg"),
             ("warn", "warn-bg"), ("bad", "bad-bg"), ("bad", "paper")]
    for text, ground in pairs:
        light, dark = sorted((_luminance(colours[text]), _luminance(colours[ground])),
                             reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 4.5, (text, ground)
