"""``crcgw test-dial`` with API credentials in the environment (``CRCGW_ZOOM_BASE_URL`` pointing
at the API emulator): the meeting's dial-in information and the CRC port check come from the
API, and the call goes to the stand-in meeting given with ``--host``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from api_client.emulator import EmulatorServer, meeting_passcode, run_emulator
from api_client.models.crc import CrcSettingsUpdate
from gateway.standin.process import StandinError, StandinProcess
from tests.testdial.conftest import MEETING, run_crcgw, stage

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Api:
    emulator: EmulatorServer
    standin: StandinProcess

    @property
    def env(self) -> dict[str, str]:
        return {"CRCGW_ZOOM_BASE_URL": self.emulator.zoom_url}

    def set_ports(self, allocated: int) -> None:
        with self.emulator.zoom_client() as client:
            client.crc.update_settings(CrcSettingsUpdate(ports_allocated=allocated))


@pytest.fixture
def api() -> Iterator[Api]:
    # a fresh stand-in per test: the stand-in's pjsua stops sending RTP after its first call
    # (its null sound device, the media clock, closes when idle and is not reopened)
    with run_emulator(None) as emulator, StandinProcess(emulator_url=emulator.zoom_url) as crc:
        yield Api(emulator, crc)


def test_dial_in_information_and_ports_come_from_the_api(api: Api) -> None:
    run = run_crcgw(["test-dial", MEETING, "--host", api.standin.address, "--duration", "1s",
                     "--json"], api.env)
    assert run.code == 0, run.stderr + run.stdout
    assert meeting_passcode(MEETING) not in run.stdout
    report = run.json()
    # the passcode came from the API's answer: dialled in the URI, no IVR needed
    assert report["target"] == f"sip:{MEETING}.***@{api.standin.address}"
    assert "dial-in information from seed:GET /meetings/{id}/sip_dialing" in report["notes"]
    crc = stage(report, "crc_port")
    assert crc["status"] == "ok" and crc["detail"].endswith("10 free")
    ports = report["ports"]
    assert ports["before"]["allocated"] == 10
    assert ports["during"]["in_use"] == ports["before"]["in_use"] + 1
    joined = api.standin.wait_for("joined", 5, meeting_id=MEETING)
    assert joined["meeting_id"] == MEETING


def test_a_full_crc_pool_fails_the_port_stage(api: Api) -> None:
    api.set_ports(0)
    run = run_crcgw(["test-dial", MEETING, "--host", api.standin.address, "--duration", "1s",
                     "--json"], api.env)
    assert run.code == 1, run.stderr + run.stdout
    report = run.json()
    crc = stage(report, "crc_port")
    assert crc["status"] == "failed" and crc["detail"] == "0/0 in use, 0 free"
    assert report["ok"] is False


def _joined(api: Api) -> int:
    with contextlib.suppress(StandinError):
        api.standin.wait_for("pump", 0.3)  # collect what the stand-in reported so far
    return sum(1 for e in api.standin.events if e.get("event") == "joined")


def test_ivr_without_a_visible_prompt_sends_on_the_usual_timing(api: Api) -> None:
    joined = _joined(api)
    # the digits take about 3 s: the call stays up until they are out, not just for --duration
    run = run_crcgw(["test-dial", MEETING, "--host", api.standin.address, "--ivr",
                     "--ivr-first", "0.5", "--ivr-gap", "0.5", "--duration", "1s", "--json"],
                    api.env)
    assert run.code == 0, run.stderr + run.stdout
    assert meeting_passcode(MEETING) not in run.stdout
    report = run.json()
    assert report["target"] == f"sip:{MEETING}@{api.standin.address}"
    dtmf = stage(report, "dtmf")
    assert dtmf["status"] == "sent" and "no acknowledgement visible" in dtmf["detail"]
    assert all(v["metric"] != "dtmf_ms" for v in report["verdicts"])
    # the stand-in did take the digits: one more caller joined
    assert _joined(api) == joined + 1
    assert report["ports"]["during"]["in_use"] == report["ports"]["before"]["in_use"] + 1
