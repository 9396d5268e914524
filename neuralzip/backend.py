"""Where the predictor runs and in which form, chosen once per (de)compressor: the one place that decides.

- **loops**: numpy arrays and numba's compiled loops (neuralzip.fused), on the CPU. torch is never imported: a
  process that compresses on the CPU pays neither its import (1.5 s) nor its memory (200 MB).
- **tensors**: torch tensors on a device: CUDA, or the CPU where numba is missing. It is also the reference the
  loops are held to, bit for bit (tests/test_tensor_backend.py runs the golden streams on it).

Both forms compute the same integers, so the stream never depends on the choice. Every stage builds its state
once, as numpy arrays (Backend.zeros for its large tables), and the tensor form moves it to the device
(Backend.adopt). NEURALZIP_FUSED=0 in the environment makes the CPU take the tensor form: a hook for tests and
for comparing the two, read here only.
"""

from __future__ import annotations

import importlib.util
import mmap
import os
from dataclasses import dataclass

import numpy as np

from .tensorlib import torch

SMALL_TABLE_BYTES = 1 << 20     # tables below this come from numpy; larger ones from pages of their own


def numba_present() -> bool:
    from . import fused
    return fused.numba is not None


def torch_present() -> bool:
    return importlib.util.find_spec("torch") is not None


def _gpu_present() -> bool:
    """Whether this machine may have a CUDA GPU, without importing torch (which takes 1.5 s) where it has none:
    NVIDIA's driver makes these files."""
    return os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/nvidiactl")


@dataclass(frozen=True)
class Backend:
    """A device ("cpu", "cuda", "cuda:1") and the form the predictor takes there (loops: numba on numpy); with
    huge_pages, the loops' large tables ask for 2 MiB pages (fewer TLB misses on their random reads), which a batch
    of enough content fills anyway: a smaller one would pay 2 MiB for each byte it writes."""
    device: str
    loops: bool
    huge_pages: bool = False

    @property
    def type(self) -> str:
        return self.device.split(":")[0]

    def torch_device(self):
        return torch.device(self.device)

    def zeros(self, shape, dtype) -> np.ndarray:
        """A zero table. Loops: a large one is an anonymous mapping of its own, whose pages cost nothing until
        written, so that memory grows with the input (a small input writes to few of a 128 MiB table's pages), and
        which starts on a page, so its rows lie on whole cache lines; numpy's own large arrays ask for huge pages,
        and one write would cost 2 MiB. Tensors: made on the device, never on the host."""
        if not self.loops:
            return torch.zeros(shape, dtype=torch_dtype(dtype), device=self.device)
        size = int(np.prod(shape)) * np.dtype(dtype).itemsize
        if size < SMALL_TABLE_BYTES:
            return np.zeros(shape, dtype)
        pages = mmap.mmap(-1, size)
        if self.huge_pages and hasattr(mmap, "MADV_HUGEPAGE"):
            pages.madvise(mmap.MADV_HUGEPAGE)
        return np.frombuffer(pages, dtype).reshape(shape)

    def array(self, values: np.ndarray):
        """values in this backend's form: the array itself, or a tensor on the device."""
        if self.loops:
            return values
        return torch.from_numpy(np.ascontiguousarray(values)).to(self.device)

    def adopt(self, state) -> None:
        """Move the numpy arrays among state's attributes to the device as tensors (nothing, for the loops)."""
        if self.loops:
            return
        for name, value in list(vars(state).items()):
            if isinstance(value, np.ndarray):
                setattr(state, name, self.array(value))

    def to_host(self, values) -> np.ndarray:
        """values (an array, or a tensor anywhere) as a numpy array on the host."""
        if isinstance(values, np.ndarray):
            return values
        return values.cpu().numpy()


def torch_dtype(dtype):
    return getattr(torch, np.dtype(dtype).name)


def choose(device=None) -> Backend:
    """The backend for a device: None or "auto" (CUDA when torch finds a GPU, else the CPU), "cpu", "cuda",
    "cuda:N", a torch.device, or a Backend (returned as it is)."""
    if isinstance(device, Backend):
        return device
    if device is None or device == "auto":
        cuda = torch_present() and _gpu_present() and torch.cuda.is_available()
        return choose("cuda" if cuda else "cpu")
    if type(device).__name__ == "device" and type(device).__module__ == "torch":
        device = str(device)
    if not isinstance(device, str):
        raise TypeError(f"device must be 'cpu', 'cuda', 'auto' or a torch.device, not {type(device).__name__}")
    kind, _, index = device.partition(":")
    if kind not in ("cpu", "cuda") or (index and not (kind == "cuda" and index.isdigit())):
        raise ValueError(f"device must be 'cpu', 'cuda' or 'auto', not {device!r}")
    if kind == "cuda" and not (torch_present() and torch.cuda.is_available()):
        raise ValueError("device 'cuda' was asked for but CUDA is not available; use device='cpu' or 'auto'")
    loops = kind == "cpu" and numba_present() and os.environ.get("NEURALZIP_FUSED", "1") != "0"
    if not loops and not torch_present():
        raise ValueError(f"device {device!r} needs torch (pip install 'neuralzip[torch]') or, on the CPU, numba")
    return Backend(device, loops)
