"""Integer arithmetic that gives the same bits on every machine and device.

Everything the model computes at inference goes through here: exact int8 matrix products, rounding shifts,
and table lookups. No float reduction, no transcendental function.
"""

from __future__ import annotations

import functools
import time

import numpy as np
import torch

from . import fused
from .fused import matmul as fused_matmul

# float32 holds every integer up to 2**24 exactly: an int8 product is exact in it for K up to this
_FLOAT32_EXACT_K = (1 << 24) // (128 * 128)
_TIMING_ROWS = 64      # batches of this many streams or more run the kernel timed on this many


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
        return torch._int_mm(torch.cat([a, a.new_zeros(padded - m, a.shape[1])]), b)[:m]
    return torch._int_mm(a, b)


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

    Every kernel here gives the same integers; which is fastest depends on the machine and the batch.
    torch._int_mm is the fastest on CUDA and on CPUs with int8 dot-product instructions (AVX512-VNNI, AVX-VNNI,
    AMX); on a CPU with AVX2 alone it is 20 to 40 times slower than a float32 product, which is exact while
    K * 128 * 128 <= 2**24 (every partial sum an integer of at most 2**24, in any order), and for a batch of a few
    streams the loop of neuralzip.fused.matmul beats both. So on the CPU the first product of each shape and batch
    size (in powers of two up to _TIMING_ROWS) times the exact kernels, once per process, and keeps the fastest:
    the choice changes the speed, never a bit of the result.
    """

    def __init__(self, b: torch.Tensor):
        self.b = b
        self._forms = {}                           # b as each kernel takes it, made once
        self._kernel = {}                          # batch size -> the fastest kernel's name

    def __call__(self, a: torch.Tensor) -> torch.Tensor:
        rows = a.shape[0]
        kernel = self._kernel.get(rows)
        if kernel is None:
            kernel = self._kernel[rows] = _fastest(str(self.b.device), *self.b.shape,
                                                   min(_TIMING_ROWS, 1 << (rows - 1).bit_length()))
        if kernel == "float32" and not _float32_is_exact():
            kernel = "float64"
        return self.product(kernel, a)

    def product(self, kernel: str, a: torch.Tensor) -> torch.Tensor:
        """a @ b by the named kernel: "int_mm", "float32", "float64" or "loops"."""
        b = self._forms.get(kernel)
        if b is None:
            b = self._forms[kernel] = _FORMS[kernel](self.b)
        if kernel == "int_mm":
            return _int_mm(a, b)
        if kernel == "loops":
            out = np.empty((a.shape[0], b.shape[0]), np.int32)
            fused_matmul.int8_product(a.numpy(), b, out)
            return torch.from_numpy(out)
        return (a.to(b.dtype) @ b).to(torch.int32)


_FORMS = {"int_mm": lambda b: b, "float32": lambda b: b.float(), "float64": lambda b: b.double(),
          "loops": lambda b: b.t().to(torch.int16).contiguous().numpy()}


@functools.lru_cache(maxsize=None)
def _fastest(device: str, k: int, n: int, rows: int) -> str:
    """The fastest exact kernel for a (K, N) int8 matrix on this device, timed on batches of rows."""
    exact_int = _int_mm_is_exact(device, k, n)
    if not device.startswith("cpu"):
        return "int_mm" if exact_int else "float64"
    kernels = ["float64"]
    if k <= _FLOAT32_EXACT_K and _float32_is_exact():
        kernels.append("float32")
    if exact_int:
        kernels.append("int_mm")
    if fused.enabled(torch.device(device)):
        kernels.append("loops")
    matrix, a = Int8Matrix(torch.ones(k, n, dtype=torch.int8)), torch.ones(rows, k, dtype=torch.int8)
    return min(kernels, key=lambda kernel: _seconds(lambda: matrix.product(kernel, a)))


def _seconds(run) -> float:
    """The least time of several calls (after one that pays for conversion, allocation and dispatch): the least
    is the kernel's own, the rest is whatever else the machine was doing."""
    run()
    best, spent = float("inf"), 0.0
    for _ in range(20):
        start = time.perf_counter()
        run()
        took = time.perf_counter() - start
        best, spent = min(best, took), spent + took
        if spent > 0.005:
            break
    return best


def lookup(table: torch.Tensor, x: torch.Tensor, offset: int) -> torch.Tensor:
    """table[x + offset], with x + offset clamped into the table. (index_select is far faster than indexing.)"""
    idx = (x + offset).clamp_(0, table.shape[0] - 1)
    return table.index_select(0, idx.view(-1)).view(x.shape)
