"""Fit a model to one's own kind of data: what ``nzip train FILES... -o MODEL`` runs.

By default the embedded default model is the starting point: its integer weights are turned back into floats
(an identity embedding carries the input table), trained further on the files, float first and then with
quantization in the loop, and exported again. Starting from it needs far less data and time than starting from
nothing (``base=None``), and keeps what it knows of text in general.

The last twentieth of each file is held out: the report compares, on it, the real compressed size (integer model,
range coder, framing) under the base model and under the new one.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import torch

from .. import zoo
from ..api import compress
from ..model import ModelConfig
from . import export, trainer
from .floatmodel import float_state

HOLD_OUT = 20            # 1/20 of each file is kept for the report
MIN_BYTES = 8192         # less than this is not enough to learn anything from
QUANTIZED_SHARE = 0.2    # of the time or steps: the last part trains through the integer model's rounding


def _read(files: list[Path]) -> tuple[bytes, bytes]:
    """(training text, held-out text): every file's head and tail, in the order given."""
    train, held = [], []
    for path in files:
        data = Path(path).read_bytes()
        cut = len(data) - len(data) // HOLD_OUT
        train.append(data[:cut])
        held.append(data[cut:])
    return b"\n".join(train), b"\n".join(held)


def fit(files: list[str | os.PathLike], out: str | os.PathLike, *, name: str | None = None,
        base: str | os.PathLike | None = zoo.DEFAULT_MODEL, minutes: float = 10.0, steps: int | None = None,
        hidden: int = 384, batch: int = 16, seq: int = 128, lr: float | None = None, seed: int = 0,
        log=print) -> dict:
    """Train a model on files and write it to out; returns a summary (sizes, steps, held-out bits per byte).

    base: a model to start from (name or path), or None for a fresh network of the given hidden width.
    minutes bounds the training time; steps, when given, bounds the number of steps instead.
    """
    out = Path(out)
    name = name or out.name.removesuffix(zoo.MODEL_SUFFIX)
    if not files:
        raise ValueError("nzip train needs at least one file to learn from")
    text, held = _read([Path(f) for f in files])
    if len(text) < MIN_BYTES:
        raise ValueError(f"the files hold {len(text)} bytes to train on; nzip train needs at least {MIN_BYTES}")
    start = zoo.load(base) if base is not None else None
    config = ModelConfig(hidden=start.config.hidden if start else hidden)
    lr = lr if lr is not None else (5e-4 if start else 2e-3)
    chunk = min(16384, len(text) // 2)
    seq = min(seq, chunk)
    budget = {"steps": steps or 10 ** 9, "time_limit": None if steps else minutes * 60}
    phases = [("float", 1 - QUANTIZED_SHARE, False), ("quantized", QUANTIZED_SHARE, True)]
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nzip-train-") as tmp:
        tmp = Path(tmp)
        (tmp / "train.bin").write_bytes(text)
        (tmp / "dev.bin").write_bytes(held if len(held) > 2 * seq else text[-4 * seq:])
        init = float_state(start) if start else None
        done = 0
        for phase, share, quantized in phases:
            ckpt = tmp / f"{phase}.pt"
            result = trainer.train(
                tmp / "train.bin", tmp / "dev.bin", ckpt, config, max(1, round(budget["steps"] * share)),
                batch=batch, seq=seq, chunk=chunk, lr=lr if not quantized else lr / 4, seed=seed,
                quantized=quantized, init=init, log_every=50, eval_every=10 ** 9, eval_bytes=1 << 16,
                time_limit=budget["time_limit"] and budget["time_limit"] * share,
                log=lambda line, phase=phase: log(f"{phase}: {line}"))
            init, done = torch.load(ckpt, weights_only=False)["model"], done + result["steps"]
        description = (f"nzip train: {len(files)} files, {len(text)} bytes, {done} steps from "
                       f"{start.name if start else 'scratch'}")
        # the base's match model comes along: it learns its confidence from each chunk anyway
        export.export(tmp / "quantized.pt", out, name, description, match_from=start.config if start else None)
    summary = {"name": name, "path": str(out), "train_bytes": len(text), "held_out_bytes": len(held),
               "steps": done, "seconds": time.monotonic() - began}
    if held:
        for key, model in (("held_out_bpb_base", base or zoo.DEFAULT_MODEL), ("held_out_bpb", out)):
            summary[key] = 8 * len(compress(held, model=model)) / len(held)
    return summary
