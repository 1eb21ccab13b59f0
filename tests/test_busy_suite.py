"""scripts/busy-suite.py runs pytest beside busy loops, lists what failed, and leaves no loop."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_busy_suite_reports_the_failed_test_and_stops_its_loops(tmp_path: Path) -> None:
    tests = tmp_path / "test_sample.py"
    tests.write_text(
        "def test_passes():\n    assert True\n\n"
        "def test_fails():\n    assert 1 + 1 == 3, 'arithmetic'\n"
    )
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "busy-suite.py"), "--busy", "2",
         "--python", sys.executable, str(tests), "-p", "no:cacheprovider"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "beside 2 busy loops: 1 failed" in run.stdout, run.stdout
    listed = [line for line in run.stdout.splitlines() if line.startswith("  run 1:")]
    assert len(listed) == 1 and "test_fails" in listed[0] and "arithmetic" in listed[0], listed
    started = re.search(r"busy loops \(pids \[(\d+), (\d+)\]\)", run.stdout)
    assert started is not None, run.stdout
    for pid in started.groups():  # killed and reaped by the script
        assert not os.path.exists(f"/proc/{pid}") or _not_our_loop(int(pid))


def _not_our_loop(pid: int) -> bool:
    """The pid was reused by another process (our loop is gone)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    return b"getppid" not in cmdline
