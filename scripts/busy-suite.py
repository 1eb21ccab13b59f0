#!/usr/bin/env python3
"""Run the test suite (or given pytest arguments) beside N busy loops, as on a loaded CI machine.

    scripts/busy-suite.py                       # the whole suite beside 2 busy loops
    scripts/busy-suite.py --busy 3 tests/daemon tests/testdial -x
    scripts/busy-suite.py --runs 2              # twice in a row (issue 20's bar)

Each busy loop is a process spinning on a core; they end when the run ends (killed by PID) or
when this script dies (each loop watches its parent). Prints the tests that failed or errored
in each run and exits with pytest's status (the first non-zero one over the runs).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.etree import ElementTree

REPO = Path(__file__).resolve().parents[1]

# Spins until its parent (this script) is gone, checking every few million iterations.
_BUSY = """
import os, sys
parent = int(sys.argv[1])
while os.getppid() == parent:
    for _ in range(2_000_000):
        pass
"""


def _say(text: str = "", end: str = "\n") -> None:
    sys.stdout.write(text + end)
    sys.stdout.flush()


def _python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _start_busy(count: int) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(
            [sys.executable, "-c", _BUSY, str(os.getpid())],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


def _stop_busy(loops: list[subprocess.Popen[bytes]]) -> None:
    for loop in loops:
        if loop.poll() is None:
            loop.kill()
    for loop in loops:
        loop.wait()


def _node_id(classname: str, name: str) -> str:
    """pytest's node id back from JUnit's dotted ``classname`` (module path, then classes)."""
    parts = classname.split(".") if classname else []
    for cut in range(len(parts), 0, -1):
        path = "/".join(parts[:cut]) + ".py"
        if (REPO / path).is_file():
            return "::".join([path, *parts[cut:], name])
    return "::".join([*parts, name])


def _failures(junit: Path) -> list[str]:
    """``nodeid: message`` of every failed or errored test case in a JUnit XML report."""
    try:
        root = ElementTree.parse(junit).getroot()
    except (OSError, ElementTree.ParseError):
        return []
    found: list[str] = []
    for case in root.iter("testcase"):
        for kind in ("failure", "error"):
            problem = case.find(kind)
            if problem is None:
                continue
            name = _node_id(case.get("classname") or "", case.get("name") or "?")
            message = (problem.get("message") or "").splitlines()
            found.append(f"{name} ({kind}: {message[0][:120] if message else '?'})")
    return found


def _run_once(python: str, pytest_args: list[str], busy: int, index: int) -> tuple[int, list[str]]:
    with tempfile.TemporaryDirectory(prefix="crcgw-busy-") as tmp:
        junit = Path(tmp) / "junit.xml"
        command = [python, "-m", "pytest", "-q", f"--junitxml={junit}", *pytest_args]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        loops = _start_busy(busy)
        started = time.monotonic()
        try:
            _say(f"run {index}: {busy} busy loops (pids {[p.pid for p in loops]}); "
                 f"{' '.join(command[1:])}")
            code = subprocess.run(command, cwd=REPO, env=env, check=False).returncode
        finally:
            _stop_busy(loops)
        failed = _failures(junit)
    took = time.monotonic() - started
    _say(f"run {index}: pytest exit {code} after {took:.0f} s; {len(failed)} failed")
    return code, failed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description="Run pytest beside N busy-loop processes and report the tests that failed.",
        epilog="Arguments after the options (or after --) go to pytest.",
        allow_abbrev=False,
    )
    parser.add_argument("--busy", type=int, default=2, help="busy-loop processes (default 2)")
    parser.add_argument("--runs", type=int, default=1, help="runs in a row (default 1)")
    parser.add_argument("--python", default=_python(), help="interpreter (default .venv's)")
    options, pytest_args = parser.parse_known_args(argv)
    if pytest_args[:1] == ["--"]:
        pytest_args = pytest_args[1:]
    if options.busy < 0 or options.runs < 1:
        parser.error("--busy must be >= 0 and --runs >= 1")
    worst = 0
    report: list[str] = []
    for index in range(1, options.runs + 1):
        code, failed = _run_once(options.python, pytest_args, options.busy, index)
        worst = worst or code
        report += [f"run {index}: {line}" for line in failed]
    _say(f"\nbusy-suite: {options.runs} run(s) beside {options.busy} busy loops: ", end="")
    if report:
        _say(f"{len(report)} failed")
        _say("\n".join(f"  {line}" for line in report))
    else:
        _say("no test failed" if worst == 0 else f"pytest exit {worst} (no test failure listed)")
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
