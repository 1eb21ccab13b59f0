"""Accuracy against Wireshark on public captures installed on every machine of the project:
the RTP captures SIPp ships for ``play_pcap_audio`` (Debian ``sip-tester``, in scripts/setup.sh):
a G.711 A-law stream and one RFC 4733 DTMF event per digit, without any SDP (tshark finds them by
its RTP heuristic and decodes payload type 101 as events by its ``rtpevent`` preference)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analysis.conftest import need_tshark
from tests.analysis.wireshark_ref import assert_streams_match

SIPP = Path("/usr/share/sip-tester")
CAPTURES = sorted(SIPP.glob("*.pcap")) if SIPP.is_dir() else []
pytestmark = [
    need_tshark,
    pytest.mark.capture,
    pytest.mark.skipif(not CAPTURES, reason="SIPp's captures (Debian sip-tester) are absent"),
]
_DIGIT = {"star": "*", "pound": "#"}


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_sipp_capture_matches_wireshark(capture: Path) -> None:
    report = assert_streams_match(capture)
    assert len(report.streams) == 1
    stream = report.streams[0]
    if capture.stem.startswith("dtmf_2833_"):
        # ten event packets, the end packet sent three times: 2 "lost" (-2), as in Wireshark
        name = capture.stem.removeprefix("dtmf_2833_")
        assert stream.dtmf == _DIGIT.get(name, name)
        assert stream.codec == "telephone-event"
    else:
        assert (stream.codec, stream.dtmf) == ("PCMA", "")
        assert stream.stats.packets > 200
