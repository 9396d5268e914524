"""Integer arithmetic that gives the same bits on every machine and device.

Everything the model computes at inference goes through here: exact int8 matrix products, rounding shifts,
and table lookups. No float reduction, no transcendental function.
"""

from __future__ import annotations

import functools
import time

import torch

# float32 holds every integer below 2**24 exactly
_FLOAT32_EXACT_K = (1 << 24) // (128 * 128)
_TIMING_ROWS = 64      # the batch the kernels are timed on: a few dozen chunks' streams


def rshift_round(x: torch.Tensor, shift: int) -> torch.Tensor:
    """x / 2**shift rounded half up (toward +inf): the one rounding rule of the integer model."""
    return (x + (1 << (shift - 1))) >> shift


def _float_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # The reference product. Integers held in floats are exact while every partial sum is, whatever order the
    # kernel sums in; no user setting (allow_tf32, set_float32_matmul_precision) touches float64.
    return (a.to(torch.float64) @ b.to(torch.float64)).to(torch.int32)


def _int_mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m = a.shape[0]
    if a.device.type == "cuda" and (m <= 16 or m % 8):
        # cuBLAS int8 GEMM wants m > 16 and m a multiple of 8; pad the batch with zero rows
        padded = max(24, (m + 7) // 8 * 8)
        a = torch.cat([a, a.new_zeros(padded - m, a.shape[1])])
    return torch._int_mm(a, b)[:m]


@functools.lru_cache(maxsize=None)
def _int_mm_is_exact(device: str, k: int, n: int) -> bool:
    """Check torch._int_mm against the float path once per device and shape (some CPUs saturate s8xs8)."""
    if k % 8 or n % 8:
        return False
    gen = torch.Generator().manual_seed(k * 7919 + n)
    a = torch.randint(-127, 128, (32, k), generator=gen, dtype=torch.int8)
    b = torch.randint(-127, 128, (k, n), generator=gen, dtype=torch.int8)
    a[0], b[:, 0] = 127, 127            # the extremes, where a saturating kernel goes wrong
    a[1], b[:, 1] = -127, -127
    a, b = a.to(device), b.to(device)
    try:
        return torch.equal(_int_mm(a, b), _float_matmul(a, b))
    except RuntimeError:
        return False


def _float32_is_exact() -> bool:
    """Whether float32 products are plain IEEE ones now: a user's set_float32_matmul_precision("medium") or
    torch.backends.mkldnn.matmul.fp32_precision = "bf16" lets the CPU round them through bfloat16."""
    try:
        mkldnn = getattr(getattr(torch.backends.mkldnn, "matmul", None), "fp32_precision", "none")
        return mkldnn in ("none", "ieee") and torch.get_float32_matmul_precision() == "highest"
    except RuntimeError:      # torch refuses to answer when the old and new precision settings were mixed
        return False


class Int8Matrix:
    """A fixed (K, N) int8 matrix b that (M, K) int8 batches are multiplied by, exactly, into (M, N) int32.

    Every kernel here gives the same integers; which is fastest depends on the machine. torch._int_mm is, on CUDA
    and on CPUs with int8 dot-product instructions (AVX512-VNNI, AVX-VNNI, AMX); on a CPU with AVX2 alone it is 20
    to 40 times slower than a float32 product, which is exact while K * 128 * 128 < 2**24 (every partial sum an
    integer below 2**24, in any order). So on the CPU the first product of each shape times the exact kernels,
    once per process, and keeps the fastest: the choice changes the speed, never a bit of the result.
    """

    def __init__(self, b: torch.Tensor):
        self.b = b
        self._as = {}                              # b in the float dtypes, converted once

    def __call__(self, a: torch.Tensor) -> torch.Tensor:
        k, n = self.b.shape
        kernel = _fastest(str(self.b.device), k, n)
        if kernel == "int_mm":
            return _int_mm(a, self.b)
        dtype = torch.float32 if kernel == "float32" and _float32_is_exact() else torch.float64
        if dtype not in self._as:
            self._as[dtype] = self.b.to(dtype)
        return (a.to(dtype) @ self._as[dtype]).to(torch.int32)


@functools.lru_cache(maxsize=None)
def _fastest(device: str, k: int, n: int) -> str:
    """The fastest exact kernel for a (K, N) int8 matrix on this device: "int_mm", "float32" or "float64"."""
    exact_int = _int_mm_is_exact(device, k, n)
    if not device.startswith("cpu"):
        return "int_mm" if exact_int else "float64"
    b = torch.ones(k, n, dtype=torch.int8)
    a = torch.ones(_TIMING_ROWS, k, dtype=torch.int8)
    b64 = b.double()
    kernels = {"float64": lambda: a.double() @ b64}
    if k <= _FLOAT32_EXACT_K and _float32_is_exact():
        b32 = b.float()
        kernels["float32"] = lambda: a.float() @ b32
    if exact_int:
        kernels["int_mm"] = lambda: torch._int_mm(a, b)
    return min(kernels, key=lambda name: _seconds(kernels[name]))


def _seconds(run) -> float:
    run()                                          # the first call pays for allocation and dispatch
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def int8_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Exact (M, K) int8 @ (K, N) int8 -> (M, N) int32, on any device, with any thread count (for a matrix used
    once; hold an Int8Matrix for one used every step)."""
    return Int8Matrix(b)(a)


def lookup(table: torch.Tensor, x: torch.Tensor, offset: int) -> torch.Tensor:
    """table[x + offset], with x + offset clamped into the table. (index_select is far faster than indexing.)"""
    idx = (x + offset).clamp_(0, table.shape[0] - 1)
    return table.index_select(0, idx.view(-1)).view(x.shape)
