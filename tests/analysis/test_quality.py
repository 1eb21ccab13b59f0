"""media.quality: the G.107 E-model against its known anchor points, and verdict thresholds."""

from __future__ import annotations

import pytest

from media.quality import (
    DEFAULT_THRESHOLDS,
    all_passed,
    codec_impairment,
    e_model_r,
    estimate_mos,
    judge,
    load_thresholds,
    mos_from_r,
)


def test_default_parameters_give_r_93_2() -> None:
    # G.107: with all parameters at their default values R = 93.2
    assert e_model_r() == pytest.approx(93.2, abs=0.05)
    assert mos_from_r(93.2) == pytest.approx(4.41, abs=0.01)


def test_mos_conversion_edges() -> None:
    assert mos_from_r(-5) == 1.0 and mos_from_r(0) == 1.0
    assert mos_from_r(100) == 4.5 and mos_from_r(120) == 4.5
    assert mos_from_r(50) == pytest.approx(1 + 0.035 * 50 + 50 * -10 * 50 * 7e-6)


def test_delay_impairment_starts_above_100_ms() -> None:
    # Idd is zero up to 100 ms; the echo terms still cost a little
    assert e_model_r(ta_ms=100) > 90
    assert e_model_r(ta_ms=400) < 70
    assert e_model_r(ta_ms=150) > e_model_r(ta_ms=250) > e_model_r(ta_ms=350)


def test_loss_impairment_uses_bpl() -> None:
    # Ie,eff = Ie + (95 - Ie) * Ppl / (Ppl + Bpl) for random loss
    r0 = e_model_r(ie=0, bpl=25.1, ppl=0)
    r2 = e_model_r(ie=0, bpl=25.1, ppl=2)
    assert r0 - r2 == pytest.approx(95 * 2 / (2 + 25.1), abs=1e-6)
    # a codec without concealment (G.711 without PLC, Bpl 4.3) suffers much more
    assert e_model_r(ie=0, bpl=4.3, ppl=2) < r2 - 15


def test_estimate_mos_orders_codecs_loss_and_delay() -> None:
    assert estimate_mos("PCMU", 0.0) > estimate_mos("G729", 0.0) > estimate_mos("G723", 0.0)
    assert estimate_mos("PCMA", 0.0) > estimate_mos("PCMA", 0.02) > estimate_mos("PCMA", 0.1)
    assert estimate_mos("PCMA", 0.0, network_delay_ms=300) < estimate_mos("PCMA", 0.0)
    assert 4.3 < estimate_mos("PCMU", 0.0) <= 4.41
    assert codec_impairment("g729a") is codec_impairment("G729")
    assert "unknown" in codec_impairment("x-weird").source
    with pytest.raises(ValueError):
        e_model_r(ppl=-1)


def test_thresholds_override_from_yaml_and_json() -> None:
    t = load_thresholds("mos: 3.9\nloss_pct: {max: 0.5}\n")
    assert t["mos"].limit == 3.9 and t["mos"].kind == "min"
    assert t["loss_pct"].limit == 0.5
    assert t["jitter_ms"] == DEFAULT_THRESHOLDS["jitter_ms"]
    assert load_thresholds('{"setup_ms": 2500}')["setup_ms"].limit == 2500
    assert load_thresholds("") == dict(DEFAULT_THRESHOLDS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("latency: 10", "unknown threshold 'latency'"),
        ("mos: fast", "expected a number or"),
        ("mos: {max: yes}", "expected a number"),
        ("- 1\n- 2", "must be a mapping"),
    ],
)
def test_bad_threshold_files_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_thresholds(text)


def test_verdicts() -> None:
    verdicts = judge({"mos": 4.2, "loss_pct": 3.0, "setup_ms": None, "not_a_metric": 1.0})
    by = {v.metric: v for v in verdicts}
    assert set(by) == {"mos", "loss_pct", "setup_ms"}
    assert by["mos"].passed and by["loss_pct"].status == "fail"
    assert by["setup_ms"].status == "missing"
    assert not all_passed(verdicts)
    assert all_passed(judge({"mos": 4.2, "jitter_ms": 5.0}))
    assert all_passed([by["setup_ms"]], missing_fails=False)
    assert by["loss_pct"].as_dict()["limit"] == 1.0
