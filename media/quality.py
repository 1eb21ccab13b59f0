"""Call quality: the ITU-T G.107 E-model (MOS from codec, loss and delay) and verdict thresholds.

The E-model is computed in full (G.107 (06/2015) section 3) with the default planning values
for everything a capture cannot know (loudness ratings, noise, sidetone, echo loss): with those
defaults and no impairment it gives R = 93.2, MOS 4.41. Codec impairments (``Ie``, ``Bpl``) are
the ITU-T G.113 Appendix I values where G.113 lists the codec; G.711 is taken with packet loss
concealment (G.711 Appendix I), which every room system and softphone here uses.

Thresholds are the limits a room engineer would accept for each figure of a test call; they can
be overridden from a YAML or JSON mapping (``{"mos": 3.8, "loss_pct": {"max": 0.5}}``).
No I/O here: files are read by the caller and passed in as text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

__all__ = [
    "CODEC_IMPAIRMENTS",
    "DEFAULT_THRESHOLDS",
    "CodecImpairment",
    "Threshold",
    "Verdict",
    "all_passed",
    "codec_impairment",
    "e_model_r",
    "estimate_mos",
    "judge",
    "load_thresholds",
    "mos_from_r",
]


@dataclass(frozen=True)
class CodecImpairment:
    """G.113 equipment impairment ``ie``, packet-loss robustness ``bpl``, and the codec's own
    delay in ms (frame plus look-ahead, for the mouth-to-ear estimate)."""

    ie: float
    bpl: float
    codec_delay_ms: float
    source: str


#: Keys are lower-case encoding names as in SDP ``rtpmap`` (RFC 3551 names for static types).
CODEC_IMPAIRMENTS: Mapping[str, CodecImpairment] = {
    "pcmu": CodecImpairment(0.0, 25.1, 0.0, "G.113 I.3, G.711 with PLC"),
    "pcma": CodecImpairment(0.0, 25.1, 0.0, "G.113 I.3, G.711 with PLC"),
    "g729": CodecImpairment(11.0, 19.0, 15.0, "G.113 I.3, G.729A+VAD"),
    "g723": CodecImpairment(15.0, 16.1, 37.5, "G.113 I.3, G.723.1 6.3 kbit/s"),
    "gsm": CodecImpairment(20.0, 10.0, 20.0, "G.113 I.1, GSM 06.10 (Bpl assumed)"),
    "ilbc": CodecImpairment(11.0, 32.0, 25.0, "assumed (not in G.113)"),
    "g726-32": CodecImpairment(7.0, 4.3, 0.0, "G.113 I.1, G.726 32 kbit/s (Bpl assumed)"),
    # Wideband and full-band codecs rated on the narrowband scale: no impairment of their own.
    "g722": CodecImpairment(0.0, 25.1, 1.5, "narrowband scale, assumed"),
    "opus": CodecImpairment(0.0, 25.1, 6.5, "narrowband scale, assumed"),
    "speex": CodecImpairment(5.0, 20.0, 20.0, "assumed (not in G.113)"),
}

_UNKNOWN_CODEC = CodecImpairment(0.0, 25.1, 0.0, "unknown codec: G.711 values assumed")


@lru_cache(maxsize=256)
def codec_impairment(codec: str | None) -> CodecImpairment:
    """Impairment values of an encoding name (``PCMU``, ``G729``, ``opus``), any case."""
    if not codec:
        return _UNKNOWN_CODEC
    key = codec.lower()
    if key in CODEC_IMPAIRMENTS:
        return CODEC_IMPAIRMENTS[key]
    for name, value in CODEC_IMPAIRMENTS.items():
        if key.startswith(name):
            return value
    return _UNKNOWN_CODEC


def _lg(x: float) -> float:
    return math.log10(x)


def e_model_r(
    ie: float = 0.0,
    bpl: float = 25.1,
    ppl: float = 0.0,
    burst_r: float = 1.0,
    ta_ms: float = 0.0,
    advantage: float = 0.0,
) -> float:
    """The G.107 rating factor R for a packet loss of ``ppl`` percent and a mouth-to-ear delay of
    ``ta_ms`` (also used as the echo path delay T and half the round trip Tr), other parameters at
    their G.107 default values."""
    if ppl < 0 or ta_ms < 0:
        raise ValueError("packet loss and delay must not be negative")
    slr, rlr, stmr, ds, dr, telr, wepl = 8.0, 2.0, 15.0, 3.0, 3.0, 65.0, 110.0
    nc, nfor, ps, pr, qdu = -70.0, -64.0, 35.0, 35.0, 1.0
    t, tr = ta_ms, 2.0 * ta_ms
    lstr = stmr + dr
    olr = slr + rlr
    pre = pr + 10 * _lg(1 + 10 ** ((10 - lstr) / 10))
    nor = rlr - 121 + pre + 0.008 * (pre - 35) ** 2
    nos = ps - slr - ds - 100 + 0.004 * (ps - olr - ds - 14) ** 2
    nfo = nfor + rlr
    no = 10 * _lg(10 ** (nc / 10) + 10 ** (nos / 10) + 10 ** (nor / 10) + 10 ** (nfo / 10))
    ro = 15 - 1.5 * (slr + no)

    xolr = olr + 0.2 * (64 + no - rlr)
    iolr = 20 * ((1 + (xolr / 8) ** 8) ** (1 / 8) - xolr / 8)
    stmro = -10 * _lg(10 ** (-stmr / 10) + math.exp(-t / 4) * 10 ** (-telr / 10))
    ist = (
        12 * (1 + ((stmro - 13) / 6) ** 8) ** (1 / 8)
        - 28 * (1 + ((stmro + 1) / 19.4) ** 35) ** (1 / 35)
        - 13 * (1 + ((stmro - 3) / 33) ** 13) ** (1 / 13)
        + 29
    )
    q = 37 - 15 * _lg(qdu)
    g = 1.07 + 0.258 * q + 0.0602 * q**2
    y = (ro - 100) / 15 + 46 / 8.4 - g / 9
    z = 46 / 30 - g / 40
    iq = 15 * _lg(1 + 10**y + 10**z)
    is_ = iolr + ist + iq

    terv = telr - 40 * _lg((1 + t / 10) / (1 + t / 150)) + 6 * math.exp(-0.3 * t**2)
    roe = -1.5 * (no - rlr)
    re = 80 + 2.5 * (terv - 14)
    idte = ((roe - re) / 2 + math.sqrt((roe - re) ** 2 / 4 + 100) - 1) * (1 - math.exp(-t))
    rle = 10.5 * (wepl + 7) * (tr + 1) ** -0.25
    idle = (ro - rle) / 2 + math.sqrt((ro - rle) ** 2 / 4 + 169)
    idd = 0.0
    if ta_ms > 100:
        x = _lg(ta_ms / 100) / _lg(2)
        idd = 25 * ((1 + x**6) ** (1 / 6) - 3 * (1 + (x / 3) ** 6) ** (1 / 6) + 2)
    id_ = idte + idle + idd

    ie_eff = ie + (95 - ie) * ppl / (ppl / burst_r + bpl)
    return float(ro - is_ - id_ - ie_eff + advantage)


def mos_from_r(r: float) -> float:
    """G.107 Annex B: the estimated mean opinion score (conversational quality) for R."""
    if r <= 0:
        return 1.0
    if r >= 100:
        return 4.5
    return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6


@lru_cache(maxsize=4096)  # pure; streams of a capture often share codec, loss and buffer
def estimate_mos(
    codec: str | None,
    loss_fraction: float,
    network_delay_ms: float = 0.0,
    jitter_buffer_ms: float = 40.0,
    ptime_ms: float = 20.0,
) -> float:
    """MOS for a stream of ``codec`` losing ``loss_fraction`` (0..1) of its packets.

    The mouth-to-ear delay is the one-way network delay plus the packetisation time, the codec's
    own delay and a receive jitter buffer.
    """
    imp = codec_impairment(codec)
    ta = network_delay_ms + ptime_ms + imp.codec_delay_ms + jitter_buffer_ms
    ppl = 100.0 * min(1.0, max(0.0, loss_fraction))
    return mos_from_r(e_model_r(imp.ie, imp.bpl, ppl, 1.0, ta))


# --- verdicts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    """A limit on one figure: ``value <= limit`` for ``kind="max"``, ``>=`` for ``"min"``."""

    metric: str
    limit: float
    kind: str = "max"
    unit: str = ""
    description: str = ""

    def passes(self, value: float) -> bool:
        return value <= self.limit if self.kind == "max" else value >= self.limit


def _t(metric: str, limit: float, kind: str, unit: str, description: str) -> Threshold:
    return Threshold(metric, limit, kind, unit, description)


#: Defaults for a test call to a meeting from a room on a managed network.
DEFAULT_THRESHOLDS: Mapping[str, Threshold] = {
    t.metric: t
    for t in (
        _t("dns_ms", 500, "max", "ms", "name resolution of the target"),
        _t("connect_ms", 1000, "max", "ms", "TCP connect and TLS handshake"),
        _t("register_ms", 2000, "max", "ms", "REGISTER to 200, including the 401 round"),
        _t("invite_to_100_ms", 500, "max", "ms", "INVITE to 100 Trying"),
        _t("invite_to_180_ms", 3000, "max", "ms", "INVITE to 180/183"),
        _t("setup_ms", 5000, "max", "ms", "INVITE to 200 OK"),
        _t("dtmf_ms", 3000, "max", "ms", "IVR digits sent until accepted"),
        _t("bye_ms", 2000, "max", "ms", "BYE to 200"),
        _t("loss_pct", 1.0, "max", "%", "RTP packets lost"),
        _t("jitter_ms", 30.0, "max", "ms", "mean interarrival jitter (RFC 3550)"),
        _t("max_jitter_ms", 60.0, "max", "ms", "largest interarrival jitter"),
        _t("mos", 3.6, "min", "", "estimated MOS (ITU-T G.107)"),
        _t("packets", 1, "min", "", "RTP packets received in each direction"),
        _t("rtt_ms", 300.0, "max", "ms", "RTCP round trip (RFC 3550 LSR/DLSR), when reported"),
        _t("far_loss_pct", 1.0, "max", "%", "loss the far end reports by RTCP, when it does"),
        _t("video_first_frame_ms", 5000, "max", "ms", "answer to the first decoded picture"),
        _t("video_fps", 5.0, "min", "fps", "decoded frames per second from the far end"),
        _t("video_height", 144, "min", "px", "height of the far end's picture"),
        _t("video_loss_pct", 2.0, "max", "%", "video RTP packets lost (after NACK)"),
        _t("video_freezes", 2, "max", "", "gaps of 500 ms or more without a decoded picture"),
        _t("video_keyframe_rtt_ms", 1500, "max", "ms", "keyframe request to the keyframe"),
        _t("video_frames", 1, "min", "", "video frames decoded and sent, each way negotiated"),
    )
}


@dataclass(frozen=True)
class Verdict:
    metric: str
    value: float | None
    threshold: Threshold
    status: str  # "pass", "fail" or "missing"

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "value": self.value,
            "limit": self.threshold.limit,
            "kind": self.threshold.kind,
            "status": self.status,
        }


def load_thresholds(
    text: str, base: Mapping[str, Threshold] = DEFAULT_THRESHOLDS
) -> dict[str, Threshold]:
    """Thresholds overridden by a YAML/JSON mapping: ``metric: number`` keeps the default
    direction, ``metric: {max: n}`` or ``{min: n}`` sets it. Unknown metrics are an error."""
    try:
        import yaml  # only for thresholds files

        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        try:
            data = json.loads(text)
        except ValueError:
            raise ValueError(f"thresholds are neither YAML nor JSON: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError("thresholds must be a mapping of metric names to limits")
    out = dict(base)
    for name, value in data.items():
        key = str(name)
        if key not in out:
            known = ", ".join(sorted(out))
            raise ValueError(f"unknown threshold {key!r} (known: {known})")
        if isinstance(value, bool):
            raise ValueError(f"threshold {key}: expected a number, got {value!r}")
        if isinstance(value, int | float):
            out[key] = replace(out[key], limit=float(value))
        elif isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("max", "min"):
            kind, limit = next(iter(value.items()))
            if isinstance(limit, bool) or not isinstance(limit, int | float):
                raise ValueError(f"threshold {key}: expected a number, got {limit!r}")
            out[key] = replace(out[key], limit=float(limit), kind=kind)
        else:
            raise ValueError(f"threshold {key}: expected a number or {{max|min: number}}")
    return out


def judge(
    figures: Mapping[str, float | None],
    thresholds: Mapping[str, Threshold] = DEFAULT_THRESHOLDS,
) -> list[Verdict]:
    """A verdict for every figure that has a threshold (figures without one are ignored)."""
    verdicts = []
    for metric, value in figures.items():
        threshold = thresholds.get(metric)
        if threshold is None:
            continue
        if value is None or (isinstance(value, float) and math.isnan(value)):
            status = "missing"
        else:
            status = "pass" if threshold.passes(float(value)) else "fail"
        verdicts.append(Verdict(metric, value, threshold, status))
    return verdicts


def all_passed(verdicts: Iterable[Verdict], missing_fails: bool = True) -> bool:
    """True when every verdict passes (a missing figure fails unless ``missing_fails=False``)."""
    return all(v.passed or (v.status == "missing" and not missing_fails) for v in verdicts)



