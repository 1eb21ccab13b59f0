"""Rows pass of up to four taps by multiply-add of byte pairs (x86 ``pmaddubsw``).

:func:`media.vertical_pass.vertical` for footprints of at most four rows computes
``round(sum_t w_t src[r_t] / 256)`` in 16-bit lanes: each byte zero-extended, multiplied,
added, then narrowed, and on x86 the widening and narrowing all queue for one execution port.
Here two rows are interleaved byte by byte (``punpcklbw`` / ``punpckhbw``), and one
``pmaddubsw`` multiplies and adds a pair of taps (unsigned weights times signed bytes), so the
widening disappears and the narrowing is one ``packuswb`` per two vectors.

``pmaddubsw`` takes signed pixels: each byte is offset by ``^ 0x80`` (``p - 128``), so a pair
gives ``wa (a - 128) + wb (b - 128)``, within 16 bits because ``wa + wb <= 256``. The pairs
are added modulo 2**16 and ``sum_t w_t * 128 = 32768`` is added back with the rounding half
(``+ 32896``): the result is ``sum_t w_t p_t + 128`` exactly (below 2**16), then ``>> 8``.
The bits therefore equal the 16-bit path's (``tests/media/test_madd_rows.py``). A weight of 256
(one tap) does not fit a byte: the caller gives it as the same row twice at 128 + 128.

Widest available: 64 outputs per step with AVX-512BW, 32 with AVX2, 16 with SSSE3.
"""

from __future__ import annotations

from typing import Any

from media._numba import simd_features
from media.shuffle_rows import HAVE_SHUFFLE

__all__ = ["HAVE_MADD", "LANES", "madd_rows1", "madd_rows2", "madd_rows_many"]

HAVE_MADD = HAVE_SHUFFLE
"""Whether the intrinsics below compile here (Numba on x86-64 with SSSE3)."""

_WIDTHS = (
    ("avx512bw", 64, "llvm.x86.avx512.pmaddubs.w.512", "llvm.x86.avx512.packuswb.512"),
    ("avx2", 32, "llvm.x86.avx2.pmadd.ub.sw", "llvm.x86.avx2.packuswb"),
    ("ssse3", 16, "llvm.x86.ssse3.pmadd.ub.sw.128", "llvm.x86.sse2.packuswb.128"),
)
_CHOSEN = next((w for w in _WIDTHS if simd_features().get(w[0])), _WIDTHS[-1])
LANES = _CHOSEN[1]
"""Outputs per step here."""


