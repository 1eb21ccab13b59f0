"""Resampling 8-bit rows in place by byte permutes (AVX-512 VBMI ``vpermt2b``), no transposes.

The columns pass of :mod:`media.separable` otherwise runs as a rows pass between two
transposes, which cost 40-50 % of a mild shrink (1024x576 -> 636x358: 37 of 89 us per luma
plane). Where the CPU has AVX-512 VBMI, rows are resampled where they lie: a step's outputs,
whose inputs lie within 128 consecutive bytes of the row (two 64-byte vectors), get their
inputs gathered by ``vpermt2b`` (any byte of the 128 into any of 64 places), side by side, and
summed by ``pmaddubsw`` (byte pairs), then ``pmaddwd`` (quads) and one add of the two halves
of each 64-bit lane (octets):

- footprints of up to 2 inputs (widening, 2/3): 32 outputs a step, one gather;
- up to 4 (shrinking by up to about 3x): 32 outputs, two gathers (taps 0-1, then 2-3);
- up to 8 (up to about 7x): 16 outputs, two gathers of quads;
- up to 16 (up to about 14x): 8 outputs, two gathers of octets.

As in :mod:`media.madd_rows`, bytes are offset by 128 and the weights, summing to 256, are
bytes (a weight of 256 given as one input twice at 128 + 128), so the result is the exact
integer of the transposing path (``tests/media/test_permute_rows.py``). The last step of a row
overlaps the one before it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from media._numba import JIT_OPTIONS, njit, simd_features
from media.shuffle_rows import HAVE_SHUFFLE

__all__ = [
    "HAVE_PERMUTE",
    "PAIRS1",
    "PAIRS1_WIDE",
    "PAIRS2",
    "QUADS2",
    "OCTETS2",
    "StepTables",
    "resample_row",
    "resample_rows",
    "step_tables",
]

_FEATURES = simd_features()
HAVE_PERMUTE = bool(HAVE_SHUFFLE and _FEATURES.get("avx512vbmi") and _FEATURES.get("avx512bw"))
"""Whether :func:`resample_rows` runs here (Numba on x86-64 with AVX-512 VBMI and BW)."""
WINDOW = 128
"""Input bytes a step can reach."""


def _permute_intrinsic(gathers: int, unit: int, wide: bool = False) -> Any:
    """A step of ``gathers`` 64-byte gathers holding ``unit`` bytes of each output: byte pairs
    of 32 outputs (``unit`` 2, summed by ``pmaddubsw``), quads of 16 (4, then by ``pmaddwd``)
    or octets of 8 (8, then the two halves of each 64-bit lane added); ``wide``: two gathers
    of byte pairs, each for 32 of 64 outputs, rounded apart and packed together (``packuswb``
    puts, in each 128-bit lane, the first gather's 8 outputs before the second's: the tables
    place the outputs so)."""
    from llvmlite import ir  # type: ignore[import-untyped]
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    group = 64 if wide else 64 // unit

    def step(  # pragma: no cover - compiled
        typingctx: Any,
        src: Any,
        row: Any,
        tables: Any,
        s: Any,
        base: Any,
        out: Any,
        out_row: Any,
        o: Any,
    ) -> Any:
        """Compiled code only: ``out[out_row, o : o + group]`` from ``src[row, base : base +
        128]`` with step ``s``'s 256 bytes of ``tables`` (indices of gathers 0 and 1, then
        their byte weights)."""
        del typingctx
        sig = types.void(src, row, tables, s, base, out, out_row, o)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            a_src, a_row, a_tables, a_s, a_base, a_out, a_out_row, a_o = args
            t = signature.args
            i8, i16, i32, i64 = ir.IntType(8), ir.IntType(16), ir.IntType(32), ir.IntType(64)
            v64, w32, d16 = ir.VectorType(i8, 64), ir.VectorType(i16, 32), ir.VectorType(i32, 16)

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

            def function(name: Any, result: Any, *operands: Any) -> Any:
                fnty = ir.FunctionType(result, list(operands))
                return cgutils.get_or_insert_function(  # type: ignore[no-untyped-call]
                    builder.module, fnty, name
                )

            window = builder.add(row_start(t[0], a_src, a_row, t[1]), to64(a_base, t[4]))
            lo = load(window, v64)
            hi = load(builder.add(window, ir.Constant(i64, 64)), v64)
            tables = context.make_array(t[2])(context, builder, a_tables)
            table = builder.add(
                builder.ptrtoint(tables.data, i64),
                builder.mul(to64(a_s, t[3]), ir.Constant(i64, 256)),
            )
            permute = function("llvm.x86.avx512.vpermi2var.qi.512", v64, v64, v64, v64)
            madd = function("llvm.x86.avx512.pmaddubs.w.512", w32, v64, v64)
            terms = []
            for k in range(gathers):
                index = load(builder.add(table, ir.Constant(i64, 64 * k)), v64)
                weights = load(builder.add(table, ir.Constant(i64, 128 + 64 * k)), v64)
                gathered = builder.call(permute, [lo, index, hi])
                signed = builder.xor(gathered, ir.Constant(v64, [0x80] * 64))
                terms.append(builder.call(madd, [weights, signed]))
            if wide:
                halves = [
                    builder.lshr(
                        builder.add(term, ir.Constant(w32, [32896 - 65536] * 32)),
                        ir.Constant(w32, [8] * 32),
                    )
                    for term in terms
                ]
                pack = function("llvm.x86.avx512.packuswb.512", v64, w32, w32)
                dest = builder.add(row_start(t[5], a_out, a_out_row, t[6]), to64(a_o, t[7]))
                store = builder.store(
                    builder.call(pack, halves), builder.inttoptr(dest, v64.as_pointer())
                )
                store.align = 1
                return context.get_dummy_value()
            total = terms[0]
            for term in terms[1:]:
                total = builder.add(total, term)
            if unit >= 4:  # the two pair sums of each quad, in 32 bits
                pairs = function("llvm.x86.avx512.pmaddw.d.512", d16, w32, w32)
                total = builder.call(pairs, [total, ir.Constant(w32, [1] * 32)])
                vty, lanes = d16, 16
            else:
                vty, lanes = w32, 32
            if unit == 8:  # the two quad sums of each octet: the high half onto the low
                q8 = ir.VectorType(i64, 8)
                high = builder.lshr(builder.bitcast(total, q8), ir.Constant(q8, [32] * 8))
                total = builder.add(total, builder.bitcast(high, d16))
            total = builder.add(total, ir.Constant(vty, [32896 - 65536 * (unit == 2)] * lanes))
            total = builder.lshr(total, ir.Constant(vty, [8] * lanes))
            if unit == 8:  # each output in the low byte of a 64-bit lane
                total = builder.bitcast(total, ir.VectorType(i64, 8))
            narrow_t = ir.VectorType(i8, group)
            dest = builder.add(row_start(t[5], a_out, a_out_row, t[6]), to64(a_o, t[7]))
            store = builder.store(
                builder.trunc(total, narrow_t), builder.inttoptr(dest, narrow_t.as_pointer())
            )
            store.align = 1
            return context.get_dummy_value()

        return sig, codegen

    return intrinsic(step)


permute_pairs1: Any = _permute_intrinsic(1, 2) if HAVE_PERMUTE else None
permute_pairs2: Any = _permute_intrinsic(2, 2) if HAVE_PERMUTE else None
permute_quads2: Any = _permute_intrinsic(2, 4) if HAVE_PERMUTE else None
permute_octets2: Any = _permute_intrinsic(2, 8) if HAVE_PERMUTE else None
permute_pairs1_wide: Any = _permute_intrinsic(2, 2, wide=True) if HAVE_PERMUTE else None

PAIRS1, PAIRS2, QUADS2, OCTETS2, PAIRS1_WIDE = 1, 2, 4, 8, 3
"""Step kinds: taps per output at most 2 or 4 (32 outputs a step), 8 (16 outputs), 16 (8
outputs), or 2 with 64 outputs a step (where their inputs fit one window: widening, 2/3)."""


@njit(**JIT_OPTIONS, inline="always")  # type: ignore[untyped-decorator]
def resample_row(
    src: Any, r: Any, tables: Any, bases: Any, starts: Any, kind: Any, out: Any, k: Any
) -> None:  # pragma: no cover - compiled
    """Row ``r`` of ``src`` resampled into row ``k`` of ``out`` (the tables of
    :func:`step_tables`, ``kind`` one of :data:`PAIRS1`, :data:`PAIRS2`, :data:`QUADS2`,
    :data:`OCTETS2`)."""
    if kind == PAIRS1_WIDE:
        for s in range(bases.shape[0]):
            permute_pairs1_wide(src, r, tables, s, bases[s], out, k, starts[s])
    elif kind == PAIRS1:
        for s in range(bases.shape[0]):
            permute_pairs1(src, r, tables, s, bases[s], out, k, starts[s])
    elif kind == PAIRS2:
        for s in range(bases.shape[0]):
            permute_pairs2(src, r, tables, s, bases[s], out, k, starts[s])
    elif kind == QUADS2:
        for s in range(bases.shape[0]):
            permute_quads2(src, r, tables, s, bases[s], out, k, starts[s])
    else:
        for s in range(bases.shape[0]):
            permute_octets2(src, r, tables, s, bases[s], out, k, starts[s])


@njit(**JIT_OPTIONS)  # type: ignore[untyped-decorator]
def resample_rows(
    src: Any, tables: Any, bases: Any, starts: Any, kind: Any, out: Any
) -> None:  # pragma: no cover - compiled
    """Every row of ``src`` resampled into the same row of ``out``."""
    for r in range(out.shape[0]):
        resample_row(src, r, tables, bases, starts, kind, out, r)


StepTables = tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], npt.NDArray[np.int64], int]


def _taps(first: int, weights: Any, count: int) -> list[tuple[int, int]]:
    """An output's inputs with their weights, none of 256 (one input is given twice at half
    its weight each: a byte holds at most 255)."""
    taps = [(first + k, int(weights[k])) for k in range(count) if weights[k]]
    if len(taps) == 1:
        (i, w) = taps[0]
        taps = [(i, w // 2), (i, w - w // 2)]
    return taps


@lru_cache(maxsize=128)
def step_tables(n_in: int, n_out: int) -> StepTables | None:
    """``(tables, bases, starts, kind)`` for :func:`resample_rows`, or None where a step's
    inputs do not fit its window, a footprint is wider than 16 inputs, or the row is shorter
    than a window or a step. Read-only."""
    from media.separable import axis_taps

    if n_in < WINDOW:
        return None
    first, weights, count, _ = axis_taps(n_in, n_out)
    rows = [_taps(int(first[o]), weights[o], int(count[o])) for o in range(n_out)]
    widest = max(len(taps) for taps in rows)
    kinds = ((2, PAIRS1), (4, PAIRS2), (8, QUADS2), (16, OCTETS2))
    kind = next((k for taps, k in kinds if widest <= taps), 0)
    if kind == PAIRS1:
        wide = _tables(rows, first, n_in, n_out, PAIRS1_WIDE)
        if wide is not None:
            return wide
    return _tables(rows, first, n_in, n_out, kind) if kind else None


def _slot(kind: int, j: int, t: int) -> int:
    """Where tap ``t`` of a step's output ``j`` goes in its 128 index (and weight) bytes."""
    if kind == PAIRS1_WIDE:  # gather j // 8 % 2; in it, word (j // 16) * 8 + j % 8
        return 64 * (j // 8 % 2) + 2 * ((j // 16) * 8 + j % 8) + t
    per = {PAIRS1: 2, PAIRS2: 2, QUADS2: 4, OCTETS2: 8}[kind]  # an output's bytes
    return 64 * (t // per) + per * j + t % per


def _tables(
    rows: list[list[tuple[int, int]]], first: Any, n_in: int, n_out: int, kind: int
) -> StepTables | None:
    group = {PAIRS1: 32, PAIRS2: 32, QUADS2: 16, OCTETS2: 8, PAIRS1_WIDE: 64}[kind]
    if n_out < group:
        return None
    starts = list(range(0, n_out - group, group)) + [n_out - group]
    tables = np.zeros((len(starts), 256), np.uint8)
    bases = np.zeros(len(starts), np.int64)
    for s, o0 in enumerate(starts):
        base = min(int(first[o0]), n_in - WINDOW)
        if max(i for o in range(o0, o0 + group) for i, _ in rows[o]) - base >= WINDOW:
            return None
        bases[s] = base
        for j, o in enumerate(range(o0, o0 + group)):
            for t, (i, w) in enumerate(rows[o]):
                at = _slot(kind, j, t)
                tables[s, at] = i - base
                tables[s, 128 + at] = w
    starts_a = np.array(starts, np.int64)
    for a in (tables, bases, starts_a):
        a.setflags(write=False)
    return tables, bases, starts_a, kind
