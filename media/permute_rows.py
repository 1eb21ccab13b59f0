"""Narrowing 8-bit rows in place by byte permutes (AVX-512 VBMI ``vpermt2b``), no transposes.

The columns pass of a shrink (:mod:`media.separable`) runs as a rows pass between two
transposes, which cost 40-50 % of a mild shrink (1024x576 -> 636x358: 37 of 89 us per luma
plane). Where the CPU has AVX-512 VBMI, rows of footprints of up to four inputs are narrowed
where they lie: 32 outputs a step, whose inputs lie within 128 consecutive bytes of the row
(two 64-byte vectors), are gathered as byte pairs by ``vpermt2b`` (any byte of the 128 into any
of 64 places: taps 0 and 1 of each output side by side, then taps 2 and 3) and summed by
``pmaddubsw``, as in :mod:`media.madd_rows` (bytes offset by 128, weights summing to 256, a
weight of 256 given as one input twice at 128 + 128), so the bits are the transposing path's
(``tests/media/test_permute_rows.py``). The last step overlaps the one before it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from media._numba import JIT_OPTIONS, njit
from media.shuffle_rows import HAVE_SHUFFLE, host_features

__all__ = ["GROUP", "HAVE_PERMUTE", "narrow_rows", "narrow_tables"]

_FEATURES = host_features()
HAVE_PERMUTE = bool(HAVE_SHUFFLE and _FEATURES.get("avx512vbmi") and _FEATURES.get("avx512bw"))
"""Whether :func:`narrow_rows` runs here (Numba on x86-64 with AVX-512 VBMI and BW)."""
GROUP = 32
"""Outputs per step."""
WINDOW = 128
"""Input bytes a step can reach."""


def _permute_intrinsic() -> Any:
    from llvmlite import ir  # type: ignore[import-untyped]
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    def step(  # pragma: no cover - compiled
        typingctx: Any, src: Any, row: Any, tables: Any, s: Any, base: Any, out: Any, o: Any
    ) -> Any:
        """Compiled code only: ``out[row, o : o + 32]`` from ``src[row, base : base + 128]``
        with step ``s``'s 256 bytes of ``tables`` (pair indices A, B, byte weights A, B)."""
        del typingctx
        sig = types.void(src, row, tables, s, base, out, o)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            a_src, a_row, a_tables, a_s, a_base, a_out, a_o = args
            t = signature.args
            i8, i16, i64 = ir.IntType(8), ir.IntType(16), ir.IntType(64)
            v64, w32 = ir.VectorType(i8, 64), ir.VectorType(i16, GROUP)

            def to64(value: Any, ty: Any) -> Any:
                return context.cast(builder, value, ty, types.int64)

            def row_start(ary_t: Any, ary_v: Any, r: Any, r_t: Any) -> Any:
                ary = context.make_array(ary_t)(context, builder, ary_v)
                stride = builder.extract_value(ary.strides, 0)
                start = builder.ptrtoint(ary.data, i64)
                return builder.add(start, builder.mul(to64(r, r_t), stride))

            def load(address: Any, ty: Any) -> Any:
                value = builder.load(builder.inttoptr(address, ty.as_pointer()))
                value.align = 1
                return value

            window = builder.add(row_start(t[0], a_src, a_row, t[1]), to64(a_base, t[4]))
            offset = ir.Constant(v64, [0x80] * 64)
            lo = builder.xor(load(window, v64), offset)
            hi = builder.xor(load(builder.add(window, ir.Constant(i64, 64)), v64), offset)
            tables = context.make_array(t[2])(context, builder, a_tables)
            table = builder.add(
                builder.ptrtoint(tables.data, i64),
                builder.mul(to64(a_s, t[3]), ir.Constant(i64, 256)),
            )
            permute = cgutils.get_or_insert_function(  # type: ignore[no-untyped-call]
                builder.module,
                ir.FunctionType(v64, [v64, v64, v64]),
                "llvm.x86.avx512.vpermi2var.qi.512",
            )
            madd = cgutils.get_or_insert_function(  # type: ignore[no-untyped-call]
                builder.module, ir.FunctionType(w32, [v64, v64]), "llvm.x86.avx512.pmaddubs.w.512"
            )
            total = None
            for k in range(2):
                index = load(builder.add(table, ir.Constant(i64, 64 * k)), v64)
                weights = load(builder.add(table, ir.Constant(i64, 128 + 64 * k)), v64)
                pairs = builder.call(permute, [lo, index, hi])
                term = builder.call(madd, [weights, pairs])
                total = term if total is None else builder.add(total, term)
            total = builder.add(total, ir.Constant(w32, [32896 - 65536] * GROUP))
            total = builder.lshr(total, ir.Constant(w32, [8] * GROUP))
            narrow_t = ir.VectorType(i8, GROUP)
            dest = builder.add(row_start(t[5], a_out, a_row, t[1]), to64(a_o, t[6]))
            store = builder.store(
                builder.trunc(total, narrow_t), builder.inttoptr(dest, narrow_t.as_pointer())
            )
            store.align = 1
            return context.get_dummy_value()

        return sig, codegen

    return intrinsic(step)


