"""Calibrate context counts: each order's betas, chosen for the smallest code length on held-out text.

    python -m neuralzip.train.count_betas MODEL DATA... -o OUT.nzm --name NAME [--orders 4,8,12]
        [--table-bits 18] [--bytes 1048576]

Runs MODEL (which must have match groups) with context counts of the given orders (neuralzip.counts) over the
first --bytes of DATA in 16 KiB chunks, one lockstep batch as the engine would group them, and records at every
position the probability of the actual byte before the counts, and per order the context's count, its number of
distinct bytes and the count of the actual byte. The counts do not depend on the betas, and the blended
probability of the actual byte needs only these, so the betas (a_k, b_k) are then searched offline (each in turn
over a grid of powers of two and their halves, three passes) and written with MODEL's network as OUT.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from .. import modelfile, zoo
from ..counts import ContextCounts
from ..model import LSTMModel, ModelConfig
from ..predictor import chunk_groups
from .evaluate import chunk_predictor, chunk_tokens

BETA_GRID = sorted({int(b) for e in range(14) for b in (2 ** e, 1.5 * 2 ** e)})   # 1 ... 12288, half observations


def record(config: ModelConfig, tensors: dict, data: bytes, chunk: int = 16384) -> tuple[np.ndarray, ...]:
    """Per byte of data (live positions only): the probability the network and match model gave it (N,), and
    per order its context's count n, distinct bytes u and the count c of the byte itself (each (N, K)).

    config: a model config with match groups and context counts (their betas do not matter here); the counts run
    beside a predictor without them, as the engine would group the chunks, since they never change what it says."""
    tokens, lengths = chunk_tokens(data, chunk)
    B, T, K = *tokens.shape, len(config.count_orders)
    plain = dataclasses.replace(config, count_orders=(), count_betas=(), count_table_bits=0)
    p = chunk_predictor(LSTMModel(plain, tensors), lengths, chunk)
    counts = ContextCounts(chunk_groups([b * chunk for b in range(B)], config.match_group_bytes), lengths.tolist(),
                           config.count_orders, config.count_betas, config.count_table_bits, config.start_token,
                           torch.device("cpu"))
    # filled in place: a list of small tensors per step fragments the heap to gigabytes over millions of steps
    prob = torch.zeros(B, T, dtype=torch.float64)
    n, u, c = (torch.zeros(B, T, K, dtype=torch.int32) for _ in range(3))
    for t in range(T):
        f = p.frequencies().double()
        sym = tokens[:, t]
        seen, total, kinds = counts.lookup()
        n[:, t], u[:, t] = total.squeeze(2), kinds.squeeze(2)
        prob[:, t] = f.gather(1, sym[:, None]).squeeze(1) / f.sum(1)
        c[:, t] = seen.gather(2, sym[:, None, None].expand(-1, K, 1)).squeeze(2)
        p.advance(sym)
        counts.update(t, sym)
    live = torch.arange(T)[None, :] < lengths[:, None]                                       # (B, T)
    return prob[live].numpy(), n[live].numpy(), u[live].numpy(), c[live].numpy()


def code_length(prob: np.ndarray, n: np.ndarray, u: np.ndarray, c: np.ndarray, betas: list[int]) -> float:
    """Bits of the recorded bytes with counts blended in at these betas (the chain of neuralzip.counts)."""
    for k in range(len(betas) // 2):
        beta = betas[2 * k] * u[:, k] + betas[2 * k + 1]
        prob = (2 * c[:, k] + beta * prob) / (2 * n[:, k] + beta)
    return float(-np.log2(prob).sum())


def search(prob: np.ndarray, n: np.ndarray, u: np.ndarray, c: np.ndarray) -> list[int]:
    betas = [8, 1] * n.shape[1]
    for _ in range(3):
        for i in range(len(betas)):
            grid = BETA_GRID + [0] if i % 2 == 0 else BETA_GRID
            betas[i] = min(grid, key=lambda b: code_length(prob, n, u, c, betas[:i] + [b] + betas[i + 1:]))
    return betas


if __name__ == "__main__":
    import argparse
    import hashlib
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("data", nargs="+", type=Path)
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--orders", default="4,8,12")
    ap.add_argument("--table-bits", type=int, default=18)
    ap.add_argument("--bytes", type=int, default=1 << 20)
    ap.add_argument("--description", default="")
    a = ap.parse_args()
    base = zoo.load(a.model)
    orders = tuple(int(k) for k in a.orders.split(","))
    config = dataclasses.replace(base.config, count_orders=orders, count_betas=(0, 1) * len(orders),
                                 count_table_bits=a.table_bits)
    data = b"".join(f.read_bytes() for f in a.data)[:a.bytes]
    prob, n, u, c = record(config, base.tensors, data)
    betas = search(prob, n, u, c)
    print(f"without counts {code_length(prob, n, u, c, []) / len(prob):.4f} bpb, with betas {betas} "
          f"{code_length(prob, n, u, c, betas) / len(prob):.4f} bpb on {len(prob)} bytes")
    config = dataclasses.replace(config, count_betas=tuple(betas))
    blob = modelfile.dump(a.name, config, base.tensors, a.description)
    a.out.write_bytes(blob)
    print(f"{a.out}: {len(blob)} bytes, sha256 {hashlib.sha256(blob).hexdigest()}")
