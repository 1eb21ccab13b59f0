"""A fax call as Wireshark counts it: G.711 with RFC 4733 events, then a re-INVITE offering
T.38 on the audio port, declined with 488. tshark's SDP handling sets that port's conversation
to T.38 from the re-INVITE on, so the audio towards it after that is not RTP for tshark: the
stream ends there in ``-z rtp,streams``, and so it does in ours (with a note), whether tshark read
the whole capture or a sub-capture of a large one."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.analysis import analyse as analyse_module
from gateway.analysis.report import analyse_capture
from tests.analysis.conftest import need_tshark
from tests.analysis.encapsulate import ethernet
from tests.analysis.synthetic import A_RTP, B_RTP, A, B, write_synthetic_call
from tests.analysis.wireshark_ref import endpoint, wireshark_streams

pytestmark = [need_tshark, pytest.mark.capture]


@pytest.mark.parametrize("sub_capture", [False, True], ids=["whole-file", "sub-capture"])
def test_fax_reinvite_declined_counts_as_tshark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sub_capture: bool
) -> None:
    path = tmp_path / "fax.pcap"
    write_synthetic_call(path, encapsulate=ethernet, fax_offer_at_s=2.0, background=True)
    if sub_capture:  # as on a large capture: the scan first, then tshark on a sub-capture
        monkeypatch.setattr(analyse_module, "_EARLY_BYTES", 0)
        monkeypatch.setattr(analyse_module, "_EARLY_QUIET_BYTES", 0)
        monkeypatch.setattr(analyse_module, "_SUBSET_SHARE", 1.01)
    report = analyse_capture(path)
    reference = wireshark_streams(path)
    ours = {(s.src, s.dst, s.ssrc): (s.stats.packets, s.stats.lost) for s in report.streams}
    assert ours == {key: (ws.packets, ws.lost) for key, ws in reference.items()}
    to_a = next(s for s in report.streams if s.src == endpoint(B, B_RTP))
    # 150 packets were sent towards A's port, fewer are RTP for tshark (the rest is "T.38")
    assert 0 < to_a.stats.packets < 150
    assert any("not RTP for tshark" in n for n in report.notes)
    from_a = next(s for s in report.streams if s.src == endpoint(A, A_RTP))
    assert from_a.dtmf == "5" and from_a.stats.lost == 1
    (call,) = report.calls
    assert call.reinvites == 1 and call.final_code == 200


def test_ssrc_shared_by_both_legs_of_a_relay(tmp_path: Path) -> None:
    """A relay (B2BUA, SBC) that forwards RTP with the SSRC unchanged: the same SSRC on two
    legs is two streams, per addresses and ports, as tshark counts them."""
    import ipaddress

    relay_a, relay_b = ipaddress.IPv4Address("203.0.113.5").packed, \
        ipaddress.IPv4Address("203.0.113.6").packed

    def with_second_leg(ip: bytes) -> list[bytes]:
        frames = ethernet(ip)
        if ip[9] == 17 and len(ip) > 40 and ip[28] >> 6 == 2:  # RTP: relayed as it is
            frames += ethernet(ip[:12] + relay_a + relay_b + ip[20:])
        return frames

    path = tmp_path / "relay.pcap"
    write_synthetic_call(path, encapsulate=with_second_leg)
    report = analyse_capture(path)
    reference = wireshark_streams(path)
    ours = {(s.src, s.dst, s.ssrc): (s.stats.packets, s.stats.lost) for s in report.streams}
    assert ours == {key: (ws.packets, ws.lost) for key, ws in reference.items()}
    assert len(ours) == 4
    assert len({ssrc for _, _, ssrc in ours}) == 2
