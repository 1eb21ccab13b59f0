"""Optional Numba: ``njit`` and the compile options shared by the compiled media kernels.

Without Numba, ``HAVE_NUMBA`` is false and ``njit`` leaves functions as plain Python, so the
modules still import; callers then take their numpy or OpenCV path instead.
"""

from __future__ import annotations

from typing import Any

__all__ = ["HAVE_NUMBA", "JIT_OPTIONS", "njit", "prefetch_row"]

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


prefetch_row: Any
if HAVE_NUMBA:
    from llvmlite import ir  # type: ignore[import-untyped]
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
