"""torch, imported when first used.

The tensor form of the predictor (CUDA, and the reference on the CPU: neuralzip.backend) and the training tools
need torch; the CPU's loops do not. Modules that hold both forms side by side take `torch` from here, so that
importing them costs nothing until a tensor is made.
"""

from __future__ import annotations

import importlib


class _Torch:
    def __getattr__(self, name: str):
        return getattr(importlib.import_module("torch"), name)

    def __repr__(self) -> str:
        return "<torch, imported when first used>"


torch = _Torch()
