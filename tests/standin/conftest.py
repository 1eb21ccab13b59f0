"""Fixtures of the stand-in tests: an API emulator (per module) and a stand-in process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api_client.emulator import EmulatorServer, run_emulator
from gateway.standin.process import StandinProcess


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with run_emulator() as server:
        yield server


@pytest.fixture
def standin(emulator: EmulatorServer) -> Iterator[StandinProcess]:
    with StandinProcess(emulator_url=emulator.zoom_url) as process:
        yield process
