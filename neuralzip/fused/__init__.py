"""The per-step integer arithmetic of the predictor, fused into compiled loops for the CPU.

PyTorch's eager mode runs every tensor operation of a step as its own pass over memory, a few microseconds each
however small the batch; a step of the best level is hundreds of them. On the CPU the same arithmetic runs here as
plain loops over the streams, compiled by numba: the network's gates after its matrix product
(neuralzip.fused.lstm), the match model (fused.match), the context counts (fused.counts) and the probability maps
(fused.apm). Every loop computes exactly what its tensor counterpart computes, in the same integers, bit for bit
(tests/test_fused.py holds each pair equal, and the golden frequencies pin both); the tensor code remains the
path on CUDA and wherever numba is missing, and the reference.

NEURALZIP_FUSED=0 in the environment turns the loops off (the tensor code runs on the CPU too).
"""

from __future__ import annotations

import os

import torch

try:
    import numba
except ImportError:      # the tensor code does the same work, more slowly
    numba = None


def njit(function):
    """Compile a loop with numba (cached on disk, so a process pays the compilation once per installation)."""
    if numba is None:
        return function
    return numba.njit(cache=True, nogil=True, boundscheck=False)(function)


def enabled(device: torch.device) -> bool:
    """Whether the predictor's parts on this device run the fused loops."""
    return numba is not None and torch.device(device).type == "cpu" and os.environ.get("NEURALZIP_FUSED", "1") != "0"
