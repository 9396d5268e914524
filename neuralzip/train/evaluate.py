"""Bits per byte of a model on files, as the engine would code them: the integer model's exact code length
(-log2 of each symbol's frequency share) and, for a checkpoint, the float model's."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .. import backend, zoo
from ..model import LSTMModel
from ..predictor import Predictor, chunk_groups


def _chunks(data: bytes, chunk_size: int) -> list[bytes]:
    return [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)]


def chunk_predictor(model: LSTMModel, lengths: np.ndarray, chunk_size: int) -> Predictor:
    """A predictor for data's chunks in one lockstep batch, grouped as the engine would group them."""
    groups = chunk_groups([i * chunk_size for i in range(len(lengths))], model.config.match_group_bytes)
    return Predictor(model, len(lengths), int(lengths.max()), groups, lengths.tolist())


def chunk_tokens(data: bytes, chunk_size: int) -> tuple[np.ndarray, np.ndarray]:
    """data's chunks as one lockstep batch: tokens (B, T) int64, zero-padded, and each chunk's length (B,)."""
    chunks = _chunks(data, chunk_size)
    lengths = np.array([len(c) for c in chunks], np.int64)
    tokens = np.zeros((len(chunks), int(lengths.max())), np.int64)
    for b, c in enumerate(chunks):
        tokens[b, :len(c)] = np.frombuffer(c, dtype=np.uint8)
    return tokens, lengths


def integer_bits(model: LSTMModel, data: bytes, chunk_size: int) -> float:
    """Total ideal code length in bits of data under the integer model (the range coder adds a few bytes)."""
    sym, lengths = chunk_tokens(data, chunk_size)
    steps, rows, where = sym.shape[1], np.arange(len(sym)), model.backend
    predictor, bits = chunk_predictor(model, lengths, chunk_size), 0.0
    for t in range(steps):
        f = where.to_host(predictor.frequencies()).astype(np.float64)
        p = f[rows, sym[:, t]] / f.sum(1)
        bits += float(-np.log2(p)[lengths > t].sum())
        predictor.advance(where.array(sym[:, t].copy()))
    return bits


def float_bits(checkpoint: Path, data: bytes, chunk_size: int, quantized: bool = False) -> float:
    from ..model import ModelConfig
    from .floatmodel import FloatLSTMModel
    ck = torch.load(checkpoint, weights_only=False, map_location="cpu")
    config = ModelConfig(vocab_size=ck["config"]["vocab_size"], hidden=ck["config"]["hidden"])
    model = FloatLSTMModel(config, embed_dim=ck["model"]["embed.weight"].shape[1])
    model.load_state_dict(ck["model"])
    model.eval()
    bits = 0.0
    with torch.no_grad():
        for c in _chunks(data, chunk_size):
            x = torch.tensor([10] + list(c), dtype=torch.int64)[None]
            logits, _ = model(x[:, :-1], quantized=quantized)
            bits += F.cross_entropy(logits[0], x[0, 1:], reduction="sum").item() / math.log(2)
    return bits


if __name__ == "__main__":
    import argparse
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--model", default=zoo.DEFAULT_MODEL)
    p.add_argument("--checkpoint", type=Path)
    p.add_argument("--chunk", type=int, default=zoo.level(None).chunk_size)
    a = p.parse_args()
    runtime = zoo.runtime(zoo.load(a.model), backend.choose("cpu"))
    for f in a.files:
        data = f.read_bytes()
        line = f"{f.name}: integer {integer_bits(runtime, data, a.chunk) / len(data):.4f} bpb"
        if a.checkpoint:
            line += f", float {float_bits(a.checkpoint, data, a.chunk) / len(data):.4f} bpb"
        print(line, flush=True)
