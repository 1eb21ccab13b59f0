"""A tshark that dies under pyshark leaves nothing behind to raise at a later, unrelated moment."""

from __future__ import annotations

import contextlib
import gc
import shutil
from pathlib import Path
from typing import Any

import pytest

from gateway.analysis.signaling_capture import _close, _pyshark_loop


def _read_damaged(path: Path) -> Any:
    pyshark = pytest.importorskip("pyshark")
    from pyshark.capture.capture import TSharkCrashException

    path.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\x00" * 7)  # a truncated pcap header
    cap = pyshark.FileCapture(str(path), eventloop=_pyshark_loop(), keep_packets=False)
    with contextlib.suppress(TSharkCrashException):
        for _ in cap:
            pass
    return cap


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_closing_after_tshark_failed_leaves_no_process_for_del(tmp_path: Path) -> None:
    from pyshark.capture.capture import TSharkCrashException

    plain = _read_damaged(tmp_path / "a.pcap")
    with pytest.raises(TSharkCrashException):
        plain.close()  # pyshark alone: raises, and keeps the process for __del__ to raise again
    assert plain._running_processes
    plain._running_processes.clear()  # (so that this half of the test leaves nothing behind)

    ours = _read_damaged(tmp_path / "b.pcap")
    _close(ours)
    assert not ours._running_processes
    del plain, ours
    gc.collect()  # with warnings as errors, an exception in a __del__ would fail the run
