"""Optional Numba: ``njit`` and the compile options shared by the compiled media kernels.

Without Numba, ``HAVE_NUMBA`` is false and ``njit`` leaves functions as plain Python, so the
modules still import; callers then take their numpy or OpenCV path instead.
"""

from __future__ import annotations

from typing import Any

__all__ = ["HAVE_NUMBA", "JIT_OPTIONS", "njit"]

njit: Any
try:
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only where Numba is missing
    HAVE_NUMBA = False

    def njit(*_args: Any, **_kwargs: Any) -> Any:
        return lambda fn: fn


JIT_OPTIONS: dict[str, Any] = {
    "cache": True,  # compiled once per machine, then loaded from __pycache__
    "nogil": True,
    "boundscheck": False,
    "error_model": "numpy",
    # no fastmath: float32 results must equal numpy's, operation for operation (no FMA, no
    # reassociation)
}
