"""Compile the Numba media kernels before they are needed: ``python -m media.warmup``.

The compiled kernels (:mod:`media.kernels`, :mod:`media.vertical_pass`, :mod:`media.fused_rows`,
:mod:`media.permute_rows`, :mod:`media.shuffle_rows`, :mod:`media.mixing_kernels`) are cached on
disk (``media/__pycache__/kernels-DIGEST``, one folder per version of the media package's
sources) the first time each is called with a given type of array.
That first call compiles: about 5 s on an idle 2-core machine for the compositor's kernels alone,
during which the interpreter holds its lock. A process that composes video in a call (the
stand-in meeting) would stop answering for that long on a fresh machine, so ``scripts/setup.sh``
runs this module once, and the stand-in warms the kernels it needs before it takes calls
(loading them from the cache then takes milliseconds).

:func:`warm_kernels` drives the real compositor and mixer over cases that reach every kernel
and every array type the project passes them (I420 and RGB24, snapped exact ratios, arbitrary
ratios down and up, contiguous and strided destinations), so nothing is compiled by hand and a
new kernel is warmed as soon as the compositor uses it.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from media._numba import HAVE_NUMBA
from media.compositor import Compositor
from media.layouts import Layout
from media.mixer import Mixer

__all__ = ["compiled_signatures", "warm_compositor", "warm_kernels"]

# source sizes that reach the exact kernels (1/2, 2/3, 3/4, 1/3, 3/2 of 1280x720 tiles) and the
# general separable ones (shrinking and enlarging at arbitrary ratios, portrait sources)
_SOURCES = ((1280, 720), (1920, 1080), (352, 288), (720, 1280), (320, 180))
_CANVASES = ((1280, 720), (1920, 1080), (960, 540), (640, 360))
_LAYOUTS = (Layout.LAYOUT1, Layout.LAYOUT4, Layout.LAYOUT6, Layout.LAYOUT9)


def _source(width: int, height: int, pixel_format: str) -> Any:
    rng = np.random.default_rng(width * 7 + height)
    if pixel_format == "rgb24":
        return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    return rng.integers(16, 236, (height * 3 // 2, width), dtype=np.uint8)


def warm_compositor(width: int, height: int, layouts: tuple[Layout, ...] = _LAYOUTS,
                    pixel_formats: tuple[str, ...] = ("yuv420p",),
                    use_opencv: bool | None = None) -> None:
    """Compose one frame per layout, source size and pixel format on a ``width``x``height``
    canvas: every kernel those compositions use is compiled (or loaded from the cache)."""
    for pixel_format in pixel_formats:
        sources = [_source(w, h, pixel_format) for w, h in _SOURCES]
        for layout in layouts:
            comp = Compositor(layout, width, height, pixel_format, use_opencv=use_opencv)
            tiles = layout.tiles
            for frame in sources:
                comp.compose([frame] * tiles, speaker=0)
            comp.compose([sources[i % len(sources)] for i in range(tiles)], speaker=0)


def warm_kernels() -> None:
    """Every compiled media kernel, for every array type the project passes it."""
    for width, height in _CANVASES:
        warm_compositor(width, height, pixel_formats=("yuv420p", "rgb24"))
        # the exact kernels interleave their phases themselves without OpenCV
        warm_compositor(width, height, (Layout.LAYOUT1,), use_opencv=False)
    for rate in (8000, 16000, 48000):
        mixer = Mixer(rate, 4)
        silence = np.zeros((4, mixer.samples), dtype=np.int16)
        loud = np.full((4, mixer.samples), 30000, dtype=np.int16)
        mixer.mix(silence)
        mixer.mix(loud)


def compiled_signatures() -> dict[str, int]:
    """How many compiled signatures each kernel holds in this process (``{}`` without Numba)."""
    if not HAVE_NUMBA:
        return {}
    from numba.core.registry import CPUDispatcher

    from media import (
        fused_rows,
        kernels,
        mixing_kernels,
        permute_rows,
        separable,
        shuffle_rows,
        vertical_pass,
    )

    found: dict[str, int] = {}
    for module in (
        kernels,
        mixing_kernels,
        separable,
        vertical_pass,
        fused_rows,
        permute_rows,
        shuffle_rows,
    ):
        for name, value in vars(module).items():
            if isinstance(value, CPUDispatcher):
                found[f"{module.__name__}.{name}"] = len(value.signatures)
    return found


def main() -> int:
    if not HAVE_NUMBA:
        sys.stderr.write("media.warmup: Numba is not installed; nothing to compile\n")
        return 0
    started = time.perf_counter()
    warm_kernels()
    signatures = compiled_signatures()
    sys.stderr.write(f"media.warmup: {sum(signatures.values())} signatures of {len(signatures)} "
                     f"kernels ready in {time.perf_counter() - started:.1f} s\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
