"""The per-step integer arithmetic of the predictor, fused into compiled loops for the CPU.

PyTorch's eager mode runs every tensor operation of a step as its own pass over memory, a few microseconds each
however small the batch; a step of the best level is hundreds of them. On the CPU the same arithmetic runs here as
plain loops over the streams, compiled by numba: the network's gates after its matrix product
(neuralzip.fused.lstm), the match model (fused.match), the context counts (fused.counts) and the probability maps
(fused.apm). Every loop computes exactly what its tensor counterpart computes, in the same integers, bit for bit
(tests/test_fused.py holds each pair equal, and the golden frequencies pin both); the tensor code remains the
path on CUDA and wherever numba is missing, and the reference. neuralzip.backend chooses between them.

Each stage keeps what its loops read and change in one state object, a NamedTuple of its arrays and constants
defined beside its loops (CountsState, MatchState, MapsState, LSTMTables, the coder's Encoders and Decoders),
made once by the stage's constructor on the very arrays of its tensor form's attributes; a loop takes the state
and the step's inputs, `update(state, t, symbols)`, as cmix's models take Perceive(bit).
"""

from __future__ import annotations

import numpy as np

try:
    import numba
    from llvmlite import ir
    from numba.core import types
    from numba.extending import intrinsic
except ImportError:      # the tensor code does the same work, more slowly
    numba = None


def njit(function):
    """Compile a loop with numba (cached on disk, so a process pays the compilation once per installation)."""
    if numba is None:
        return function
    return numba.njit(cache=True, nogil=True, boundscheck=False)(function)


def inline(function):
    """njit, and inlined where it is called (numba's IR inlining): a small helper called per decision, whose call
    would otherwise pass its state's arrays (a reference count each way) and keep LLVM from optimising across it."""
    if numba is None:
        return function
    return numba.njit(cache=True, nogil=True, boundscheck=False, inline="always")(function)


if numba is not None:
    @intrinsic
    def prefetch(typingctx, array, index):
        """Ask for the cache line of array's element at flat index (a C-contiguous array) without waiting for it:
        the tables are far larger than the caches, and a loop that reads one row after another waits for memory
        once per row, where asking a few rows ahead overlaps the waits with the work."""
        def codegen(context, builder, signature, args):
            data = context.make_array(signature.args[0])(context, builder, args[0]).data
            pointer = builder.bitcast(builder.gep(data, [args[1]]), ir.IntType(8).as_pointer())
            i32 = ir.IntType(32)
            function = builder.module.declare_intrinsic(
                "llvm.prefetch", [pointer.type], ir.FunctionType(ir.VoidType(), [pointer.type, i32, i32, i32]))
            builder.call(function, [pointer, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
            return context.get_dummy_value()
        return types.void(array, types.int64), codegen
else:
    def prefetch(array, index):
        pass


@njit
def floor_div(a, d):
    """a // d for 0 <= a < 2**53 and 1 <= d < 2**61: a double quotient is within 1 of the floor, then corrected
    (IEEE 754 division is correctly rounded, and the correction exact, so every machine gets the same integer).
    np.true_divide: the quotient without Python's check for a zero divisor, which would stop the loops from
    running several at a time."""
    r = np.int64(np.true_divide(np.float64(a), np.float64(d)))
    r -= np.int64(r * d > a)
    r += np.int64((r + 1) * d <= a)
    return r
