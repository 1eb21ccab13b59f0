"""Optional Numba: ``njit`` and the compile options shared by the compiled media kernels.

Without Numba, ``HAVE_NUMBA`` is false and ``njit`` leaves functions as plain Python, so the
modules still import; callers then take their numpy or OpenCV path instead. Also here: the x86
features the vector kernels may use (:func:`simd_features`, capped by ``CRCGW_MEDIA_SIMD``) and
the cache of compiled code per digest of the media sources (:func:`kernel_digest`).
"""

from __future__ import annotations

import hashlib
import os
import platform
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "HAVE_NUMBA",
    "JIT_OPTIONS",
    "SIMD_CAP",
    "kernel_digest",
    "njit",
    "prefetch_row",
    "simd_features",
]

njit: Any
try:
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only where Numba is missing
    HAVE_NUMBA = False

    def njit(*_args: Any, **_kwargs: Any) -> Any:
        return lambda fn: fn


SIMD_CAP = os.environ.get("CRCGW_MEDIA_SIMD", "").strip().lower()
"""``CRCGW_MEDIA_SIMD``: the widest x86 vector instructions the media kernels may use: unset
(all the CPU has), ``avx2``, ``ssse3`` or ``none`` (no intrinsics: the portable paths). For
tests and benchmarks of the narrower paths on a wider CPU; kept in the cache's folder name."""
if SIMD_CAP not in ("", "avx2", "ssse3", "none"):
    sys.stderr.write(f"CRCGW_MEDIA_SIMD: expected avx2, ssse3 or none, got {SIMD_CAP!r}; ignored\n")
    SIMD_CAP = ""


@lru_cache(maxsize=1)
def simd_features() -> dict[str, bool]:
    """The host CPU's x86 features as LLVM names them, less those above :data:`SIMD_CAP`;
    empty without Numba, off x86-64, or with ``CRCGW_MEDIA_SIMD=none`` (the portable paths).
    Asked once per process; the kernel modules choose their instructions from it."""
    if not HAVE_NUMBA or SIMD_CAP == "none":
        return {}
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return {}
    import llvmlite.binding as llvm  # type: ignore[import-untyped]

    features = dict(llvm.get_host_cpu_features())
    if SIMD_CAP in ("avx2", "ssse3"):
        features = {k: v for k, v in features.items() if not k.startswith("avx512")}
    if SIMD_CAP == "ssse3":
        features["avx2"] = False
    return features


def kernel_digest() -> str:
    """A digest of every source file of the media package: the compiled kernels' cache is kept
    per digest. Numba checks only the file of the function it loads, and a kernel inlines code
    from other files (``media.permute_rows`` into ``media.fused_rows``): after a change there,
    a cache checked by file alone returned the old code's wrong pixels."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cache_per_digest() -> None:
    """Numba caches the media package's compiled functions in ``__pycache__/kernels-DIGEST``
    beside this file (under ``NUMBA_CACHE_DIR`` when that is set), not by file."""
    from numba.core import caching, config

    root = os.path.dirname(os.path.abspath(__file__))
    folder = "kernels-" + kernel_digest() + (f"-{SIMD_CAP}" if SIMD_CAP else "")

    class MediaCacheLocator(caching.InTreeCacheLocator):
        def __init__(self, py_func: Any, py_file: str) -> None:
            super().__init__(py_func, py_file)  # type: ignore[no-untyped-call]
            base = getattr(config, "CACHE_DIR", "") or os.path.join(root, "__pycache__")
            self._cache_path = os.path.join(base, folder)

        @classmethod
        def from_function(cls, py_func: Any, py_file: str) -> Any:
            inside = os.path.abspath(py_file).startswith(root + os.sep)
            if not inside:
                return None
            return super().from_function(py_func, py_file)  # type: ignore[no-untyped-call]

    locators = getattr(getattr(caching, "CacheImpl", None), "_locator_classes", None)
    if isinstance(locators, list) and not any(c.__name__ == "MediaCacheLocator" for c in locators):
        locators.insert(0, MediaCacheLocator)


JIT_OPTIONS: dict[str, Any] = {
    "cache": True,  # compiled once per machine, then loaded from __pycache__
    "nogil": True,
    "boundscheck": False,
    "error_model": "numpy",
    # no fastmath: float32 results must equal numpy's, operation for operation (no FMA, no
    # reassociation)
}


prefetch_row: Any
if HAVE_NUMBA:
    _cache_per_digest()
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    @intrinsic
    def prefetch_row(typingctx: Any, rows: Any, index: Any) -> Any:  # pragma: no cover - compiled
        """Compiled code only: ask the CPU to load row ``index`` of a 2-D array (its elements
        contiguous) into the cache, one ``prefetcht0`` per 64-byte line. A hint: it never faults
        and changes no value. It takes the 2-D array and a row number, so that the caller
        builds no row view."""
        del typingctx
        sig = types.void(rows, index)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            ary_t, index_t = signature.args
            ary = context.make_array(ary_t)(context, builder, args[0])
            i64, i32, i8p = ir.IntType(64), ir.IntType(32), ir.IntType(8).as_pointer()
            row = context.cast(builder, args[1], index_t, types.int64)
            base = builder.add(
                builder.ptrtoint(ary.data, i64),
                builder.mul(row, builder.extract_value(ary.strides, 0)),
            )
            size = builder.mul(
                builder.extract_value(ary.shape, 1), builder.extract_value(ary.strides, 1)
            )
            fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
            fn = cgutils.get_or_insert_function(  # type: ignore[no-untyped-call]
                builder.module, fnty, "llvm.prefetch.p0"
            )
            # (address, read, locality 3 = keep in all levels, data cache)
            flags = [ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)]
            step = ir.Constant(i64, 64)
            with cgutils.for_range_slice(builder, ir.Constant(i64, 0), size, step) as (off, _):
                builder.call(fn, [builder.inttoptr(builder.add(base, off), i8p), *flags])
            return context.get_dummy_value()

        return sig, codegen

else:  # pragma: no cover - exercised only where Numba is missing

    def prefetch_row(rows: Any, index: Any) -> None:
        del rows, index
