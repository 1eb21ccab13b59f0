"""The media kernels at every vector width (CRCGW_MEDIA_SIMD): the same bits as here.

The paths a CPU without AVX-512 (or without AVX2) takes are compiled and run in a process
capped below this machine's widest instructions; their planes must equal the ones this
process makes with everything the CPU has."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from media import _numba, shuffle_rows

pytestmark = pytest.mark.skipif(
    not shuffle_rows.HAVE_SHUFFLE, reason="needs Numba on x86-64 with SSSE3"
)

# plane sizes of every path: enlarging (1.5x, 3x), shrinking by 2/3, 0.62, 4.5x and 8x, and a
# chroma plane narrower than a step
SCRIPT = """
import sys
import numpy as np
from media.scaling import ScalePlan
cases = [((1280, 720), (1920, 1080)), ((640, 360), (1920, 1080)), ((1920, 1080), (1280, 720)),
         ((1024, 576), (636, 358)), ((1920, 1080), (424, 238)), ((1080, 1920), (134, 238)),
         ((176, 144), (66, 118))]
rng = np.random.default_rng(7)
outs = []
for (sw, sh), (dw, dh) in cases:
    src = rng.integers(0, 256, (sh + 2, sw + 4), np.uint8)[1 : 1 + sh, 2 : 2 + sw]
    canvas = np.zeros((dh + 2, dw + 4), np.uint8)
    ScalePlan(sw, sh, dw, dh).apply(src, canvas[1 : 1 + dh, 2 : 2 + dw])
    outs.append(canvas.ravel())
sys.stdout.buffer.write(np.concatenate(outs).tobytes())
"""


def _planes(cap: str) -> bytes:
    env = {**os.environ, "CRCGW_MEDIA_SIMD": cap}
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, check=True, timeout=600
    )
    return run.stdout


def test_every_width_gives_the_same_planes() -> None:
    here = _planes("")
    assert len(here) > 1_000_000
    for cap in ("avx2", "ssse3", "none"):
        assert _planes(cap) == here, cap


def test_a_capped_process_keeps_its_own_cache() -> None:
    """Kernels compiled under a cap are cached apart from the uncapped ones."""
    probe = "import media._numba as n, media.vertical_pass as v; print(v.vertical._cache._cache_path)"
    env = {**os.environ, "CRCGW_MEDIA_SIMD": "avx2"}
    run = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert run.stdout.strip().endswith(f"kernels-{_numba.kernel_digest()}-avx2")
