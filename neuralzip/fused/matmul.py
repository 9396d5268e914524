"""An exact int8 matrix product as a loop, for the few-stream batches of small inputs.

A batch of a few streams reads the whole weight matrix for a few rows of output: memory-bound, where float32
kernels move twice the bytes of int16 ones. This loop reads each column of the weights (int8 values widened to
int16 once, which AVX2 multiplies a fifth faster than int8) while every stream's row is multiplied by it, in int32
sums, exact for K below 2**17. neuralzip.intops.Int8Matrix times it against the other kernels and takes it where
it wins.
"""

from __future__ import annotations

import numpy as np

from . import njit


@njit
def int8_product(a, b_t, out):
    """a (M, K) int8 @ b_t.T, b_t (N, K) int16 holding int8 values -> out (M, N) int32, in place."""
    M, K = a.shape
    for n in range(b_t.shape[0]):
        column = b_t[n]
        for m in range(M):
            s = np.int32(0)
            for k in range(K):
                s += np.int32(a[m, k]) * np.int32(column[k])
            out[m, n] = s
