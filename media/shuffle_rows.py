"""Horizontal bilinear enlargement of 8-bit rows by byte shuffles (SSSE3 ``pshufb``).

Enlarging a plane with :mod:`media.separable` costs two transposes (the columns pass runs as a
rows pass on a transposed picture), about 40 % of the time of a 720p -> 1080p luma plane. Here
the columns pass runs on the rows themselves: every block of 16 outputs reads its two inputs
from one 16-byte window of the row (an enlargement moves less than one input per output, so
16 consecutive outputs lie within 16 consecutive inputs) and a byte shuffle picks them:

- ``left = pshufb(row[base : base + 16], local)`` and ``right`` the same from ``base + 1``
  (``local[o] = first[o] - base``, 0..15);
- ``out = (w0 * left + w1 * right + 128) >> 8`` in 16-bit lanes, the weights of
  :func:`media.separable.axis_taps` (bilinear, half-pixel centres, clamped, summing to 256).

The arithmetic is :func:`media.vertical_pass.vertical`'s, so a plane enlarged here then blended
vertically equals, bit for bit, what the transposing path computes
(``tests/media/test_shuffle_rows.py``). Blocks whose windows would read past the row, and the
last outputs, are computed one by one.

The shuffle is an x86 instruction (SSSE3, on every x86-64 CPU since 2006); elsewhere
``HAVE_SHUFFLE`` is false and the callers keep the transposing path. The LLVM intrinsic is
emitted with :func:`numba.extending.intrinsic`; which instructions the CPU has comes from
:func:`media._numba.simd_features`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from media._numba import JIT_OPTIONS, njit, simd_features

__all__ = ["BLOCK", "HAVE_SHUFFLE", "STEP", "RowTables", "enlarge_rows", "row_tables"]

BLOCK = 16
"""Outputs per shuffle (one 16-byte window)."""

U8 = np.uint8
U16 = np.uint16


HAVE_SHUFFLE = bool(simd_features().get("ssse3"))
"""Whether :func:`enlarge_rows` runs here (Numba on an x86-64 CPU with SSSE3)."""


_SHUFFLES = (("avx512bw", 4, "llvm.x86.avx512.pshuf.b.512"), ("avx2", 2, "llvm.x86.avx2.pshuf.b"))
STEP = next((k for feature, k, _ in _SHUFFLES if simd_features().get(feature)), 1)
"""Blocks per shuffle instruction here: 4 with AVX-512BW (one 512-bit shuffle of four
16-byte windows, each in its own 128-bit lane), 2 with AVX2, 1 otherwise."""


def _shuffle_intrinsic(blocks: int, instruction: str) -> Any:
    """An intrinsic computing ``blocks`` consecutive blocks of one output row with one
    ``instruction`` (a ``pshufb`` of ``16 blocks`` bytes: each 128-bit lane shuffles its own
    window)."""
    from llvmlite import ir  # type: ignore[import-untyped]
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    lanes = BLOCK * blocks

    def shuffle(  # pragma: no cover - compiled
        typingctx: Any,
        src: Any,
        row: Any,
        base: Any,
        local: Any,
        w0: Any,
        w1: Any,
        out: Any,
        out_row: Any,
        block: Any,
    ) -> Any:
        """Compiled code only: outputs ``16 block ..`` (``16 blocks`` of them) of row
        ``out_row`` of ``out`` from row ``row`` of ``src``, block ``b``'s window at
        ``base[b]`` (see the module's text). ``base`` (int64), ``local`` (uint8), ``w0`` and
        ``w1`` (uint16) are contiguous 1-D tables."""
        del typingctx
        sig = types.void(src, row, base, local, w0, w1, out, out_row, block)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            a_src, a_row, a_base, a_local, a_w0, a_w1, a_out, a_out_row, a_block = args
            t = signature.args
            i8, i16, i64 = ir.IntType(8), ir.IntType(16), ir.IntType(64)
            v8, v16 = ir.VectorType(i8, lanes), ir.VectorType(i16, lanes)
            window_t = ir.VectorType(i8, BLOCK)

            def to64(value: Any, ty: Any) -> Any:
                return context.cast(builder, value, ty, types.int64)

            def address(ary_t: Any, ary_v: Any, row_v: Any, row_t: Any, offset: Any) -> Any:
                ary = context.make_array(ary_t)(context, builder, ary_v)
                start = builder.ptrtoint(ary.data, i64)
                if row_v is not None:
                    stride = builder.extract_value(ary.strides, 0)
                    start = builder.add(start, builder.mul(to64(row_v, row_t), stride))
                return builder.add(start, offset)

            def load(addr: Any, vty: Any) -> Any:
                value = builder.load(builder.inttoptr(addr, vty.as_pointer()))
                value.align = 1
                return value

            def joined(parts: list[Any]) -> Any:
                """Windows side by side: one vector of ``16 len(parts)`` bytes."""
                while len(parts) > 1:
                    n = parts[0].type.count
                    mask = ir.Constant(ir.VectorType(ir.IntType(32), 2 * n), list(range(2 * n)))
                    parts = [
                        builder.shuffle_vector(parts[i], parts[i + 1], mask)
                        for i in range(0, len(parts), 2)
                    ]
                return parts[0]

            block64 = to64(a_block, t[8])
            first = builder.mul(block64, ir.Constant(i64, BLOCK))
            lefts, rights = [], []
            for j in range(blocks):
                index = builder.add(block64, ir.Constant(i64, j))
                offset = builder.shl(index, ir.Constant(i64, 3))  # int64 entries
                start = load(address(t[2], a_base, None, None, offset), i64)
                window = address(t[0], a_src, a_row, t[1], start)
                lefts.append(load(window, window_t))
                rights.append(load(builder.add(window, ir.Constant(i64, 1)), window_t))
            control = load(address(t[3], a_local, None, None, first), v8)
            two = ir.Constant(i64, 2)
            weight0 = load(address(t[4], a_w0, None, None, builder.mul(first, two)), v16)
            weight1 = load(address(t[5], a_w1, None, None, builder.mul(first, two)), v16)
            pshufb = cgutils.get_or_insert_function(  # type: ignore[no-untyped-call]
                builder.module, ir.FunctionType(v8, [v8, v8]), instruction
            )
            left = builder.zext(builder.call(pshufb, [joined(lefts), control]), v16)
            right = builder.zext(builder.call(pshufb, [joined(rights), control]), v16)
            total = builder.add(builder.mul(left, weight0), builder.mul(right, weight1))
            total = builder.add(total, ir.Constant(v16, [128] * lanes))
            total = builder.lshr(total, ir.Constant(v16, [8] * lanes))
            dest = address(t[6], a_out, a_out_row, t[7], first)
            narrow = builder.trunc(total, v8)
            store = builder.store(narrow, builder.inttoptr(dest, v8.as_pointer()))
            store.align = 1
            return context.get_dummy_value()

        return sig, codegen

    return intrinsic(shuffle)


shuffle_block: Any = (
    _shuffle_intrinsic(1, "llvm.x86.ssse3.pshuf.b.128") if HAVE_SHUFFLE else None
)
shuffle_blocks: Any = (
    _shuffle_intrinsic(STEP, next(n for _, k, n in _SHUFFLES if k == STEP))
    if HAVE_SHUFFLE and STEP > 1
    else shuffle_block
)


@njit(**JIT_OPTIONS)  # type: ignore[untyped-decorator]
def enlarge_rows(
    src: Any, base: Any, local: Any, w0: Any, w1: Any, blocks: Any, first: Any, out: Any
) -> None:  # pragma: no cover - compiled
    """``out[r, o] = round((w0[o] src[r, first[o]] + w1[o] src[r, first[o] + 1]) / 256)`` for
    every row: ``blocks`` blocks of 16 by shuffles, the rest one by one (the right input
    clamped to the row: its weight is zero there)."""
    h, n = out.shape
    last = src.shape[1] - 1
    wide = blocks - blocks % STEP
    for r in range(h):
        for b in range(0, wide, STEP):
            shuffle_blocks(src, r, base, local, w0, w1, out, r, b)
        for b in range(wide, blocks):
            shuffle_block(src, r, base, local, w0, w1, out, r, b)
        for o in range(blocks * BLOCK, n):
            i = first[o]
            v = U16(w0[o] * U16(src[r, i])) + U16(w1[o] * U16(src[r, min(i + 1, last)]))
            out[r, o] = U8(U16(v + U16(128)) >> U16(8))


RowTables = tuple[
    npt.NDArray[np.int64],
    npt.NDArray[np.uint8],
    npt.NDArray[np.uint16],
    npt.NDArray[np.uint16],
    int,
    npt.NDArray[np.int64],
]


@lru_cache(maxsize=128)
def row_tables(n_in: int, n_out: int) -> RowTables:
    """``(base, local, w0, w1, blocks, first)`` for enlarging rows of ``n_in`` to ``n_out``
    (``n_out >= n_in``): the arguments of :func:`enlarge_rows` after ``src``. Read-only."""
    if n_out < n_in or n_in < 2:
        raise ValueError(f"row_tables: expected 2 <= n_in <= n_out, got {n_in} -> {n_out}")
    from media.separable import axis_taps

    first, weights, _, _ = axis_taps(n_in, n_out)
    w0 = np.ascontiguousarray(weights[:, 0])
    w1 = np.ascontiguousarray(weights[:, 1]) if weights.shape[1] > 1 else np.zeros_like(w0)
    blocks = 0
    bases = []
    for b in range(n_out // BLOCK):
        start = int(first[b * BLOCK])
        span = int(first[b * BLOCK + BLOCK - 1]) - start
        if start + BLOCK >= n_in or span >= BLOCK:  # the window at start + 1 would overrun
            break
        bases.append(start)
        blocks += 1
    base = np.array(bases, np.int64)
    local = np.zeros(max(1, blocks) * BLOCK, np.uint8)
    for b in range(blocks):
        sl = slice(b * BLOCK, (b + 1) * BLOCK)
        local[sl] = first[sl] - base[b]
    first = np.ascontiguousarray(first, dtype=np.int64)
    for a in (base, local, w0, w1, first):
        a.setflags(write=False)
    return base, local, w0, w1, blocks, first
