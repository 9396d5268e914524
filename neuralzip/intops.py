"""Integer arithmetic that gives the same bits on every machine and device.

Everything the model computes at inference goes through here: exact int8 matrix products, rounding shifts,
and table lookups. No float reduction, no transcendental function. The products take numpy arrays (the loops'
form, neuralzip.backend) or torch tensors (the tensor form); torch is imported only for the latter.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
import time

import numpy as np

from . import fused
from .fused import matmul as fused_matmul
from .tensorlib import torch

# float32 holds every integer up to 2**24 exactly: an int8 product is exact in it for K up to this
_FLOAT32_EXACT_K = (1 << 24) // (128 * 128)
_TIMING_ROWS = 64      # batches of this many streams or more run the kernel timed on this many


def rshift_round(x, shift: int):
    """x / 2**shift rounded half up (toward +inf): the one rounding rule of the integer model."""
    return (x + (1 << (shift - 1))) >> shift


def _float_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # The reference product. Integers held in floats are exact while every partial sum is, whatever order the
    # kernel sums in; no user setting (allow_tf32, set_float32_matmul_precision) touches float64.
    return (a.to(torch.float64) @ b.to(torch.float64)).to(torch.int32)


def padded_rows(rows: int, device_type: str) -> int:
    """How many rows torch._int_mm multiplies for a batch of rows: on CUDA, cuBLAS's int8 GEMM wants more than 16
    rows and a multiple of 8, and the batch is padded with zero rows."""
    return max(24, (rows + 7) // 8 * 8) if device_type == "cuda" else rows


def _int_mm(a: torch.Tensor, b: torch.Tensor, pad: bool | None = None) -> torch.Tensor:
    """a @ b by torch._int_mm; pad (default: on CUDA) pads a with zero rows to padded_rows and cuts them off."""
    m = a.shape[0]
    rows = padded_rows(m, "cuda" if (a.device.type == "cuda" if pad is None else pad) else "cpu")
    if rows != m:
        return torch._int_mm(torch.cat([a, a.new_zeros(rows - m, a.shape[1])]), b)[:m]
    return torch._int_mm(a, b)


# The user's deterministic-algorithms setting, set aside while exact integer work runs (see exact_work()).
_mode_lock = threading.Lock()
_mode_users = 0
_mode_saved = (False, False)


@contextlib.contextmanager
def exact_work():
    """Run the model's integer arithmetic with torch's deterministic-algorithms mode off, and put the user's
    setting back after.

    Every product and table update here is exact integer arithmetic, the same integers in any order, which that
    mode cannot make more deterministic; but on CUDA, without CUBLAS_WORKSPACE_CONFIG set before the process
    started, torch refuses every cuBLAS product in that mode (float64 and torch._int_mm alike), and takes its slow
    sorting paths for index_put_ and index_add_. A user's torch.use_deterministic_algorithms(True) must not stop
    compression, nor change a bit of it. The mode is one setting for the whole process: a count of the jobs
    inside lets batches on several threads nest, and the last one out restores the setting (with its warn_only).
    While a batch runs, other threads of the process see the mode off."""
    global _mode_users, _mode_saved
    if sys.modules.get("torch") is None:      # no mode to set aside: the loops never import torch
        yield
        return
    with _mode_lock:
        if _mode_users == 0:
            _mode_saved = (torch.are_deterministic_algorithms_enabled(),
                           torch.is_deterministic_algorithms_warn_only_enabled())
            if _mode_saved[0]:
                torch.use_deterministic_algorithms(False)
        _mode_users += 1
    try:
        yield
    finally:
        with _mode_lock:
            _mode_users -= 1
            if _mode_users == 0 and _mode_saved[0]:
                torch.use_deterministic_algorithms(True, warn_only=_mode_saved[1])


# Why torch._int_mm was not taken, per (device, K, N, rows): kernel_report() says so, not a silent fallback.
_REFUSALS: dict[tuple[str, int, int, int], str] = {}
# The kernel each (device, K, N, rows) product was given in this process.
_CHOSEN: dict[tuple[str, int, int, int], str] = {}


@functools.lru_cache(maxsize=None)
def _int_mm_is_exact(device: str, k: int, n: int, rows: int) -> bool:
    """Check torch._int_mm against the float64 product once per device, shape and batch rows (some CPUs saturate
    s8xs8; cuBLAS picks its algorithm by shape, so every batch size the engine runs is checked, at the rows it
    really multiplies). A kernel that raises or differs is recorded in _REFUSALS with the reason."""
    key = (device, k, n, rows)
    if k % 8 or n % 8:
        _REFUSALS[key] = f"K={k} and N={n} must be multiples of 8"
        return False
    gen = torch.Generator().manual_seed(k * 7919 + n + rows)
    a = torch.randint(-127, 128, (max(rows, 2), k), generator=gen, dtype=torch.int8)
    b = torch.randint(-127, 128, (k, n), generator=gen, dtype=torch.int8)
    a[0], b[:, 0] = 127, 127            # the extremes, where a saturating kernel goes wrong
    a[1], b[:, 1] = -127, -127
    a, b = a[:rows].to(device), b.to(device)
    try:
        with exact_work():
            exact = torch.equal(_int_mm(a, b), _float_matmul(a, b))
    except RuntimeError as e:
        _REFUSALS[key] = f"torch._int_mm raised {str(e).splitlines()[0] if str(e) else type(e).__name__}"
        return False
    if not exact:
        _REFUSALS[key] = "torch._int_mm gives other integers than the float64 product (it saturates here)"
    return exact


def kernel_report() -> list[str]:
    """One line per exact int8 product this process has run: device ("numpy" for the loops' form, on the host),
    shape, batch rows (on the CPU, the power of two up to 64 the kernel was timed at) and the kernel chosen, with
    the reason torch._int_mm was not where it was tried."""
    lines = []
    for (device, k, n, rows), kernel in sorted(_CHOSEN.items()):
        on_cpu = device == "numpy" or device.startswith("cpu")
        why = _REFUSALS.get((device, k, n, rows if on_cpu else padded_rows(rows, "cuda")))
        lines.append(f"{device} {k}x{n} at {rows} rows: {kernel}" + (f" ({why})" if why else ""))
    return lines


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
    the choice changes the speed, never a bit of the result. b as a numpy array (the loops' form) takes numpy's
    kernels, "float32", "float64" and "loops", and batches as numpy arrays; b as a tensor, torch's.
    """

    def __init__(self, b):
        self.b = b
        self.device = "numpy" if isinstance(b, np.ndarray) else str(b.device)
        self._forms = {}                           # b as each kernel takes it, made once
        self._kernel = {}                          # batch size -> the fastest kernel's name

    def __call__(self, a):
        rows = a.shape[0]
        kernel = self._kernel.get(rows)
        if kernel is None:
            # the CPU's kernels are timed at powers of two up to _TIMING_ROWS; a GPU's is checked at every size
            on_cpu = self.device == "numpy" or self.device.startswith("cpu")
            timed = min(_TIMING_ROWS, 1 << (rows - 1).bit_length()) if on_cpu else rows
            kernel = self._kernel[rows] = _fastest(self.device, *self.b.shape, timed)
            _CHOSEN[(self.device, *self.b.shape, timed)] = kernel
        if kernel == "float32" and self.device != "numpy" and not _float32_is_exact():
            kernel = "float64"
        return self.product(kernel, a)

    def product(self, kernel: str, a):
        """a @ b by the named kernel: "int_mm", "float32", "float64" or "loops"."""
        b = self._forms.get(kernel)
        if b is None:
            b = self._forms[kernel] = (_NUMPY_FORMS if self.device == "numpy" else _FORMS)[kernel](self.b)
        if kernel == "int_mm":
            return _int_mm(a, b)
        if kernel == "loops":
            out = np.empty((a.shape[0], b.shape[0]), np.int32)
            fused_matmul.int8_product(np.asarray(a), b, out)
            return out if self.device == "numpy" else torch.from_numpy(out)
        if self.device == "numpy":
            return (a.astype(b.dtype) @ b).astype(np.int32)
        return (a.to(b.dtype) @ b).to(torch.int32)


_FORMS = {"int_mm": lambda b: b, "float32": lambda b: b.float(), "float64": lambda b: b.double(),
          "loops": lambda b: b.t().to(torch.int16).contiguous().numpy()}
_NUMPY_FORMS = {"float32": lambda b: b.astype(np.float32), "float64": lambda b: b.astype(np.float64),
                "loops": lambda b: np.ascontiguousarray(b.T.astype(np.int16))}


@functools.lru_cache(maxsize=None)
def _fastest(device: str, k: int, n: int, rows: int) -> str:
    """The fastest exact kernel for a (K, N) int8 matrix on this device ("numpy": the host, in numpy's
    kernels), timed on batches of rows."""
    if device == "numpy":
        kernels = ["float64"] + ["float32"] * (k <= _FLOAT32_EXACT_K) + ["loops"] * (fused.numba is not None)
        matrix, a = Int8Matrix(np.ones((k, n), np.int8)), np.ones((rows, k), np.int8)
    else:
        if not device.startswith("cpu"):
            return "int_mm" if _int_mm_is_exact(device, k, n, padded_rows(rows, device.split(":")[0])) else "float64"
        kernels = ["float64"]
        if k <= _FLOAT32_EXACT_K and _float32_is_exact():
            kernels.append("float32")
        if _int_mm_is_exact(device, k, n, rows):
            kernels.append("int_mm")
        if fused.numba is not None:
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


def low32_product(x, multiplier: int):
    """(x * multiplier) & 0xFFFFFFFF for x and multiplier in [0, 2**32), with no product beyond 2**48: the full
    product of two 32-bit values passes int64's 2**63, and a signed overflow is undefined in C and CUDA whatever
    today's compilers make of it. The low 32 bits of x's two 16-bit halves' products are the low 32 bits of the
    whole one's (x * m = lo * m + hi * m * 2**16), which is what the wrapping product gave."""
    if not 0 <= multiplier < 1 << 32:
        raise ValueError(f"the multiplier must be a 32-bit value, not {multiplier}")
    low = (x & 0xFFFF) * multiplier                       # < 2**48
    high = (((x >> 16) & 0xFFFF) * multiplier) & 0xFFFF    # < 2**48 before the mask
    return (low + (high << 16)) & 0xFFFFFFFF


def first_true(mask: torch.Tensor, dim: int) -> torch.Tensor:
    """The index of the first True along dim (the size of dim where there is none). argmax of a boolean row says
    nothing about which of several True it returns (torch documents the first, a kernel need not keep to it);
    the least index of those that hold is one integer whatever the kernel."""
    size = mask.shape[dim]
    index = torch.arange(size, device=mask.device).view([-1 if d == dim % mask.dim() else 1
                                                           for d in range(mask.dim())])
    return torch.where(mask, index, size).amin(dim)


def first_least(values: torch.Tensor, dim: int) -> torch.Tensor:
    """argmin along dim, the first index of the least value on ties, by a rule that holds on every kernel."""
    return first_true(values == values.amin(dim, keepdim=True), dim)


def lookup(table: torch.Tensor, x: torch.Tensor, offset: int) -> torch.Tensor:
    """table[x + offset], with x + offset clamped into the table. (index_select is far faster than indexing.)"""
    idx = (x + offset).clamp_(0, table.shape[0] - 1)
    return table.index_select(0, idx.view(-1)).view(x.shape)
