"""Suite-wide settings.

On CI (``CI`` set, as ``.ci/run`` is run) hypothesis draws the same examples every run, so a
landing never depends on which random inputs came up; elsewhere it explores new ones each run,
and whatever it finds is fixed and pinned as an explicit example or case.
"""

from __future__ import annotations

import os
import signal

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# A suite started in the background of a non-interactive shell (``cmd &``, nohup) inherits
# SIGINT ignored, and so would every process it starts: the tests that stop a command with
# Ctrl-C (SIGINT) would wait for ever. A Python handler here is reset to the default on exec,
# so the commands under test start with SIGINT delivered, as from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
