"""Suite-wide settings.

On CI (``CI`` set, as ``.ci/run`` is run) hypothesis draws the same examples every run, so a
landing never depends on which random inputs came up; elsewhere it explores new ones each run,
and whatever it finds is fixed and pinned as an explicit example or case.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
