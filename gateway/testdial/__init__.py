"""``crcgw test-dial``: dial a meeting the way a room would and explain the call.

:func:`~gateway.testdial.runner.run_test_dial` resolves the target (dial-string engine or the
API's dial-in information), checks that a CRC port is free, registers when an account is given,
dials over SIP (:mod:`~gateway.testdial.sip_run`) or H.323 (:mod:`~gateway.testdial.h323_run`),
enters the IVR digits, stays in the call measuring, hangs up, and judges every figure against
the thresholds of :mod:`media.quality` (:mod:`~gateway.testdial.report`).
"""

from gateway.testdial.report import MediaFigures, Stage, TestDialReport, report_json
from gateway.testdial.runner import TestDialOptions, run_test_dial
from gateway.testdial.target import TargetError, TargetRequest

__all__ = [
    "MediaFigures",
    "Stage",
    "TargetError",
    "TargetRequest",
    "TestDialOptions",
    "TestDialReport",
    "report_json",
    "run_test_dial",
]
