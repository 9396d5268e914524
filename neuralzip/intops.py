"""Integer arithmetic that gives the same bits on every machine and device.

Everything the model computes at inference goes through here: exact int8 matrix products, rounding shifts,
and table lookups. No float reduction, no transcendental function.
"""

from __future__ import annotations

import functools

import torch

def rshift_round(x: torch.Tensor, shift: int) -> torch.Tensor:
    """x / 2**shift rounded half up (toward +inf): the one rounding rule of the integer model."""
    return (x + (1 << (shift - 1))) >> shift


def _float_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # Integers held in floats are exact while every partial sum is, whatever order the kernel sums in.
    # float64, not float32: a user's allow_tf32 or set_float32_matmul_precision("medium") would make
    # float32 products inexact, and nothing touches float64.
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


def int8_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Exact (M, K) int8 @ (K, N) int8 -> (M, N) int32, on any device, with any thread count."""
    if _int_mm_is_exact(str(a.device), b.shape[0], b.shape[1]):
        return _int_mm(a, b)
    return _float_matmul(a, b)


def lookup(table: torch.Tensor, x: torch.Tensor, offset: int) -> torch.Tensor:
    """table[x + offset], with x + offset clamped into the table. (index_select is far faster than indexing.)"""
    idx = (x + offset).clamp_(0, table.shape[0] - 1)
    return table.index_select(0, idx.view(-1)).view(x.shape)