permute_step: Any = _permute_intrinsic() if HAVE_PERMUTE else None


@njit(**JIT_OPTIONS)  # type: ignore[untyped-decorator]
def narrow_rows(
    src: Any, tables: Any, bases: Any, starts: Any, out: Any
) -> None:  # pragma: no cover - compiled
    """Every row of ``src`` narrowed into the same row of ``out`` (the tables of
    :func:`narrow_tables`)."""
    for r in range(out.shape[0]):
        for s in range(bases.shape[0]):
            permute_step(src, r, tables, s, bases[s], out, starts[s])


NarrowTables = tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], npt.NDArray[np.int64]]


@lru_cache(maxsize=128)
def narrow_tables(n_in: int, n_out: int) -> NarrowTables | None:
    """``(tables, bases, starts)`` for :func:`narrow_rows`, or None where a step's inputs do
    not fit its window, a footprint is wider than four inputs, or the row is shorter than a
    window or a step. Read-only."""
    from media.separable import axis_taps

    if n_in < WINDOW or n_out < GROUP or n_out > n_in:
        return None
    first, weights, count, _ = axis_taps(n_in, n_out)
    if weights.shape[1] > 4:
        return None
    starts = list(range(0, n_out - GROUP, GROUP)) + [n_out - GROUP]
    tables = np.zeros((len(starts), 256), np.uint8)
    bases = np.zeros(len(starts), np.int64)
    for s, o0 in enumerate(starts):
        outs = np.arange(o0, o0 + GROUP)
        last = int(max(first[o] + count[o] - 1 for o in outs))
        base = min(int(first[o0]), n_in - WINDOW)
        if last - base >= WINDOW:
            return None
        bases[s] = base
        for j, o in enumerate(outs):
            taps = [(int(first[o]) + k, int(weights[o, k])) for k in range(int(count[o]))]
            for p in range(2):
                pair = [(i, w) for i, w in taps[2 * p : 2 * p + 2] if w]
                if not pair:
                    continue
                if len(pair) == 1:  # one input (its weight may be 256): given twice
                    (i, w) = pair[0]
                    pair = [(i, w // 2), (i, w - w // 2)]
                tables[s, 64 * p + 2 * j] = pair[0][0] - base
                tables[s, 64 * p + 2 * j + 1] = pair[1][0] - base
                tables[s, 128 + 64 * p + 2 * j] = pair[0][1]
                tables[s, 128 + 64 * p + 2 * j + 1] = pair[1][1]
    starts_a = np.array(starts, np.int64)
    for a in (tables, bases, starts_a):
        a.setflags(write=False)
    return tables, bases, starts_a