def _interleave_mask(lanes: int, high: int) -> list[int]:
    """Shuffle mask interleaving the bytes of two ``lanes``-byte vectors, per 128-bit lane its
    low (``high`` 0) or high half, as ``punpcklbw`` / ``punpckhbw``."""
    mask = []
    for lane in range(lanes // 16):
        for k in range(8):
            j = lane * 16 + 8 * high + k
            mask += [j, lanes + j]
    return mask


def _interleave(builder: Any, a: Any, b: Any, high: int, lanes: int) -> Any:
    """``a`` and ``b``'s bytes interleaved (``punpcklbw`` / ``punpckhbw``)."""
    from llvmlite import ir  # type: ignore[import-untyped]

    mask = ir.Constant(ir.VectorType(ir.IntType(32), lanes), _interleave_mask(lanes, high))
    return builder.shuffle_vector(a, b, mask)


def _broadcast(builder: Any, word: Any, lanes: int) -> Any:
    """The 16-bit ``word`` (two byte weights) in every word of a ``lanes``-byte vector."""
    from llvmlite import ir

    i32, v16 = ir.IntType(32), ir.VectorType(ir.IntType(16), lanes // 2)
    vec = builder.insert_element(ir.Constant(v16, None), word, ir.Constant(i32, 0))
    zeros = ir.Constant(ir.VectorType(i32, lanes // 2), [0] * (lanes // 2))
    spread = builder.shuffle_vector(vec, vec, zeros)
    return builder.bitcast(spread, ir.VectorType(ir.IntType(8), lanes))


def _madd_and_pack(builder: Any, v8: Any, v16: Any) -> tuple[Any, Any]:
    """The multiply-add and pack intrinsics of the width chosen here, declared in the module
    being built."""
    from llvmlite import ir
    from numba.core import cgutils

    _, _, madd_name, pack_name = _CHOSEN
    madd_fn = cgutils.get_or_insert_function(  # type: ignore[no-untyped-call]
        builder.module, ir.FunctionType(v16, [v8, v8]), madd_name
    )
    pack_fn = cgutils.get_or_insert_function(  # type: ignore[no-untyped-call]
        builder.module, ir.FunctionType(v8, [v16, v16]), pack_name
    )
    return madd_fn, pack_fn


def _madd_intrinsic(pairs: int) -> Any:
    """``pairs`` (1 or 2) pairs of rows -> ``LANES`` outputs of one output row."""
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    _, lanes, madd_name, pack_name = _CHOSEN

    def madd(  # pragma: no cover - compiled
        typingctx: Any,
        src: Any,
        r0: Any,
        r1: Any,
        r2: Any,
        r3: Any,
        w01: Any,
        w23: Any,
        out: Any,
        i: Any,
        x: Any,
    ) -> Any:
        """Compiled code only: ``out[i, x : x + LANES]`` from rows ``r0 .. r3`` of ``src``
        (columns ``x ..``), ``w01`` the weights of rows 0 and 1 as ``w0 | w1 << 8``."""
        del typingctx
        sig = types.void(src, r0, r1, r2, r3, w01, w23, out, i, x)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            a_src, a_r0, a_r1, a_r2, a_r3, a_w01, a_w23, a_out, a_i, a_x = args
            t = signature.args
            i8, i16, i64 = ir.IntType(8), ir.IntType(16), ir.IntType(64)
            v8, v16 = ir.VectorType(i8, lanes), ir.VectorType(i16, lanes // 2)

            def to64(value: Any, ty: Any) -> Any:
                return context.cast(builder, value, ty, types.int64)

            def row_address(ary_t: Any, ary_v: Any, row: Any, row_t: Any) -> Any:
                ary = context.make_array(ary_t)(context, builder, ary_v)
                stride = builder.extract_value(ary.strides, 0)
                start = builder.add(
                    builder.ptrtoint(ary.data, i64), builder.mul(to64(row, row_t), stride)
                )
                return builder.add(start, to64(a_x, t[9]))

            def pixels(row: Any, row_t: Any) -> Any:
                ptr = builder.inttoptr(row_address(t[0], a_src, row, row_t), v8.as_pointer())
                value = builder.load(ptr)
                value.align = 1
                return builder.xor(value, ir.Constant(v8, [0x80] * lanes))

            def weights(value: Any, ty: Any) -> Any:
                word = context.cast(builder, value, ty, types.uint16)
                return _broadcast(builder, builder.trunc(word, i16), lanes)

            def unpack(a: Any, b: Any, high: int) -> Any:
                return _interleave(builder, a, b, high, lanes)

            madd_fn, pack_fn = _madd_and_pack(builder, v8, v16)
            rows = [(a_r0, t[1]), (a_r1, t[2]), (a_r2, t[3]), (a_r3, t[4])]
            wts = [weights(a_w01, t[5]), weights(a_w23, t[6])]
            halves = []
            for high in (0, 1):
                total = None
                for p in range(pairs):
                    a = pixels(*rows[2 * p])
                    b = pixels(*rows[2 * p + 1])
                    term = builder.call(madd_fn, [wts[p], unpack(a, b, high)])
                    total = term if total is None else builder.add(total, term)
                total = builder.add(total, ir.Constant(v16, [32896 - 65536] * (lanes // 2)))
                halves.append(builder.lshr(total, ir.Constant(v16, [8] * (lanes // 2))))
            packed = builder.call(pack_fn, halves)
            dest = builder.inttoptr(row_address(t[7], a_out, a_i, t[8]), v8.as_pointer())
            store = builder.store(packed, dest)
            store.align = 1
            return context.get_dummy_value()

        return sig, codegen

    return intrinsic(madd)


def _many_intrinsic() -> Any:
    """Any number of pairs of rows -> ``LANES`` outputs of one output row, the pairs' row
    numbers and packed weights read from two small arrays, the sums kept in registers."""
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    _, lanes, madd_name, pack_name = _CHOSEN

    def many(  # pragma: no cover - compiled
        typingctx: Any, src: Any, rows: Any, words: Any, pairs: Any, out: Any, i: Any, x: Any
    ) -> Any:
        """Compiled code only: ``out[i, x : x + LANES]`` from rows ``rows[2 k]`` and
        ``rows[2 k + 1]`` of ``src`` weighted by ``words[k]`` (``w0 | w1 << 8``), ``k <
        pairs``; ``rows`` (int64) and ``words`` (uint16) contiguous."""
        del typingctx
        sig = types.void(src, rows, words, pairs, out, i, x)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            a_src, a_rows, a_words, a_pairs, a_out, a_i, a_x = args
            t = signature.args
            i8, i16, i64 = ir.IntType(8), ir.IntType(16), ir.IntType(64)
            v8, v16 = ir.VectorType(i8, lanes), ir.VectorType(i16, lanes // 2)
            x64 = context.cast(builder, a_x, t[6], types.int64)

            def data(ary_t: Any, ary_v: Any) -> tuple[Any, Any]:
                ary = context.make_array(ary_t)(context, builder, ary_v)
                start = builder.ptrtoint(ary.data, i64)
                return start, builder.extract_value(ary.strides, 0)

            src_start, src_stride = data(t[0], a_src)
            rows_start, _ = data(t[1], a_rows)
            words_start, _ = data(t[2], a_words)

            def at(start: Any, offset: Any, ty: Any) -> Any:
                value = builder.load(builder.inttoptr(builder.add(start, offset), ty.as_pointer()))
                value.align = 1
                return value

            def pixels(row: Any) -> Any:
                offset = builder.add(builder.mul(row, src_stride), x64)
                return builder.xor(at(src_start, offset, v8), ir.Constant(v8, [0x80] * lanes))

            madd_fn, pack_fn = _madd_and_pack(builder, v8, v16)
            zero = ir.Constant(v16, [0] * (lanes // 2))
            sums = [
                cgutils.alloca_once_value(builder, zero)  # type: ignore[no-untyped-call]
                for _ in range(2)
            ]
            count = context.cast(builder, a_pairs, t[3], types.int64)
            with cgutils.for_range(builder, count) as loop:
                k = loop.index
                two_k = builder.shl(k, ir.Constant(i64, 4))  # 2 k int64 entries: 16 k bytes
                a = pixels(at(rows_start, two_k, i64))
                b = pixels(at(rows_start, builder.add(two_k, ir.Constant(i64, 8)), i64))
                word = at(words_start, builder.shl(k, ir.Constant(i64, 1)), i16)
                wts = _broadcast(builder, word, lanes)
                for high in (0, 1):
                    term = builder.call(madd_fn, [wts, _interleave(builder, a, b, high, lanes)])
                    builder.store(builder.add(builder.load(sums[high]), term), sums[high])
            halves = []
            for high in (0, 1):
                total = builder.load(sums[high])
                total = builder.add(total, ir.Constant(v16, [32896 - 65536] * (lanes // 2)))
                halves.append(builder.lshr(total, ir.Constant(v16, [8] * (lanes // 2))))
            out_start, out_stride = data(t[4], a_out)
            i64v = context.cast(builder, a_i, t[5], types.int64)
            dest = builder.add(out_start, builder.add(builder.mul(i64v, out_stride), x64))
            packed = builder.call(pack_fn, halves)
            store = builder.store(packed, builder.inttoptr(dest, v8.as_pointer()))
            store.align = 1
            return context.get_dummy_value()

        return sig, codegen

    return intrinsic(many)


madd_rows1: Any = _madd_intrinsic(1) if HAVE_MADD else None
madd_rows2: Any = _madd_intrinsic(2) if HAVE_MADD else None
madd_rows_many: Any = _many_intrinsic() if HAVE_MADD else None
