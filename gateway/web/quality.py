"""Live media quality of a call from its RTP receive statistics: loss, jitter and an estimated
MOS (ITU-T G.107 E-model, simplified).

The estimate assumes a codec with packet-loss concealment and no coding impairment (Ie = 0,
Bpl = 25.1, random loss: G.711 with PLC) and a one-way delay of 40 ms plus twice the jitter (a
jitter buffer sized for it); the gateway cannot see the true mouth-to-ear delay. G.722 calls
are scored on the same narrowband scale (their extra bandwidth is not credited). It is an
indication for an operator, not a measurement of what listeners hear. Calls with other codecs
get no MOS.
"""

from __future__ import annotations

from dataclasses import dataclass

from signaling.sip.events import CallStats

__all__ = ["MediaQuality", "estimate_mos", "media_quality"]

_SCORED = ("pcmu", "pcma", "g711", "g722")


def estimate_mos(loss_fraction: float, jitter_ms: float, *, base_delay_ms: float = 40.0) -> float:
    """MOS-CQE (1.0-4.5) for G.711 with PLC at ``loss_fraction`` random loss and ``jitter_ms``
    of interarrival jitter."""
    loss_pct = 100.0 * min(1.0, max(0.0, loss_fraction))
    delay = base_delay_ms + 2.0 * max(0.0, jitter_ms)
    i_d = 0.024 * delay + (0.11 * (delay - 177.3) if delay > 177.3 else 0.0)
    i_e_eff = (95.0 - 0.0) * loss_pct / (loss_pct + 25.1)
    r = 93.2 - i_d - i_e_eff
    if r <= 0:
        return 1.0
    if r >= 100:
        return 4.5
    return 1.0 + 0.035 * r + 7e-6 * r * (r - 60.0) * (100.0 - r)


@dataclass(frozen=True)
class MediaQuality:
    codec: str | None
    rx_packets: int
    loss_pct: float | None
    jitter_ms: float | None
    mos: float | None

    @property
    def grade(self) -> str:
        """``good``, ``fair``, ``poor`` or ``unknown`` (by MOS, else by loss)."""
        if self.mos is not None:
            return "good" if self.mos >= 4.0 else "fair" if self.mos >= 3.6 else "poor"
        if self.loss_pct is not None:
            return "good" if self.loss_pct < 1 else "fair" if self.loss_pct < 3 else "poor"
        return "unknown"


def media_quality(stats: CallStats | None) -> MediaQuality | None:
    """The quality figures of ``stats`` (``None`` before the first statistics)."""
    if stats is None:
        return None
    expected = stats.rx_packets + stats.rx_lost
    loss = stats.rx_lost / expected if expected > 0 else None
    jitter = stats.rx_jitter_ms
    codec = stats.codec
    mos = None
    if loss is not None and jitter is not None and codec and codec.lower().startswith(_SCORED):
        mos = round(estimate_mos(loss, jitter), 2)
    return MediaQuality(
        codec, stats.rx_packets, None if loss is None else round(100 * loss, 2),
        None if jitter is None else round(jitter, 1), mos,
    )
